/**
 * The compute market's side of the node API: reads of the one ledger's market (the Chain port's
 * `marketProviders` / `marketJobs`, so the in-memory ledger and the ComputeMarket contract answer
 * alike), the operations this node's account may ask for (register as a provider and advertise it,
 * post a job — through the node's market requester when it has one, which then routes, checks and pays
 * it, else directly on the ledger — confirm, dispute or refund one), the market's /metrics samples, and a `market`
 * telemetry snapshot after every committed block in which the market changed (the TUI's market
 * screen and the WebSocket stream read it).
 *
 * Totals are summed from the views (escrow over jobs, bonds over providers, fees over jobs), so
 * they hold for either ledger. A refused operation changes nothing: the ledger validates every
 * operation before its first mutation, and advertising happens only after a registration succeeded.
 */
import { Cause, Effect, Exit } from "effect"
import { parseDuration } from "../core/duration.ts"
import type { JobFilter, JobState, JobView, MarketOp, PostJobReceipt, ProviderView } from "../core/market/index.ts"
import type { Chain } from "../services/chain.ts"
import type { Network } from "../services/network.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { ApiRefusal, type MetricSample } from "./node-api.ts"
import type { MarketJobView, MarketOpResult, MarketProviderView, MarketTotals, PostJobRequest, RegisterProviderRequest, Status } from "./schemas.ts"
import type { TelemetryHub } from "./telemetry-hub.ts"

/** Every job state, in the order of a job's life (the totals and the metric's labels). */
export const JOB_STATES: readonly JobState[] = ["open", "assigned", "disputed", "settled", "expired"]
/** The network key a provider of `kind` announces itself under. */
export const providerKey = (kind: string): string => `market/${kind}`
/** Most jobs a `market` telemetry snapshot carries (the newest): the event stays small on a busy market. */
export const SNAPSHOT_JOBS = 50
/** Least time between two `market` snapshots of a node (ms). */
export const SNAPSHOT_EVERY_MS = 2_000

export interface MarketApiOptions {
  /** The node's name in telemetry. */
  readonly name: string
  /** The ledger account this node acts for. */
  readonly account: string
  readonly ledger: Chain["Service"]
  readonly network: Network["Service"]
  readonly hub: TelemetryHub
  /** The time a job's deadline counts from (ms). */
  readonly now: () => number
  /**
   * The node's market requester (runtime/actors/market/requester.ts): a posted job goes to its
   * `submit`, so it is routed to a provider, checked and paid. Absent: posted on the ledger only.
   */
  readonly requester?: { readonly submit: (spec: { readonly kind: string; readonly units: number; readonly maxPricePerUnit: bigint; readonly deadline: number }) => Promise<PostJobReceipt> }
}

/** The market members of NodeApi. */
export interface MarketApi {
  market(): Promise<MarketTotals>
  marketProviders(): Promise<readonly MarketProviderView[]>
  marketJobs(filter: JobFilter): Promise<readonly MarketJobView[]>
  marketJob(id: number): Promise<MarketJobView | undefined>
  registerProvider(req: RegisterProviderRequest): Promise<MarketOpResult>
  advertiseProvider(): Promise<MarketOpResult>
  postJob(req: PostJobRequest): Promise<MarketOpResult>
  confirmJob(id: number): Promise<MarketOpResult>
  disputeJob(id: number): Promise<MarketOpResult>
  refundJob(id: number): Promise<MarketOpResult>
  metrics(): Promise<readonly MetricSample[]>
  /** The market as of the last snapshot (GET /status), null before the first: no ledger read per call. */
  summary(): Status["market"]
}

const s = (v: bigint) => v.toString()
const asJson = (value: unknown): import("effect").Schema.Json =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as import("effect").Schema.Json
/** Tokens (not base units) as a float, for Prometheus (a float64 cannot hold base units exactly). */
const asTokens = (amount: bigint): number => Number(amount / 10n ** 9n) / 1e9

/** Gross pay of each provider: its paid debit notes, over every job. */
const earnings = (jobs: readonly JobView[]): Map<string, bigint> => {
  const out = new Map<string, bigint>()
  for (const j of jobs) for (const n of j.notes) if (n.state === "paid") out.set(n.provider, (out.get(n.provider) ?? 0n) + n.amount)
  return out
}

/** A provider as the API shows it. */
export const providerView = (p: ProviderView, earned: bigint): MarketProviderView => ({
  address: p.address, bond: s(p.bond), kinds: [...p.kinds], pricePerUnit: s(p.pricePerUnit), capacity: p.capacity, openJobs: p.openJobs,
  retired: p.retired, registeredAt: p.registeredAt, penalized: s(p.penalized), earned: s(earned),
})

/** A job as the API shows it. */
export const jobView = (j: JobView): MarketJobView => ({
  id: j.id, requester: j.requester, kind: j.kind, units: s(j.units), maxPricePerUnit: s(j.maxPricePerUnit), budget: s(j.budget), deadline: j.deadline,
  postedAt: j.postedAt, state: j.state, provider: j.provider ?? null, pricePerUnit: s(j.pricePerUnit), assignedAt: j.assignedAt, lastActivity: j.lastActivity,
  delivered: s(j.delivered), paidUnits: s(j.paidUnits), escrow: s(j.escrow), paid: s(j.paid), feeBurnt: s(j.feeBurnt), feeToStakers: s(j.feeToStakers),
  returned: s(j.returned), compensation: s(j.compensation),
  notes: j.notes.map((n) => ({
    id: n.id, provider: n.provider, units: s(n.units), pricePerUnit: s(n.pricePerUnit), amount: s(n.amount), resultHash: n.resultHash, deliveredAt: n.deliveredAt, state: n.state,
  })),
  excluded: [...j.excluded],
})

/** The market's totals over the ledger's views. */
export const marketTotals = (providers: readonly ProviderView[], jobs: readonly JobView[]): MarketTotals => {
  const byState = { open: 0, assigned: 0, disputed: 0, settled: 0, expired: 0 }
  const t = { escrow: 0n, paid: 0n, paidUnits: 0n, feeBurnt: 0n, feeToStakers: 0n, returned: 0n, compensation: 0n }
  for (const j of jobs) {
    byState[j.state]++
    t.escrow += j.escrow
    t.paid += j.paid
    t.paidUnits += j.paidUnits
    t.feeBurnt += j.feeBurnt
    t.feeToStakers += j.feeToStakers
    t.returned += j.returned
    t.compensation += j.compensation
  }
  return {
    providers: providers.length, activeProviders: providers.filter((p) => !p.retired).length, jobs: byState,
    escrow: s(t.escrow), bonds: s(providers.reduce((a, p) => a + p.bond, 0n)), paid: s(t.paid), paidUnits: s(t.paidUnits), feeBurnt: s(t.feeBurnt), feeToStakers: s(t.feeToStakers),
    returned: s(t.returned), compensation: s(t.compensation),
  }
}

/** The market part of the node API over the ledger, the network and the telemetry hub. */
export const makeMarketApi = (o: MarketApiOptions): MarketApi => {
  const { ledger, network, hub, account } = o

  /** A ledger read; an unreachable ledger is a 503. */
  const read = async <A>(effect: Effect.Effect<A, unknown>): Promise<A> => {
    const exit = await Effect.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    throw new ApiRefusal({ status: 503, reason: `the ledger did not answer: ${Cause.pretty(exit.cause).split("\n")[0]}` })
  }

  const emit = (kind: string, data: Record<string, unknown>) =>
    Effect.runPromise(hub.telemetry.emit({ at: o.now(), node: o.name, kind, data }))

  /** The ledger's refusal as the API answers it: a rule's is a 422 (unknown job 404) naming the rule, an unreachable ledger a 503. */
  const refusal = (error: unknown): ApiRefusal => {
    const e = error as { readonly _tag?: string; readonly message?: string }
    if (e._tag === "ChainUnavailable") return new ApiRefusal({ status: 503, reason: `the ledger did not answer: ${e.message}` })
    const status = e._tag === "MarketUnknownJob" ? 404 : e._tag === "MarketProviderExists" ? 409 : 422
    return new ApiRefusal({ status, reason: `${e._tag ?? "Error"}: ${e.message ?? String(e)}` })
  }

  /** What the API answers for an operation the ledger took (and its telemetry event). */
  const took = async (type: MarketOp["type"], value: unknown): Promise<MarketOpResult> => {
    const receipt = asJson(value)
    await emit(`market.${type}`, { account, ...(receipt as Record<string, unknown>) })
    return { type, account, receipt }
  }

  /** Apply `op` on the ledger for this node's account; a refusal changes nothing. */
  const apply = async (op: MarketOp): Promise<MarketOpResult> => {
    const exit = await Effect.runPromiseExit(ledger.marketOp(op))
    if (Exit.isFailure(exit)) throw refusal(Cause.squash(exit.cause))
    return took(op.type, exit.value)
  }

  const jobResult = async (r: MarketOpResult, id: number): Promise<MarketOpResult> => {
    const j = await read(ledger.marketJob(id))
    return j === undefined ? r : { ...r, job: jobView(j) }
  }

  /** Announce this node's provider record under each of its kinds; the keys announced. */
  const advertise = async (p: ProviderView): Promise<string[]> => {
    const keys = p.kinds.map(providerKey)
    for (const key of keys) {
      const exit = await Effect.runPromiseExit(network.provide(key, { pricePerUnit: p.pricePerUnit, capacity: p.capacity, queue: p.openJobs }))
      if (Exit.isFailure(exit)) throw new ApiRefusal({ status: 503, reason: `registered on the ledger, but the network refused to announce ${key}: ${Cause.pretty(exit.cause).split("\n")[0]} (retry with POST /market/providers/advertise)` })
    }
    return keys
  }

  const self = async (): Promise<ProviderView> => {
    const p = await read(ledger.marketProvider(account))
    if (p === undefined) throw new ApiRefusal({ status: 404, reason: `${account} is not a registered provider: register it first (POST /market/providers, dai provider start)` })
    return p
  }

  const all = async () => {
    const [providers, jobs] = await Promise.all([read(ledger.marketProviders), read(ledger.marketJobs())])
    return { providers, jobs }
  }

  // Jobs for the snapshots, read incrementally: a settled or expired job never changes again, so it is
  // kept and not read again; each snapshot reads the others and any new ids (ids are 1, 2, 3…). On a
  // chain a full read is one call per job ever posted, which a long-running market cannot afford per block.
  const final = new Map<number, JobView>()
  let live: number[] = []
  let nextId = 1
  const jobsNow = async (): Promise<JobView[]> => {
    // The live ones at once (the adapter bounds the reads in flight), then any new ids in turn.
    const fresh: JobView[] = (await Promise.all(live.map((id) => read(ledger.marketJob(id))))).filter((j): j is JobView => j !== undefined)
    for (;;) {
      const j = await read(ledger.marketJob(nextId))
      if (j === undefined) break
      fresh.push(j)
      nextId++
    }
    for (const j of fresh) if (j.state === "settled" || j.state === "expired") final.set(j.id, j)
    live = fresh.filter((j) => !final.has(j.id)).map((j) => j.id)
    return [...final.values(), ...fresh.filter((j) => !final.has(j.id))].sort((a, b) => a.id - b.id)
  }

  // The market snapshot in telemetry: after a committed block, when anything in it changed; at most
  // one per SNAPSHOT_EVERY_MS (a block that comes sooner gets a trailing one).
  let lastFingerprint = ""
  let lastSummary: Status["market"] = null
  let publishing = false
  let lastRun = -Infinity
  let trailing: ReturnType<typeof setTimeout> | undefined
  const snapshot = async (at: number) => {
    if (publishing || trailing !== undefined) return
    const wait = lastRun + SNAPSHOT_EVERY_MS - Date.now()
    if (wait > 0) {
      trailing = setTimeout(() => {
        trailing = undefined
        void snapshot(o.now())
      }, wait)
      trailing.unref?.()
      return
    }
    publishing = true
    lastRun = Date.now()
    try {
      const [providers, jobs] = await Promise.all([read(ledger.marketProviders), jobsNow()])
      const paid = earnings(jobs)
      const data = {
        totals: marketTotals(providers, jobs),
        providers: providers.map((p) => providerView(p, paid.get(p.address) ?? 0n)),
        jobs: jobs.slice(-SNAPSHOT_JOBS).map((j) => ({
          id: j.id, requester: j.requester, kind: j.kind, state: j.state, provider: j.provider ?? null, units: s(j.units), delivered: s(j.delivered),
          paidUnits: s(j.paidUnits), pricePerUnit: s(j.pricePerUnit), maxPricePerUnit: s(j.maxPricePerUnit), paid: s(j.paid), deadline: j.deadline,
        })),
      }
      const fingerprint = JSON.stringify(data)
      if (fingerprint === lastFingerprint) return
      lastFingerprint = fingerprint
      const t = data.totals
      lastSummary = { providers: t.activeProviders, jobs: t.jobs, paidUnits: t.paidUnits, paid: t.paid, feeBurnt: t.feeBurnt, feeToStakers: t.feeToStakers, at }
      await Effect.runPromise(hub.telemetry.emit({ at, node: o.name, kind: "market", data }))
    } catch {
      // An unreachable ledger: the next block tries again.
    } finally {
      publishing = false
    }
  }
  hub.subscribe((e: TelemetryEvent) => {
    if (e.kind === "block.committed" && e.node === o.name) void snapshot(e.at)
  })

  return {
    summary: () => lastSummary,
    market: async () => {
      const { providers, jobs } = await all()
      return marketTotals(providers, jobs)
    },
    marketProviders: async () => {
      const { providers, jobs } = await all()
      const paid = earnings(jobs)
      return providers.map((p) => providerView(p, paid.get(p.address) ?? 0n))
    },
    marketJobs: async (filter) => (await read(ledger.marketJobs(filter))).map(jobView),
    marketJob: async (id) => {
      const j = await read(ledger.marketJob(id))
      return j === undefined ? undefined : jobView(j)
    },
    registerProvider: async (req) => {
      if (new Set(req.kinds).size !== req.kinds.length) throw new ApiRefusal({ status: 400, reason: "kinds: each kind once", field: "kinds" })
      const r = await apply({ type: "registerProvider", provider: account, bond: BigInt(req.bond), kinds: [...req.kinds], pricePerUnit: BigInt(req.pricePerUnit), capacity: req.capacity })
      const p = await self()
      return { ...r, provider: providerView(p, 0n), advertised: await advertise(p) }
    },
    advertiseProvider: async () => {
      const p = await self()
      if (p.retired) throw new ApiRefusal({ status: 422, reason: `MarketProviderRetired: provider ${account} has retired: it takes no job, so it announces none` })
      const { jobs } = await all()
      return { type: "advertise", account, receipt: null, provider: providerView(p, earnings(jobs).get(account) ?? 0n), advertised: await advertise(p) }
    },
    postJob: async (req) => {
      const ms = typeof req.deadline === "number" ? req.deadline : parseDuration(req.deadline)
      if (ms === undefined || !Number.isSafeInteger(ms) || ms <= 0) {
        throw new ApiRefusal({ status: 400, reason: `deadline: ${JSON.stringify(req.deadline)} is not a positive duration (60s, 10m, 1h, 2d, or ms)`, field: "deadline" })
      }
      const op = { type: "postJob", requester: account, kind: req.kind, units: BigInt(req.units), maxPricePerUnit: BigInt(req.maxPricePerUnit), deadline: o.now() + ms } as const
      // Through the requester the job is also routed, checked and paid; the ledger's refusal is the same either way.
      // (A job of more units than a number holds exactly is left to the ledger alone, as before.)
      const r = o.requester === undefined || op.units > BigInt(Number.MAX_SAFE_INTEGER)
        ? await apply(op)
        : await took("postJob", await o.requester.submit({ kind: op.kind, units: Number(op.units), maxPricePerUnit: op.maxPricePerUnit, deadline: op.deadline }).catch((e: unknown) => {
          throw refusal(e)
        }))
      return jobResult(r, Number((r.receipt as { job: number }).job))
    },
    confirmJob: async (id) => jobResult(await apply({ type: "confirm", job: id, by: account }), id),
    disputeJob: async (id) => jobResult(await apply({ type: "dispute", job: id, by: account }), id),
    refundJob: async (id) => jobResult(await apply({ type: "refund", job: id }), id),
    metrics: async () => {
      let view: Awaited<ReturnType<typeof all>>
      try {
        view = await all()
      } catch {
        return [] // no market on this ledger (a chain without ComputeMarket): no market samples
      }
      const t = marketTotals(view.providers, view.jobs)
      return [
        ...JOB_STATES.map((state): MetricSample => ({ name: "dai_market_jobs", help: "Market jobs on the ledger by state.", type: "gauge", value: t.jobs[state], labels: { state } })),
        { name: "dai_market_providers", help: "Market providers registered and not retired.", type: "gauge", value: t.activeProviders },
        { name: "dai_market_escrow_tokens", help: "Job budgets held in market escrow (whole tokens).", type: "gauge", value: asTokens(BigInt(t.escrow)) },
        { name: "dai_market_bonds_tokens", help: "Provider bonds held by the market (whole tokens).", type: "gauge", value: asTokens(BigInt(t.bonds)) },
        { name: "dai_market_paid_tokens_total", help: "Paid to providers since genesis, after fees (whole tokens).", type: "counter", value: asTokens(BigInt(t.paid)) },
        { name: "dai_market_fees_burnt_tokens_total", help: "Market fees burnt since genesis (whole tokens).", type: "counter", value: asTokens(BigInt(t.feeBurnt)) },
        { name: "dai_market_fees_to_stakers_tokens_total", help: "Market fees paid to stakers since genesis (whole tokens).", type: "counter", value: asTokens(BigInt(t.feeToStakers)) },
      ]
    },
  }
}
