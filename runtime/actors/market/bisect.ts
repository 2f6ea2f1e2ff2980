/**
 * A referee's side of a dispute's bisection (core/market/bisection.ts) over the market's direct
 * messages (wire.ts): for one disputed note, the referee computes its own layer trace of the chunk,
 * walks down the tree the provider committed to in its delivered word (one `trace-query` per level,
 * each answer checked against the node above it, the first against the word), asks the provider for
 * the bytes of the agreed layer before the first diverging one (`layer-query`, checked against the
 * agreed hash) and re-executes only the diverging layer from them. The outcome names the layer.
 *
 * A provider that does not answer a query within BISECTION_TIMEOUT_MS (the query is re-sent every
 * BISECTION_RESEND_MS: lossy links), or answers that it holds no trace (`trace-none`), is `silent`,
 * refuted as for a wrong result: a provider is paid for a result it can defend, and one that cannot
 * must not be able to stall the verdict forever.
 */
import { Effect, Result } from "effect"
import { fromHex } from "../../core/crypto.ts"
import {
  answerBisection, judgeDivergence, startBisection, type Bisection, type BisectionOutcome, type BisectionStep, type LayerTrace,
} from "../../core/market/bisection.ts"
import { checkFraudProof, fraudProofOf, type AnsweredQuery, type FraudProof } from "../../core/market/fraud-proof.ts"
import type { JobView } from "../../core/market/index.ts"
import { call, type MarketContext } from "./context.ts"
import { decodeLayerAnswer, encodeMarketMessage, MARKET_TOPIC, MAX_LAYER_BYTES, MAX_TRACE_MESSAGE_BYTES, TRACE_TOPIC, type LayerAnswer, type MarketMessage } from "./wire.ts"
import type { TraceWork, WorkTask } from "./work.ts"

/** How long a provider has to answer one bisection query (ms). */
export const BISECTION_TIMEOUT_MS = 10_000
/** How often an unanswered query is sent again (ms). */
export const BISECTION_RESEND_MS = 2_000

/** What a referee records of one bisected note: the dispute's record, and the verdict's reason. */
export interface BisectionRecord {
  readonly job: number
  readonly note: number
  readonly provider: string
  /**
   * agree | wrong | lied | silent | inconsistent; `model`: the word names nothing this work may run;
   * `moot`: the note was no longer disputed when a query timed out (another verdict came first: the
   * provider stops answering about a judged note), so this referee has nothing to decide.
   */
  readonly outcome: BisectionOutcome["kind"] | "model" | "moot"
  /** The first diverging layer (wrong, inconsistent), or the layer whose bytes were asked (lied, silent). */
  readonly layer?: number
  /** Hash queries (tree levels) and layer queries asked. */
  readonly queries: number
  readonly inputQueries: number
  /** Layers this referee computed to judge the note: its own trace (L), plus the one re-executed at the divergence. */
  readonly reexecuted: number
  /**
   * Verde's fraud proof of a `wrong` outcome at 1 ≤ layer ≤ L (core/market/fraud-proof.ts), checked
   * by this referee before it is kept: what lets the other judges re-execute one layer instead of the whole.
   */
  readonly proof?: FraudProof
  readonly at: number
}

interface Session {
  readonly job: number
  readonly note: number
  readonly provider: string
  readonly task: WorkTask
  readonly word: string
  readonly own: LayerTrace
  state: Bisection
  /** The provider's answers so far (a fraud proof's paths are built from them). */
  readonly answers: AnsweredQuery[]
  /** Layers computed so far (the own trace's L, then the one re-executed). */
  reexecuted: number
  /** The pending query. */
  nonce: number
  awaiting: "tree" | "layer"
  /** The diverging layer, once found (awaiting its input). */
  diverged: Extract<BisectionStep, { kind: "diverged" }> | undefined
  resend: unknown
  giveUp: unknown
  readonly done: (r: BisectionRecord) => void
}

export interface Bisector {
  /** Bisect one disputed note of `job` (units from `from`); `done` gets the record, or undefined when this node cannot judge it. */
  note(job: JobView, note: JobView["notes"][number], from: number, done: (r: BisectionRecord | undefined) => void): void
  /** A market message from `from` (trace-answer, trace-none): true when it was a bisection's. */
  onMessage(from: string, msg: MarketMessage): boolean
  stop(): void
}

/** Start the bisections of a referee on `ctx` with the layered work `work`. */
export const startBisector = (ctx: MarketContext, work: TraceWork, o: { readonly timeoutMs?: number; readonly resendMs?: number } = {}): Bisector => {
  const timeoutMs = o.timeoutMs ?? BISECTION_TIMEOUT_MS
  const resendMs = o.resendMs ?? BISECTION_RESEND_MS
  const sessions = new Map<number, Session>()
  let nonces = 0
  let stopped = false

  const clear = (s: Session) => {
    ctx.clock.clearTimeout(s.resend)
    ctx.clock.clearTimeout(s.giveUp)
  }
  const finish = (s: Session, outcome: BisectionOutcome | { readonly kind: "model" | "moot"; readonly queries: number }, inputQueries: number, proof?: FraudProof) => {
    clear(s)
    sessions.delete(s.nonce)
    const layer = "layer" in outcome ? outcome.layer : undefined
    const r: BisectionRecord = {
      job: s.job, note: s.note, provider: s.provider, outcome: outcome.kind, ...(layer === undefined ? {} : { layer }),
      queries: outcome.queries, inputQueries, reexecuted: s.reexecuted, ...(proof === undefined ? {} : { proof }), at: ctx.now(),
    }
    ctx.emit("market.bisection", {
      job: r.job, note: r.note, provider: r.provider, outcome: r.outcome, ...(layer === undefined ? {} : { layer }), queries: r.queries, inputQueries,
      reexecuted: r.reexecuted, ...(proof === undefined ? {} : { proof: true }),
    })
    s.done(r)
  }

  /**
   * Judge the divergence at `d` from the agreed input `input` (undefined: none given); a `wrong` at
   * 1 ≤ k ≤ L gives its fraud proof, checked here (its paths against the delivered word) before it is kept.
   */
  const judgeAt = (s: Session, d: Extract<BisectionStep, { kind: "diverged" }>, input: Uint8Array | undefined, inputQueries: number) => {
    const L = s.own.hashes.length - 1
    let computed: Uint8Array | undefined
    const reexecute = (layer: number, bytes: Uint8Array) => {
      s.reexecuted++
      return (computed = work.layer(s.task, s.word, layer, bytes))
    }
    const outcome = judgeDivergence({ layer: d.layer, layers: L, providerHash: d.providerHash, agreedInputHash: s.own.hashes[d.layer - 1], input, reexecute, queries: d.queries })
    let proof: FraudProof | undefined
    if (outcome.kind === "wrong" && input !== undefined && computed !== undefined && d.layer >= 1 && d.layer <= L) {
      const made = fraudProofOf({ own: s.state.own, answers: s.answers, layer: d.layer, input })
      const out = computed
      const checked = checkFraudProof(made, { layers: L, bindsRoot: (root) => work.word(s.task, s.word, root) === s.word, reexecute: () => out })
      if (checked.ok) proof = made
    }
    finish(s, outcome, inputQueries, proof)
  }

  /** Send the session's pending query under a fresh nonce, re-sent until answered or given up. */
  const ask = (s: Session, m: (nonce: number) => MarketMessage) => {
    clear(s)
    sessions.delete(s.nonce)
    s.nonce = ++nonces
    sessions.set(s.nonce, s)
    const msg = encodeMarketMessage(m(s.nonce))
    const send = () => ctx.run(Effect.ignore(ctx.network.send(s.provider, MARKET_TOPIC, msg)))
    const again = () => {
      if (sessions.get(s.nonce) !== s) return
      send()
      s.resend = ctx.clock.setTimeout(again, resendMs)
    }
    send()
    s.resend = ctx.clock.setTimeout(again, resendMs)
    const asked = s.nonce
    s.giveUp = ctx.clock.setTimeout(() => {
      if (sessions.get(asked) !== s) return
      const silent = () => finish(s, { kind: "silent", ...(s.awaiting === "layer" && s.diverged !== undefined ? { layer: s.diverged.layer - 1 } : {}), queries: s.state.queries }, s.awaiting === "layer" ? 1 : 0)
      const moot = () => finish(s, { kind: "moot", queries: s.state.queries }, s.awaiting === "layer" ? 1 : 0)
      // Silence counts only while the note is still disputed: after a verdict the provider rightly stops answering.
      call(ctx, ctx.ledger.marketJob(s.job), (j) => {
        if (sessions.get(asked) !== s) return
        if (j?.state === "disputed" && j.notes.some((n) => n.id === s.note && n.state === "disputed")) silent()
        else moot()
      }, () => sessions.get(asked) === s && moot())
    }, timeoutMs)
  }

  const step = (s: Session, next: BisectionStep) => {
    if (next.kind === "ask") {
      s.awaiting = "tree"
      return ask(s, (nonce) => ({ v: 1, t: "trace-query", job: s.job, note: s.note, nonce, level: next.level, index: next.index }))
    }
    if (next.kind !== "diverged") return finish(s, next, 0)
    const L = s.own.hashes.length - 1
    if (next.layer === 0 || next.layer > L) return judgeAt(s, next, undefined, 0)
    const agreed = s.own.activation(next.layer - 1)
    // Too large for one message: the agreed bytes are the referee's own (their hash is the provider's too).
    if (agreed.length > MAX_LAYER_BYTES) return judgeAt(s, next, agreed, 0)
    s.diverged = next
    s.awaiting = "layer"
    ask(s, (nonce) => ({ v: 1, t: "layer-query", job: s.job, note: s.note, nonce, layer: next.layer - 1 }))
  }

  const onLayer = (from: string, a: LayerAnswer) => {
    const s = sessions.get(a.nonce)
    if (s === undefined || s.provider !== from || s.job !== a.job || s.note !== a.note || s.awaiting !== "layer" || s.diverged === undefined || a.layer !== s.diverged.layer - 1) return
    judgeAt(s, s.diverged, a.data, 1)
  }

  let unsubscribe: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(TRACE_TOPIC, (m) => {
    if (stopped) return
    const decoded = decodeLayerAnswer(m.data)
    if (Result.isFailure(decoded)) return ctx.fault(m.from, decoded.failure)
    onLayer(m.from, decoded.success)
  }, { maxBytes: MAX_TRACE_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))

  return {
    note: (job, note, from, done) => {
      if (stopped) return done(undefined)
      const task: WorkTask = { job: job.id, kind: job.kind, from, units: Number(note.units) }
      const word = note.resultHash.toLowerCase()
      const mine = work.trace(task, word)
      if (mine === undefined) return done(undefined)
      const s: Session = {
        job: job.id, note: note.id, provider: note.provider, task, word, own: mine.trace, state: undefined as never, answers: [],
        reexecuted: mine.trace.hashes.length - 1, nonce: 0, awaiting: "tree", diverged: undefined, resend: undefined, giveUp: undefined, done,
      }
      if (mine.word === word) return finish(s, { kind: "agree", queries: 0 }, 0)
      // A word that binds no trace this work may run (e.g. it names no committed model): nothing to bisect.
      if (work.word(task, word, new Uint8Array(32)) === undefined) return finish(s, { kind: "model", queries: 0 }, 0)
      const started = startBisection(mine.trace.hashes)
      s.state = started.state
      step(s, started.step)
    },
    onMessage: (from, msg) => {
      if (msg.t !== "trace-answer" && msg.t !== "trace-none") return false
      const s = sessions.get(msg.nonce)
      if (s === undefined || s.provider !== from || s.job !== msg.job || s.note !== msg.note) return true
      if (msg.t === "trace-none") {
        finish(s, { kind: "silent", ...(s.awaiting === "layer" && s.diverged !== undefined ? { layer: s.diverged.layer - 1 } : {}), queries: s.state.queries }, s.awaiting === "layer" ? 1 : 0)
        return true
      }
      if (s.awaiting !== "tree") return true
      const answer = { left: fromHex(msg.left), right: fromHex(msg.right) }
      s.answers.push({ level: s.state.level, index: s.state.index, ...answer })
      const next = answerBisection(s.state, answer, (root) => work.word(s.task, s.word, root) === s.word)
      s.state = next.state
      step(s, next.step)
      return true
    },
    stop: () => {
      stopped = true
      for (const s of sessions.values()) clear(s)
      sessions.clear()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}

/** A record's short form for telemetry and errors. */
export const describeRecord = (r: BisectionRecord): string =>
  `note ${r.note}: ${r.outcome}${r.layer === undefined ? "" : ` at layer ${r.layer}`} (${r.queries} queries${r.inputQueries > 0 ? " + the agreed input" : ""}, ${r.reexecuted} layers computed)`
