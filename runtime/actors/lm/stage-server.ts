/**
 * The stage server of pipeline inference: a node holding blocks from..to of the language model
 * announces `lm/blocks/<from>-<to>` (price, capacity = most open sessions, queue = open sessions)
 * and serves sessions over direct messages (runtime/core/lm/wire.ts). Each session is one client's
 * generation and keeps its attention caches, so a client sends only the new positions each step;
 * it ends on `close`, after `idleMs` without a message, or when the server stops.
 *
 * Sessions are per sender: a session id names a session of the peer that opened it, so one client
 * cannot touch another's. A malformed request is refused unread and counts as a fault of its sender;
 * a well-formed request the server cannot serve (unknown session, out-of-order positions, wrong
 * shape, full) gets an `error` reply saying why, which the client treats as this stage failing.
 *
 * Paid (`market`): a session opens only on a market job of its client for this range, assigned to this
 * server's account, and every forward answered is billed to it (paid.ts): a debit note per chunk of
 * tokens, the rest at close. The announced price is the ledger's price per token. Each note commits to
 * the stage's backend (core/lm/backend.ts), and its evidence is kept until it is settled so that the
 * server can defend it in a dispute (defense.ts).
 */
import { Effect, Result } from "effect"
import type { PipelineSession, PipelineStage } from "../../core/lm/pipeline.ts"
import type { LmRows } from "../../core/lm/trace.ts"
import { type ClientMessage, decodeServerMessage, encodeClientMessage, LM_CLIENT_TOPIC, LM_SERVER_TOPIC, lmBlocksKey, type LmInput, MAX_LM_MESSAGE_BYTES, type ServerMessage } from "../../core/lm/wire.ts"
import { type LmContext, sendQuietly } from "./context.ts"
import { DEFAULT_LM_BACKEND } from "../../core/lm/backend.ts"
import { startStageDefense, type StageDefense, type StageDefenseOptions } from "./defense.ts"
import { type SessionBill, stageBilling, type StageMarket } from "./paid.ts"
import { rowsOf, stageStep, stageTraceStep, type StageOutput } from "./stage-step.ts"
import { startLmTraceAnswers } from "./trace-work.ts"

export interface StageServerOptions {
  readonly stage: PipelineStage
  /** Close a session after this long without a message from its client. Default 60 s. */
  readonly idleMs?: number
  /** Most sessions open at once (the announced capacity). Default 16. */
  readonly maxSessions?: number
  /** Announced price per unit: per token (the ledger's price when paid). Default 0. */
  readonly pricePerUnit?: bigint
  /** Paid per token through the market: sessions open only on a job assigned to `market.account`. */
  readonly market?: StageMarket
  /** Paid: how the server defends its notes in a dispute (defense.ts; default on with its defaults); false: it does not. */
  readonly defense?: Omit<StageDefenseOptions, "account" | "from" | "to" | "backend"> | false
  /** Test-only behaviour: return wrong outputs (the first value of each off by 0.5), committed to in the notes as sent. */
  readonly wrongOutputs?: boolean
}

export interface StageServer {
  /** The DHT key it announces. */
  readonly key: string
  /** Sessions open now. */
  readonly sessions: number
  /** Forward requests served since the start. */
  readonly served: number
  /** Tokens billed to market jobs, and delivered in debit notes (0 when not paid). */
  readonly billed: number
  readonly delivered: number
  /** Stop serving: unsubscribe, withdraw the announcement, close every session. */
  stop(): void
}

interface Open {
  readonly session: PipelineSession
  timer: unknown
  readonly bill?: SessionBill
}

/** Serves `stage` on the node's network until `stop`. */
export function startStageServer(ctx: LmContext, options: StageServerOptions): StageServer {
  const { stage } = options
  const idleMs = options.idleMs ?? 60_000
  const maxSessions = options.maxSessions ?? 16
  const key = lmBlocksKey(stage.from, stage.to)
  const open = new Map<string, Open>()
  const backend = stage.backend ?? DEFAULT_LM_BACKEND
  const market = options.market
  const defense: StageDefense | undefined = market === undefined || options.defense === false ? undefined : startStageDefense(
    { ...ctx, ledger: market.ctx.ledger, params: market.ctx.params },
    { ...(options.defense ?? {}), account: market.account, from: stage.from, to: stage.to, backend },
  )
  const billing = market === undefined ? undefined : stageBilling({
    ...market, backend,
    onDelivered: (job, note, e) => {
      defense?.keep(job, note, e)
      market.onDelivered?.(job, note, e)
    },
  })
  // A paid server defends its disputed notes' traces against a referee's bisection.
  const stopAnswers = billing === undefined || market === undefined ? undefined : startLmTraceAnswers({ ...ctx, ledger: market.ctx.ledger }, { account: market.account, traceOf: billing.traceOf })
  // Opens waiting for the ledger's answer about their job (they count against the capacity).
  const opening = new Set<string>()
  let served = 0
  let stopped = false
  let unsubscribe: Effect.Effect<void> | undefined

  const announce = (): void => {
    if (stopped) return
    ctx.run(Effect.catch(ctx.network.provide(key, { pricePerUnit: options.pricePerUnit ?? 0n, capacity: maxSessions, queue: open.size }), (e) =>
      Effect.sync(() => ctx.emit("lm.stage.announce-failed", { key, reason: e.reason }))))
  }
  const reply = (peer: string, m: ClientMessage): void => sendQuietly(ctx, peer, LM_CLIENT_TOPIC, encodeClientMessage(m))
  const fail = (peer: string, session: string, message: string, seq?: number): void =>
    reply(peer, { v: 1, t: "error", session, ...(seq === undefined ? {} : { seq }), message })

  const closeSession = (id: string, why: string): void => {
    const s = open.get(id)
    if (s === undefined) return
    ctx.clock.clearTimeout(s.timer)
    s.session.close()
    s.bill?.flush()
    open.delete(id)
    ctx.emit("lm.session.closed", { key, session: id, why, positions: s.session.position })
    announce()
  }
  const touch = (id: string, s: Open): void => {
    ctx.clock.clearTimeout(s.timer)
    s.timer = ctx.clock.setTimeout(() => closeSession(id, "idle"), idleMs)
  }

  const forward = (peer: string, m: Extract<ServerMessage, { t: "forward" }>): void => {
    const id = `${peer}/${m.session}`
    const s = open.get(id)
    if (s === undefined) return fail(peer, m.session, `no open session ${m.session} here (closed, idle past ${idleMs} ms, or this server restarted): open one and replay its inputs`, m.seq)
    touch(id, s)
    if (stage.embeds !== (m.input === "tokens")) return fail(peer, m.session, `blocks ${stage.from}-${stage.to} take ${stage.embeds ? "tokens" : "activations"}, got ${m.input}`, m.seq)
    if (m.input === "tokens" && m.data.some((t) => t >= stage.vocabSize)) return fail(peer, m.session, `a token is outside the vocabulary of ${stage.vocabSize}`, m.seq)
    if (m.input === "activations" && m.dim !== stage.dim) return fail(peer, m.session, `activations of dim ${m.dim}, the model's is ${stage.dim}`, m.seq)
    if (m.start + m.length > stage.contextLength) return fail(peer, m.session, `positions ${m.start}..${m.start + m.length - 1} pass the context of ${stage.contextLength}: start a new session`, m.seq)
    if (s.bill !== undefined && s.bill.left() <= 0) return fail(peer, m.session, `job ${s.bill.job} has paid for no more tokens here: open a session on a new job`, m.seq)
    const x: LmInput = { start: m.start, length: m.length, dim: m.dim, input: m.input, data: m.data }
    let y: StageOutput
    // Paid: every block's output is kept, the note commits to them all (core/lm/trace.ts).
    let layers: readonly LmRows[] = []
    try {
      if (s.bill === undefined) y = stageStep(stage, s.session, x)
      else ({ output: y, layers } = stageTraceStep(stage, s.session, x))
    } catch (e) {
      return fail(peer, m.session, e instanceof Error ? e.message : String(e), m.seq)
    }
    // Test-only: a stage that returns (and commits to) wrong activations — the simulator's `wrong-stage`: its last block's output is off.
    if (options.wrongOutputs === true) {
      y = { ...y, data: y.data.map((v, i) => (i === 0 ? v + 0.5 : v)) }
      layers = [...layers.slice(0, -1), rowsOf(y)]
    }
    served++
    const trace = s.bill?.bill(x, y.data, layers)
    reply(peer, { v: 1, t: "result", session: m.session, seq: m.seq, ...y, ...(trace === undefined || trace.length === 0 ? {} : { trace: [...trace] }) })
  }

  const onMessage = (peer: string, data: Uint8Array): void => {
    if (stopped) return
    const decoded = decodeServerMessage(data)
    if (Result.isFailure(decoded)) return ctx.fault(peer, decoded.failure)
    const m = decoded.success
    const id = `${peer}/${m.session}`
    switch (m.t) {
      case "open": {
        if (m.from !== stage.from || m.to !== stage.to) return fail(peer, m.session, `this server holds blocks ${stage.from}-${stage.to}, not ${m.from}-${m.to}`)
        closeSession(id, "reopened")
        if (open.size + opening.size >= maxSessions) return fail(peer, m.session, `busy: ${open.size} sessions open (capacity ${maxSessions}); try another server of ${key}`)
        const start = (bill?: SessionBill) => {
          const s: Open = { session: stage.openSession(), timer: undefined, ...(bill === undefined ? {} : { bill }) }
          open.set(id, s)
          touch(id, s)
          ctx.emit("lm.session.opened", { key, session: m.session, client: peer, ...(bill === undefined ? {} : { job: bill.job }) })
          announce()
          reply(peer, { v: 1, t: "opened", session: m.session })
        }
        if (billing === undefined) return start()
        if (m.job === undefined) return fail(peer, m.session, `this server is paid per token: open the session with a market job of kind infer:lm/${stage.from}-${stage.to} assigned to ${options.market!.account}`)
        if (opening.has(id)) return fail(peer, m.session, `session ${m.session} is being opened already`)
        opening.add(id)
        void billing.open(m.job, peer, stage.from, stage.to).then((bill) => {
          opening.delete(id)
          if (stopped) return
          if (typeof bill === "string") return fail(peer, m.session, bill)
          closeSession(id, "reopened")
          start(bill)
        })
        return
      }
      case "close":
        return closeSession(id, "closed")
      case "forward":
        return forward(peer, m)
    }
  }

  ctx.run(Effect.map(ctx.network.subscribe(LM_SERVER_TOPIC, (m) => onMessage(m.from, m.data), { maxBytes: MAX_LM_MESSAGE_BYTES }), (u) => {
    unsubscribe = u
    if (stopped) ctx.run(u)
  }))
  announce()
  ctx.emit("lm.stage.started", { key, from: stage.from, to: stage.to, capacity: maxSessions })

  return {
    key,
    get sessions() {
      return open.size
    },
    get served() {
      return served
    },
    get billed() {
      return billing?.billed() ?? 0
    },
    get delivered() {
      return billing?.delivered() ?? 0
    },
    stop: () => {
      if (stopped) return
      stopped = true
      for (const id of [...open.keys()]) closeSession(id, "server stopped")
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
      stopAnswers?.()
      defense?.stop()
      ctx.run(ctx.network.unprovide(key))
    },
  }
}
