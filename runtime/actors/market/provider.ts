/**
 * A compute provider over a node (`MarketContext`): registers on the ledger with a bond, a price and
 * a capacity; advertises `market/<kind>` with its price and queue in the DHT (`provide`, again at every
 * change of its queue); takes every job the ledger assigns to it (told by the requester's `assigned`
 * message, or found when it polls the ledger); runs each job's provider-side machine
 * (runtime/machines/market-provider.ts): computes chunks with the `MarketWork` it was given and
 * delivers each as a debit note, settles what the requester leaves unconfirmed, and stops when the
 * job is taken from it. What the ledger did (notes paid, disputed, judged; the job reclaimed) comes
 * from reading the job on the ledger: the ledger is the only authority, messages only wake it up.
 *
 * A disputed note is defended by its layer trace (core/market/bisection.ts): the provider keeps the
 * trace of each word it delivered (the `trace` of its work's result, or `trace` recomputed on demand)
 * and answers a referee's bisection queries about its notes the ledger shows disputed; it answers
 * `trace-none` for a note it holds no trace of (it loses that dispute at once, as it would by silence).
 */
import { Effect, Result } from "effect"
import { createActor, type Actor } from "xstate"
import { maxNoteUnits, type NoteState } from "../../core/market/index.ts"
import type { ProviderRecord } from "../../core/provider-record.ts"
import { providerJobMachine, type ProviderJobOutput } from "../../machines/market-provider.ts"
import { call, marketKey, reasonOf, type MarketContext } from "./context.ts"
import type { LayerTrace } from "../../core/market/bisection.ts"
import { decodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "./wire.ts"
import { noteRanges, type MarketWork, type WorkTask } from "./work.ts"
import { answerTraceQuery, type TraceQuery } from "./trace-answer.ts"

export interface ProviderOptions {
  /** The ledger account (default: the node's name). */
  readonly account?: string
  /** The job kind served, e.g. "infer:mnist". */
  readonly kind: string
  /** Bond locked at registration (base units). */
  readonly bond: bigint
  readonly pricePerUnit: bigint
  readonly capacity: number
  /** Units per debit note (default 5), fewer when the bond answers for fewer at the job's price (maxNoteUnits). */
  readonly chunk?: number
  readonly work: MarketWork
  /** How often the ledger is read for assignments and the notes' fate (ms, default 1000). */
  readonly pollInterval?: number
  /**
   * Look for assignments not announced (a lost `assigned` message) at every this many polls (default 1).
   * Reading every job the ledger holds is one call per job on a chain: a real node looks less often.
   */
  readonly scanEvery?: number
  /**
   * The trace a delivered word commits to, recomputed (a provider that restarted, or whose work's
   * results carry none): undefined when it cannot (the word is not its computation's).
   */
  readonly trace?: (task: WorkTask, word: string) => LayerTrace | undefined
}

/** Traces a provider keeps of its delivered words (the newest; a dispute comes within the dispute window). */
const MAX_TRACES = 64

export interface ProviderActor {
  /** Jobs running now. */
  readonly active: () => number
  /** Jobs finished, by how they ended. */
  readonly finished: () => readonly ProviderJobOutput[]
  stop(): void
}

interface Run {
  readonly job: number
  readonly kind: string
  readonly assignedAt: number
  actor: Actor<typeof providerJobMachine> | undefined
  /** The next unit to compute. */
  offset: number
  /** This run's notes on the ledger, by id, as last seen. */
  readonly notes: Map<number, NoteState>
  readonly timers: Set<unknown>
  reclaimed: boolean
  done: boolean
}

/** How long a provider waits to register again after the ledger did not answer (ms). */
const REGISTER_RETRY_MS = 5_000

/** Start a provider on `ctx`: register, advertise, serve. */
export const startProvider = (ctx: MarketContext, o: ProviderOptions): ProviderActor => {
  const self = o.account ?? ctx.name
  const key = marketKey(o.kind)
  const pollInterval = o.pollInterval ?? 1_000
  const runs = new Map<string, Run>()
  const finished: ProviderJobOutput[] = []
  let stopped = false
  let registered = false
  let poller: unknown
  /** Word → the trace it commits to, for the bisection of a dispute (insertion order: the oldest goes first). */
  const traces = new Map<string, LayerTrace>()
  const keepTrace = (word: string, trace: LayerTrace | undefined) => {
    if (trace === undefined) return
    traces.delete(word.toLowerCase())
    traces.set(word.toLowerCase(), trace)
    if (traces.size > MAX_TRACES) traces.delete(traces.keys().next().value!)
  }

  /** Answer a referee's bisection query about one of this provider's disputed notes. */
  const answerTrace = (from: string, q: TraceQuery) =>
    call(ctx, ctx.ledger.marketJob(q.job), (j) => {
      const at = j === undefined ? undefined : noteRanges(j).find((r) => r.note.id === q.note)
      // Only a note of this provider's the ledger shows disputed is defended: nobody else's business, nor a settled one's.
      if (j === undefined || at === undefined || at.note.provider !== self || at.note.state !== "disputed") return
      const word = at.note.resultHash.toLowerCase()
      const trace = traces.get(word) ?? o.trace?.({ job: j.id, kind: j.kind, from: at.from, units: Number(at.note.units) }, word)
      if (trace !== undefined) keepTrace(word, trace)
      answerTraceQuery(ctx, from, q, trace)
      if (trace !== undefined) ctx.emit("market.provider.bisection", { job: q.job, note: q.note, query: q.t === "trace-query" ? `${q.level}/${q.index}` : "layer" })
    })

  const advertise = () => {
    if (stopped || !registered) return
    const record: ProviderRecord = { pricePerUnit: o.pricePerUnit, capacity: o.capacity, queue: runs.size }
    call(ctx, ctx.network.provide(key, record), () => {}, (e) => ctx.emit("market.provider.advertise-failed", { reason: reasonOf(e) }))
  }

  /** Read a run's job on the ledger and tell its machine what changed. */
  const refresh = (run: Run) => {
    if (run.done) return
    call(ctx, ctx.ledger.marketJob(run.job), (j) => {
      const actor = run.actor
      if (j === undefined || actor === undefined || run.done) return
      let paid = false, disputed = false, right = false, wrong = false
      for (const n of j.notes) {
        const was = run.notes.get(n.id)
        if (was === undefined || was === n.state) continue
        if (was === "pending" && n.state === "paid") paid = true
        else if (was === "pending" && n.state === "disputed") disputed = true
        else if (was === "disputed" && n.state === "paid") right = true
        else if (was === "disputed" && n.state === "refuted") wrong = true
        run.notes.set(n.id, n.state)
      }
      const at = ctx.now()
      if (disputed) actor.send({ type: "notes.disputed", at })
      if (right) actor.send({ type: "dispute.resolved", providerRight: true, at })
      if (wrong) actor.send({ type: "dispute.resolved", providerRight: false, at })
      if (paid && ![...run.notes.values()].some((s) => s === "pending")) actor.send({ type: "notes.paid", at })
      const mine = j.provider === self && j.assignedAt === run.assignedAt && (j.state === "assigned" || j.state === "disputed")
      if (!mine && !wrong && !run.reclaimed && j.state === "open") {
        run.reclaimed = true
        actor.send({ type: "job.reclaimed", at })
      }
    })
  }

  const begin = (job: number, kind: string, units: number, delivered: number, deadline: number, assignedAt: number, chunk: number) => {
    const id = `${job}@${assignedAt}`
    if (runs.has(id) || stopped) return
    const run: Run = { job, kind, assignedAt, actor: undefined, offset: delivered, notes: new Map(), timers: new Set(), reclaimed: false, done: false }
    runs.set(id, run)
    const p = ctx.params()
    const machine = providerJobMachine.provide({
      actions: {
        compute: (_, { units: n }) => {
          const result = o.work({ job, kind, from: run.offset, units: n, running: runs.size })
          if (result === undefined) return // a stalled backend: the requester's no-show clock runs
          const timer = ctx.clock.setTimeout(() => {
            run.timers.delete(timer)
            if (run.done) return
            run.offset += n
            keepTrace(result.resultHash, result.trace)
            run.actor?.send({ type: "compute.done", units: n, resultHash: result.resultHash, at: ctx.now() })
          }, Math.max(0, result.ms))
          run.timers.add(timer)
        },
        deliver: (_, d) =>
          call(ctx, ctx.ledger.marketOp({ type: "deliver", job: d.job, provider: self, units: BigInt(d.units), resultHash: d.resultHash }), (r) => {
            run.notes.set(r.note, "pending")
            ctx.emit("market.delivered", { job, note: r.note, units: d.units })
            run.actor?.send({ type: "note.recorded", units: d.units, at: ctx.now() })
          }, (e) => run.actor?.send({ type: "deliver.refused", reason: reasonOf(e), at: ctx.now() })),
        settle: (_, s) => call(ctx, ctx.ledger.marketOp({ type: "settle", job: s.job }), () => refresh(run), () => refresh(run)),
        finished: (_, out) => {
          run.done = true
          for (const t of run.timers) ctx.clock.clearTimeout(t)
          runs.delete(id)
          finished.push(out)
          ctx.emit("market.provider.done", { job, status: out.status, delivered: out.delivered, paid: out.paid, refunded: out.refunded, ...(out.reason === undefined ? {} : { reason: out.reason }) })
          advertise()
        },
      },
    })
    ctx.emit("market.provider.started", { job, units, from: delivered })
    run.actor = createActor(machine, {
      clock: ctx.clock as never,
      input: { provider: self, job, units, deadline, now: ctx.now(), params: { noShowTimeout: p["market.noShowTimeout"], disputeWindow: p["market.disputeWindow"] }, chunk },
    })
    advertise()
    run.actor.start()
  }

  /** Take every job the ledger assigned to this provider that is not running yet (at every `scanEvery`th poll, or when told); follow the running ones. */
  let polls = 0
  const poll = (scan = ++polls % (o.scanEvery ?? 1) === 0) => {
    if (stopped) return
    if (scan) call(ctx, ctx.ledger.marketJobs({ provider: self, state: "assigned" }), (jobs) => {
      const fresh = jobs.filter((j) => !runs.has(`${j.id}@${j.assignedAt}`) && j.units > j.delivered && ctx.now() < j.deadline)
      if (fresh.length === 0) return
      // The ledger refuses a note larger than the bond answers for (maxNoteUnits): size the chunks by the bond
      // as it is now (penalties shrink it) and the job's locked price, so an honest delivery never hits the cap.
      call(ctx, ctx.ledger.marketProvider(self), (me) => {
        for (const j of fresh) {
          const cap = maxNoteUnits(me?.bond ?? 0n, j.pricePerUnit, ctx.params())
          const wanted = o.chunk ?? 5
          const chunk = cap === undefined || BigInt(wanted) <= cap ? wanted : Math.max(1, Number(cap))
          begin(j.id, j.kind, Number(j.units - j.delivered), Number(j.delivered), j.deadline, j.assignedAt, chunk)
        }
      })
    })
    for (const run of [...runs.values()]) refresh(run)
  }

  const schedule = () => {
    poller = ctx.clock.setTimeout(() => {
      poll()
      if (!stopped) schedule()
    }, pollInterval)
  }

  let unsubscribe: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (m) => {
    const decoded = decodeMarketMessage(m.data)
    if (Result.isFailure(decoded)) return ctx.fault(m.from, decoded.failure)
    // An assignment is only a hint to read the ledger now; a bisection query is answered from the ledger's note; other messages are not a provider's.
    const msg = decoded.success
    if (msg.t === "assigned") poll(true)
    else if (msg.t === "trace-query" || msg.t === "layer-query") answerTrace(m.from, msg)
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))

  let retry: unknown
  const register = () => call(ctx, ctx.ledger.marketOp({ type: "registerProvider", provider: self, bond: o.bond, kinds: [o.kind], pricePerUnit: o.pricePerUnit, capacity: o.capacity }), (r) => {
    registered = true
    ctx.emit("market.provider.registered", { bond: String(r.bond), price: String(o.pricePerUnit), capacity: o.capacity })
    if (!inline) advertise()
  }, (e) => {
    const tag = typeof e === "object" && e !== null ? (e as { _tag?: string })._tag : undefined
    // Registered before (a restart): serve on the existing registration.
    registered = tag === "MarketProviderExists"
    if (registered) return inline ? undefined : advertise()
    ctx.emit("market.provider.refused", { reason: reasonOf(e) })
    // A ledger that did not answer (a chain under load) is asked again; a refusal by the rules stands.
    if (tag === "ChainUnavailable" && !stopped) retry = ctx.clock.setTimeout(register, REGISTER_RETRY_MS)
  })
  // A ledger that answers at once (the simulator's) has registered before the advertisement below; one
  // that answers later (a chain) advertises when it does.
  let inline = true
  register()
  inline = false
  advertise()
  schedule()

  return {
    active: () => runs.size,
    finished: () => finished,
    stop: () => {
      stopped = true
      ctx.clock.clearTimeout(poller)
      ctx.clock.clearTimeout(retry)
      for (const run of runs.values()) {
        run.done = true
        for (const t of run.timers) ctx.clock.clearTimeout(t)
        run.actor?.stop()
      }
      runs.clear()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
      ctx.run(ctx.network.unprovide(key))
    },
  }
}
