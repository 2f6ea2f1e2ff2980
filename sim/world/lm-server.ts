/**
 * A simulated stage server: a market provider on the one ledger that holds blocks `from..to` of the
 * language model, announces `lm/blocks/<from>-<to>` through the simulated network's `provide` (price,
 * capacity = most sessions, queue = open sessions) as runtime/actors/lm/stage-server.ts does on libp2p,
 * and serves sessions paid by a ledger job assigned to it. It computes with the statistical model of
 * lm-model.ts: one request at a time (requests queue), each taking the bench's time; it bills every
 * token step the client marks `billed` (replayed inputs are not) and delivers a debit note per `chunk`
 * tokens (and the rest when the session closes), whose hash binds the outputs it returned. It settles
 * its own notes once their dispute window is over (a client that never confirms still pays).
 */
import { Effect, Result } from "effect"
import { lmBlocksKey } from "../../runtime/core/lm/wire.ts"
import { call, reasonOf, type MarketContext } from "../../runtime/actors/market/context.ts"
import { LM_SLOW_FACTOR, type LmBehavior } from "../faults/lm.ts"
import { lmKind, noteHash, serviceMs, stageOutput, wrongOutput } from "./lm-model.ts"
import { decodeLmSim, encodeLmSim, LM_SIM_TOPIC, MAX_LM_SIM_MESSAGE_BYTES, type LmSimMessage } from "./lm-wire.ts"

export interface LmServerOptions {
  readonly from: number
  readonly to: number
  readonly bond: bigint
  readonly pricePerUnit: bigint
  /** Most sessions open at once (the ledger's capacity too). */
  readonly capacity: number
  /** Tokens billed per debit note. */
  readonly chunk: number
  /** Read at every request: the server may turn byzantine mid-run. */
  readonly behavior: () => LmBehavior | undefined
}

export interface LmServer {
  /** Billed token steps computed, and of them those with a wrong output. */
  readonly stats: () => { readonly served: number; readonly wrong: number }
  /** Whether this server returned a wrong output in `session` (of client `peer`). */
  readonly spoiled: (peer: string, session: string) => boolean
  stop(): void
}

interface Session {
  readonly job: number
  /** Outputs of billed steps not yet in a note. */
  pending: string[]
  /** Highest forward seq taken (a duplicate or stale request is dropped). */
  lastSeq: number
}

/** Start serving blocks `o.from..o.to` on `ctx` (registering as a provider on the ledger if it is not one yet). */
export const startLmServer = (ctx: MarketContext, o: LmServerOptions): LmServer => {
  const self = ctx.name
  const key = lmBlocksKey(o.from, o.to)
  const kind = lmKind(o.from, o.to)
  const sessions = new Map<string, Session>()
  const spoiled = new Set<string>()
  let busyUntil = ctx.now()
  let stopped = false
  let served = 0
  let wrong = 0
  let unsubscribe: Effect.Effect<void> | undefined

  const announce = () => {
    if (!stopped) ctx.run(Effect.ignore(ctx.network.provide(key, { pricePerUnit: o.pricePerUnit, capacity: o.capacity, queue: sessions.size })))
  }
  const send = (peer: string, m: LmSimMessage) => ctx.run(Effect.ignore(ctx.network.send(peer, LM_SIM_TOPIC, encodeLmSim(m))))
  const fail = (peer: string, session: string, message: string, seq?: number) => send(peer, { t: "error", session, ...(seq === undefined ? {} : { seq }), message })

  const settleLater = (job: number) => {
    ctx.clock.setTimeout(() => call(ctx, ctx.ledger.marketOp({ type: "settle", job }), (r) => ctx.emit("lm.stage.settled", { job, notes: r.payments.length })), ctx.params()["market.disputeWindow"] + 1)
  }
  const deliver = (s: Session) => {
    if (s.pending.length === 0) return
    const outputs = s.pending
    s.pending = []
    call(ctx, ctx.ledger.marketOp({ type: "deliver", job: s.job, provider: self, units: BigInt(outputs.length), resultHash: noteHash(outputs) }), (r) => {
      ctx.emit("lm.stage.delivered", { job: s.job, note: r.note, units: outputs.length })
      settleLater(s.job)
    }, (e) => ctx.emit("lm.stage.deliver-refused", { job: s.job, units: outputs.length, reason: reasonOf(e) }))
  }
  const close = (id: string, why: string) => {
    const s = sessions.get(id)
    if (s === undefined) return
    deliver(s)
    sessions.delete(id)
    ctx.emit("lm.session.closed", { key, session: id, why })
    announce()
  }

  const onMessage = (peer: string, m: LmSimMessage) => {
    if (stopped) return
    if (m.t !== "open" && m.t !== "forward" && m.t !== "close") return ctx.fault(peer, `lm: a client message sent to a stage server (${m.t})`)
    const id = `${peer}/${m.session}`
    if (m.t === "close") return close(id, "closed")
    if (m.t === "open") {
      if (m.from !== o.from || m.to !== o.to) return fail(peer, m.session, `this server holds blocks ${o.from}-${o.to}, not ${m.from}-${m.to}`)
      if (sessions.size >= o.capacity) return fail(peer, m.session, `busy: ${sessions.size} sessions open (capacity ${o.capacity})`)
      // A session is paid by a ledger job of this range assigned to this server, from this client.
      return call(ctx, ctx.ledger.marketJob(m.job), (job) => {
        if (job === undefined || job.provider !== self || job.state !== "assigned" || job.kind !== kind || job.requester !== peer) {
          return fail(peer, m.session, `job ${m.job} is not a ${kind} job of yours assigned to ${self}`)
        }
        sessions.set(id, { job: m.job, pending: [], lastSeq: -1 })
        ctx.emit("lm.session.opened", { key, session: m.session, client: peer, job: m.job })
        announce()
        send(peer, { t: "opened", session: m.session })
      }, (e) => fail(peer, m.session, `cannot read job ${m.job}: ${reasonOf(e)}`))
    }
    const s = sessions.get(id)
    if (s === undefined) return fail(peer, m.session, `no open session ${m.session} here: open one and replay its inputs`, m.seq)
    if (m.seq <= s.lastSeq) return // a duplicate or a stale request: computed once, billed once
    s.lastSeq = m.seq
    const b = o.behavior()
    if (b === "no-show") return // takes the request, never answers
    const cheat = b === "wrong-stage"
    // One request at a time: this one starts when the ones before it are done (fractional ms kept, so rounding does not change the throughput).
    const start = Math.max(ctx.now(), busyUntil)
    busyUntil = start + (cheat ? 0 : serviceMs(o.from, o.to, m.length, b === "slow" ? LM_SLOW_FACTOR : 1))
    ctx.clock.setTimeout(() => {
      if (stopped || sessions.get(id) !== s) return
      const output = cheat ? wrongOutput(o.from, o.to, m.input) : stageOutput(o.from, o.to, m.input)
      if (cheat) spoiled.add(id)
      if (m.billed) {
        served++
        if (cheat) wrong++
        s.pending.push(output)
        if (s.pending.length >= o.chunk) deliver(s)
      }
      send(peer, { t: "result", session: m.session, seq: m.seq, output })
    }, Math.ceil(busyUntil) - ctx.now())
  }

  // Register on the ledger once (a restarted server keeps its registration and bond).
  call(ctx, ctx.ledger.marketProvider(self), (p) => {
    if (p !== undefined) return
    call(ctx, ctx.ledger.marketOp({ type: "registerProvider", provider: self, bond: o.bond, kinds: [kind], pricePerUnit: o.pricePerUnit, capacity: o.capacity }), () => undefined,
      (e) => ctx.emit("lm.stage.register-refused", { reason: reasonOf(e) }))
  })
  ctx.run(Effect.map(ctx.network.subscribe(LM_SIM_TOPIC, (env) => {
    const d = decodeLmSim(env.data)
    if (Result.isFailure(d)) return ctx.fault(env.from, d.failure)
    onMessage(env.from, d.success)
  }, { maxBytes: MAX_LM_SIM_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))
  announce()
  ctx.emit("lm.stage.started", { key, from: o.from, to: o.to, capacity: o.capacity })

  return {
    stats: () => ({ served, wrong }),
    spoiled: (peer, session) => spoiled.has(`${peer}/${session}`),
    stop: () => {
      if (stopped) return
      stopped = true
      sessions.clear() // what it computed and did not deliver is lost with it
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}
