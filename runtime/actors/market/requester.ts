/**
 * A requester over a node (`MarketContext`): posts a job every `interval` with a budget in escrow,
 * finds providers of the job's kind in the DHT (`findProviders`), routes with `chooseProvider`
 * (power of two choices over measured time per unit and price, runtime/core/market/routing.ts), and
 * runs the job's requester-side machine (runtime/machines/market.ts) against the ledger.
 *
 * Checking what it pays for: every delivery is a debit note on the ledger. With probability
 * `market.verificationRate` (drawn from the node's seeded randomness) a delivery is re-executed by a
 * referee, an active validator of the ledger drawn the same way; until the referee answers nothing of
 * the job is confirmed. A refuted result is disputed on the ledger and the referee is asked for the
 * committee's verdict (it re-executes again itself: a requester cannot get an honest provider slashed).
 * A provider that stalls loses the job by `reclaimNoShow` (the machine's clock) and the job goes to
 * another (failover). A provider whose ledger price is above what it advertised is never given a job
 * by this requester again, nor is one whose bond answers for no unit at its price (`maxNoteUnits` 0:
 * every delivery of it would be refused).
 *
 * Besides its stream (optional: `stream`), `submit` runs one job someone asked for (the node API's
 * `POST /market/jobs`) through the same machine: the node's account posts it, and it is routed,
 * checked and paid like the stream's.
 *
 * No escrow is left behind. A post the ledger did not answer (`ChainUnavailable`: on a chain the
 * adapter gave up after its timeout, but the transaction may still be mined) is remembered; the
 * requester then reads its own jobs (`marketJobs({ requester })`) until it finds one posted with that
 * post's terms (kind, units, price cap, deadline to the chain's second) that none of its runs holds,
 * and runs it like any other (`market.job.adopted`). Its own live jobs that no run holds once their
 * deadline has passed (a lost post found late, a job of an earlier run of the node) it refunds itself
 * (`market.job.swept`): `refund` is anyone's, but nobody else has a reason to send it. It reads them
 * while a lost post is unresolved, and every `sweepInterval` when given (a node's requester): requester-sweep.ts.
 */
import { Effect, Result } from "effect"
import { createActor, type Actor } from "xstate"
import { maxNoteUnits, type PostJobReceipt } from "../../core/market/index.ts"
import { chooseProvider, LatencyEstimator, type Candidate } from "../../core/market/routing.ts"
import { marketJobMachine, type MarketJobOutput } from "../../machines/market.ts"
import type { ProviderInfo } from "../../services/network.ts"
import { call, chance, marketKey, randomInt, reasonOf, type MarketContext } from "./context.ts"
import { isUnanswered, makeSweeper, type JobSpec } from "./requester-sweep.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES, type MarketMessage } from "./wire.ts"

export type { JobSpec }

/** A stream of jobs the requester posts by itself (the simulator's requesters, the devnet's). */
export interface StreamOptions {
  readonly kind: string
  /** Units of work per job. */
  readonly units: number
  readonly maxPricePerUnit: bigint
  /** How long a job may take: deadline = posting time + this (ms). */
  readonly deadline: number
  /** Time between two jobs (ms). */
  readonly interval: number
  /** When the first job is posted (ledger time, ms; default now + interval). */
  readonly firstAt?: number
  /** No job is posted at or after this time (default: never stops). */
  readonly stopPostingAt?: number
  /** How often running jobs are read on the ledger (ms, default 500). */
  readonly pollInterval?: number
  /** How long a referee has to answer before another is asked (ms, default 5000). */
  readonly refereeTimeout?: number
  /** How often the providers' records are read again while jobs run (ms, default 2000). */
  readonly refreshInterval?: number
  /** Whether it confirms, disputes and settles (default yes). The simulator's `never-confirm` says no. */
  readonly confirms?: () => boolean
  /** Post no new job while this many of its jobs (submitted ones included) are still running (default: no limit). A slow ledger then sees no pile-up. */
  readonly maxRunning?: number
  /** As RequesterBaseOptions.sweepInterval. */
  readonly sweepInterval?: number
}

/** A requester without a stream: it runs only the jobs given to `submit`. */
export interface RequesterBaseOptions {
  /** The ledger account (default: the node's name). */
  readonly account?: string
  /** How often running jobs are read on the ledger (ms, default 500). */
  readonly pollInterval?: number
  /** How long a referee has to answer before another is asked (ms, default 5000). */
  readonly refereeTimeout?: number
  /** How often the providers' records are read again while jobs run (ms, default 2000). */
  readonly refreshInterval?: number
  /** Whether it confirms, disputes and settles (default yes). */
  readonly confirms?: () => boolean
  /** Read its own jobs every this many ms for ones no run holds (refunded past their deadline). Default: only while a post is unanswered. */
  readonly sweepInterval?: number
}

/** A requester with a stream (`kind`, `interval`…), or without one (only `submit`). */
export type RequesterOptions = StreamOptions & { readonly account?: string } | RequesterBaseOptions

export interface RequesterActor {
  /** Jobs started (the stream's and the submitted ones). */
  readonly posted: () => number
  /**
   * Run one job through the job machine (post, route, assign, check, confirm or dispute, settle or
   * refund). Resolves with the ledger's receipt once the job is posted (its `job` is the id); rejects
   * with the ledger's refusal unchanged (the ledger then changed nothing), or an Error when stopped.
   */
  readonly submit: (spec: JobSpec) => Promise<PostJobReceipt>
  readonly finished: () => readonly MarketJobOutput[]
  /** Providers this requester caught announcing a lower price than the ledger's. */
  readonly blocked: () => readonly string[]
  stop(): void
}

interface JobRun {
  readonly seq: number
  readonly kind: string
  /** A job the ledger holds already (a lost post found again): the machine's post is not sent. */
  readonly adopt?: number
  /** Told once whether the ledger took the job (submitted jobs). */
  readonly onPosted?: (r: PostJobReceipt) => void
  readonly onRefused?: (e: unknown) => void
  actor: Actor<typeof marketJobMachine> | undefined
  job: number | undefined
  /** Note ids seen, and the state of those we disputed. */
  readonly seen: Set<number>
  disputedNotes: readonly number[]
  /** Notes seen and not confirmed yet. */
  unconfirmed: boolean
  /** A delivery drawn for re-execution, not yet sent to a referee. */
  needCheck: boolean
  checking: { readonly nonce: number; readonly referee: string; readonly timer: unknown } | undefined
  refutedBy: string | undefined
  /** The current provider, when it was given the job, the load it advertised, and what it delivered since. */
  assigned: { readonly provider: string; readonly at: number; readonly load: number; units: number; lastAt: number } | undefined
  done: boolean
}

/** Start a requester on `ctx`: post, route, check, pay. */
export const startRequester = (ctx: MarketContext, o: RequesterOptions): RequesterActor => {
  const self = o.account ?? ctx.name
  const stream = "interval" in o ? o : undefined
  const pollInterval = o.pollInterval ?? 500
  const refereeTimeout = o.refereeTimeout ?? 5_000
  const refreshInterval = o.refreshInterval ?? 2_000
  const confirms = o.confirms ?? (() => true)
  const latency = new LatencyEstimator()
  const runs = new Map<number, JobRun>()
  const byJob = new Map<number, JobRun>()
  const finished: MarketJobOutput[] = []
  const blocked = new Set<string>()
  // The records found per job kind (the stream's, and those of submitted jobs).
  const candidates = new Map<string, readonly ProviderInfo[]>()
  // Providers whose bond answers for no unit at their price (maxNoteUnits 0), as of their last ledger read; forgotten at each refresh.
  const underBonded = new Set<string>()
  const pending = new Set<JobRun>()
  let stopped = false
  let seq = 0
  let nonce = 0
  let poster: unknown
  let poller: unknown
  let refresher: unknown
  const rng = { int: (n: number) => randomInt(ctx, n) }
  // No escrow left behind by a ledger that did not answer (requester-sweep.ts).
  const sweeper = makeSweeper(ctx, {
    self, interval: o.sweepInterval, held: (job) => byJob.has(job), stopped: () => stopped,
    adopt: (spec, job) => runJob(spec, ctx.now(), { adopt: job.id }),
  })
  let lastLoad = 0

  /** Tell a job's machine what happened; a job that ended hears nothing more (a late answer of a slow ledger). */
  const tell = (run: JobRun, event: Parameters<Actor<typeof marketJobMachine>["send"]>[0]) => {
    if (!run.done) run.actor?.send(event)
  }

  const send = (to: string, m: MarketMessage) => ctx.run(Effect.ignore(ctx.network.send(to, MARKET_TOPIC, encodeMarketMessage(m))))

  const findProviders = (kind: string, then: () => void = () => {}) =>
    call(ctx, ctx.network.findProviders(marketKey(kind)), (found) => {
      candidates.set(kind, found)
      then()
    }, () => then())

  /** Ask a referee (an active validator of the ledger, drawn at random) to re-execute the job's pending notes. */
  const askReferee = (run: JobRun) => {
    call(ctx, ctx.ledger.pools, (pools) => {
      const referees = pools.filter((p) => p.kind === "validator" && !p.jailed && !p.tombstoned && p.tokens > 0n).map((p) => p.operator).sort()
      if (referees.length === 0 || run.job === undefined || run.done) return
      const referee = referees[randomInt(ctx, referees.length)]!
      const n = ++nonce
      const timer = ctx.clock.setTimeout(() => {
        // No answer: ask again (another draw) at the next look at the job.
        if (run.checking?.nonce === n) {
          run.checking = undefined
          run.needCheck = true
        }
      }, refereeTimeout)
      run.checking = { nonce: n, referee, timer }
      run.needCheck = false
      ctx.emit("market.check", { job: run.job, referee })
      send(referee, { v: 1, t: "check", job: run.job, nonce: n })
    })
  }

  /** After a look at the job: confirm what was checked, or have it checked first. */
  const decide = (run: JobRun) => {
    if (run.done || run.actor === undefined || !confirms()) return
    if (run.checking !== undefined) return
    if (run.needCheck) return askReferee(run)
    if (run.unconfirmed) {
      run.unconfirmed = false
      run.actor.send({ type: "result.verified", at: ctx.now() })
    }
  }

  /** Read the job on the ledger: new deliveries, the verdict on a dispute. */
  const look = (run: JobRun) => {
    if (run.job === undefined || run.done) return
    call(ctx, ctx.ledger.marketJob(run.job), (j) => {
      const actor = run.actor
      if (j === undefined || actor === undefined || run.done) return
      const rate = ctx.params()["market.verificationRate"]
      for (const n of j.notes) {
        if (run.seen.has(n.id)) continue
        run.seen.add(n.id)
        if (run.assigned !== undefined && n.provider === run.assigned.provider) {
          run.assigned.units += Number(n.units)
          run.assigned.lastAt = n.deliveredAt
        }
        actor.send({ type: "note.delivered", provider: n.provider, units: Number(n.units), at: n.deliveredAt })
        run.unconfirmed = true
        if (chance(ctx, rate)) run.needCheck = true
      }
      if (run.disputedNotes.length > 0 && j.state !== "disputed") {
        const refuted = j.notes.some((n) => run.disputedNotes.includes(n.id) && n.state === "refuted")
        run.disputedNotes = []
        actor.send({ type: "dispute.resolved", providerRight: !refuted, at: ctx.now() })
      }
      decide(run)
    })
  }

  /** Start one job's machine (the stream's or a submitted one). */
  const runJob = (spec: JobSpec, now: number, told: { onPosted?: (r: PostJobReceipt) => void; onRefused?: (e: unknown) => void; adopt?: number } = {}) => {
    const run: JobRun = {
      seq: ++seq, kind: spec.kind, ...told, actor: undefined, job: undefined, seen: new Set(), disputedNotes: [], unconfirmed: false, needCheck: false, checking: undefined,
      refutedBy: undefined, assigned: undefined, done: false,
    }
    runs.set(run.seq, run)
    if (told.onPosted !== undefined) pending.add(run)
    const p = ctx.params()
    const machine = marketJobMachine.provide({
      actions: {
        postJob: (_, j) => {
          if (run.adopt !== undefined) {
            run.job = run.adopt
            byJob.set(run.adopt, run)
            return tell(run, { type: "job.posted", job: run.adopt, at: ctx.now() })
          }
          sweeper.posting(1)
          call(ctx, ctx.ledger.marketOp({ type: "postJob", requester: self, kind: j.kind, units: BigInt(j.units), maxPricePerUnit: j.maxPricePerUnit, deadline: j.deadline }), (r) => {
            sweeper.posting(-1)
            run.job = r.job
            byJob.set(r.job, run)
            ctx.emit("market.job.posted", { job: r.job, units: j.units, budget: String(r.budget) })
            pending.delete(run)
            run.onPosted?.(r)
            tell(run, { type: "job.posted", job: r.job, at: ctx.now() })
          }, (e) => {
            sweeper.posting(-1)
            // Not a refusal: the ledger did not answer, and may have taken the post all the same.
            if (isUnanswered(e)) sweeper.lostPost({ kind: j.kind, units: j.units, maxPricePerUnit: j.maxPricePerUnit, deadline: j.deadline })
            pending.delete(run)
            run.onRefused?.(e)
            tell(run, { type: "job.refused", reason: reasonOf(e), at: ctx.now() })
          })
        },
        assignJob: (_, a) => {
          const advertised = candidates.get(run.kind)?.find((c) => c.peer === a.provider)
          call(ctx, ctx.ledger.marketProvider(a.provider), (onLedger) => {
            // A bond that answers for no unit at the job's price: every note it delivered would be refused.
            const price = onLedger === undefined ? 0n : onLedger.pricePerUnit < spec.maxPricePerUnit ? onLedger.pricePerUnit : spec.maxPricePerUnit
            if (onLedger !== undefined && maxNoteUnits(onLedger.bond, price, ctx.params()) === 0n) {
              underBonded.add(a.provider)
              ctx.emit("market.under-bonded", { job: a.job, provider: a.provider, bond: String(onLedger.bond) })
              tell(run, { type: "assign.refused", provider: a.provider, reason: "its bond answers for no unit at its price (maxNoteUnits 0)", at: ctx.now() })
              return
            }
            // The ledger locks its own price (at most the cap): one above the announced price is a bait.
            if (onLedger !== undefined && advertised !== undefined && onLedger.pricePerUnit > advertised.record.pricePerUnit) {
              blocked.add(a.provider)
              ctx.emit("market.overcharge", { job: a.job, provider: a.provider, advertised: String(advertised.record.pricePerUnit), ledger: String(onLedger.pricePerUnit) })
              tell(run, { type: "assign.refused", provider: a.provider, reason: "its ledger price is above the price it announces", at: ctx.now() })
              return
            }
            const assigned = () => {
              const at = ctx.now()
              run.assigned = { provider: a.provider, at, load: lastLoad, units: 0, lastAt: at }
              ctx.emit("market.job.assigned", { job: a.job, provider: a.provider })
              tell(run, { type: "job.assigned", provider: a.provider, at })
              send(a.provider, { v: 1, t: "assigned", job: a.job })
            }
            call(ctx, ctx.ledger.marketOp({ type: "assignJob", job: a.job, provider: a.provider, by: self }), assigned, (e) =>
              // Unanswered, it may have been mined all the same: the ledger says whether the provider holds the job.
              sweeper.tookEffect(a.job, e, (j) => j.state !== "open" && j.provider === a.provider, assigned, () =>
                tell(run, { type: "assign.refused", provider: a.provider, reason: reasonOf(e), at: ctx.now() })))
          }, (e) => tell(run, { type: "assign.refused", provider: a.provider, reason: reasonOf(e), at: ctx.now() }))
        },
        confirm: (_, c) => call(ctx, ctx.ledger.marketOp({ type: "confirm", job: c.job, by: self }), () => ctx.emit("market.confirmed", { job: c.job, units: c.units })),
        dispute: (_, d) => {
          if (!confirms()) return
          call(ctx, ctx.ledger.marketOp({ type: "dispute", job: d.job, by: self }), (r) => {
            run.disputedNotes = r.notes
            ctx.emit("market.disputed", { job: d.job, notes: r.notes.length })
            // The committee's verdict: the referee re-executes the disputed notes itself.
            if (run.refutedBy !== undefined) send(run.refutedBy, { v: 1, t: "resolve", job: d.job })
          }, (e) => ctx.emit("market.dispute-refused", { job: d.job, reason: reasonOf(e) }))
        },
        settle: (_, s) => {
          if (confirms()) call(ctx, ctx.ledger.marketOp({ type: "settle", job: s.job }), () => {})
        },
        reclaimNoShow: (_, r) => {
          const reopened = (penalty: string) => {
            ctx.emit("market.no-show", { job: r.job, provider: r.provider, penalty })
            run.assigned = undefined
            tell(run, { type: "job.reopened", at: ctx.now() })
          }
          call(ctx, ctx.ledger.marketOp({ type: "reclaimNoShow", job: r.job, by: self }), (receipt) => reopened(String(receipt.penalty)), (e) =>
            // An unanswered reclaim (or an earlier one) may have taken the job back: then it is open, or another's,
            // and asking again would be refused for ever (MarketJobNotAssigned) while the job waits for nobody.
            sweeper.tookEffect(r.job, e, (j) => j.provider !== r.provider, () => reopened("unknown"), () =>
              tell(run, { type: "reclaim.refused", reason: reasonOf(e), at: ctx.now() })))
        },
        refund: (_, r) => call(ctx, ctx.ledger.marketOp({ type: "refund", job: r.job }), () => {}),
        finished: (_, out) => {
          run.done = true
          if (run.checking !== undefined) ctx.clock.clearTimeout(run.checking.timer)
          runs.delete(run.seq)
          if (run.job !== undefined) byJob.delete(run.job)
          finished.push(out)
          const a = run.assigned
          if (out.status === "settled" && a !== undefined && a.units > 0) latency.observe(a.provider, a.lastAt - a.at, a.units, a.load)
          ctx.emit("market.job.finished", { ...(out.job === undefined ? {} : { job: out.job }), status: out.status, paid: out.paid, refunded: out.refunded, providers: out.providers.length, ...(out.reason === undefined ? {} : { reason: out.reason }) })
        },
      },
    })
    run.actor = createActor(machine, {
      clock: ctx.clock as never,
      input: {
        requester: self, kind: spec.kind, units: spec.units, maxPricePerUnit: spec.maxPricePerUnit, deadline: spec.deadline, now,
        params: { noShowTimeout: p["market.noShowTimeout"], disputeWindow: p["market.disputeWindow"] },
        retryInterval: 2_000,
        route: (r) => {
          const exclude = new Set([...r.exclude, ...blocked, ...underBonded])
          const choice = chooseProvider((candidates.get(run.kind) ?? []) as readonly Candidate[], { units: r.units, maxPricePerUnit: r.maxPricePerUnit, exclude }, latency, rng)
          if (!choice.ok) return undefined
          lastLoad = choice.provider.record.queue / choice.provider.record.capacity
          return choice.provider.peer
        },
      },
    })
    // Fresh records before routing (the machine routes as soon as the ledger has the job).
    findProviders(spec.kind, () => run.actor?.start())
  }

  /** The stream's next job, unless stopped, past its end or at its limit of running jobs. */
  const post = () => {
    if (stopped || stream === undefined) return
    const now = ctx.now()
    if (stream.stopPostingAt !== undefined && now >= stream.stopPostingAt) return
    if (stream.maxRunning !== undefined && runs.size >= stream.maxRunning) return
    runJob({ kind: stream.kind, units: stream.units, maxPricePerUnit: stream.maxPricePerUnit, deadline: now + stream.deadline }, now)
  }

  const every = (ms: number, fn: () => void, set: (t: unknown) => void, first = ms) => {
    const tick = () => {
      if (stopped) return
      fn()
      set(ctx.clock.setTimeout(tick, ms))
    }
    set(ctx.clock.setTimeout(tick, Math.max(0, first)))
  }

  let unsubscribe: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (m) => {
    const decoded = decodeMarketMessage(m.data)
    if (Result.isFailure(decoded)) return ctx.fault(m.from, decoded.failure)
    const msg = decoded.success
    if (msg.t !== "verdict") return
    const run = byJob.get(msg.job)
    // Only the referee asked, for the check asked, is heard.
    if (run === undefined || run.checking === undefined || run.checking.nonce !== msg.nonce || run.checking.referee !== m.from) return
    ctx.clock.clearTimeout(run.checking.timer)
    run.checking = undefined
    ctx.emit("market.verdict", { job: msg.job, referee: m.from, ok: msg.ok })
    if (msg.ok) return decide(run)
    run.refutedBy = m.from
    run.unconfirmed = false
    tell(run, { type: "result.refuted", at: ctx.now() })
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))

  if (stream !== undefined) every(stream.interval, post, (t) => void (poster = t), (stream.firstAt ?? ctx.now() + stream.interval) - ctx.now())
  every(pollInterval, () => {
    for (const run of [...runs.values()]) look(run)
    sweeper.tick()
  }, (t) => void (poller = t))
  // Fresh records for the jobs waiting for a provider (a full one may have room again, a new one may have come).
  every(refreshInterval, () => {
    if (runs.size === 0) return
    underBonded.clear()
    // One look per kind running (the stream's alone: one, as before submitted jobs existed).
    for (const kind of new Set([...runs.values()].map((r) => r.kind))) {
      findProviders(kind, () => {
        for (const run of [...runs.values()]) if (run.kind === kind) tell(run, { type: "providers.changed", at: ctx.now() })
      })
    }
  }, (t) => void (refresher = t))

  return {
    posted: () => seq,
    submit: (spec) =>
      new Promise<PostJobReceipt>((resolve, reject) => {
        if (stopped) return reject(new Error("the requester has stopped"))
        runJob(spec, ctx.now(), { onPosted: resolve, onRefused: reject })
      }),
    finished: () => finished,
    blocked: () => [...blocked].sort(),
    stop: () => {
      stopped = true
      ctx.clock.clearTimeout(poster)
      ctx.clock.clearTimeout(poller)
      ctx.clock.clearTimeout(refresher)
      for (const run of runs.values()) {
        run.done = true
        if (run.checking !== undefined) ctx.clock.clearTimeout(run.checking.timer)
        run.actor?.stop()
      }
      runs.clear()
      for (const run of pending) run.onRefused?.(new Error("the requester stopped before the job was posted"))
      pending.clear()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}

