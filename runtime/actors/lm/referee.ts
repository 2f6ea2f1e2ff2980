/**
 * A referee of paid pipeline inference (issue 14, item 6): a validator re-executes ONE stage's blocks
 * for one debit note, from the inputs the client recorded, and compares with what the note commits to.
 *
 * The client sends the evidence (core/lm/wire.ts `VerifyRequest`): every input the stage's session
 * took up to the note's last forward, which of them are the note's, and the leaves of the note's
 * trace as it checked them (core/lm/trace.ts: leaf 0 its inputs', the last its received outputs').
 * The referee first checks the evidence is what the note commits to — leaf 0 must be the inputs' and
 * the leaves' root must give the note's word on the ledger — so a client cannot have an honest stage
 * judged on other inputs than it sent (`unbound`, nothing more). Then it loads blocks from..to only
 * (never the whole model), replays the inputs on a fresh session keeping every block's output, and
 * compares the word of its own trace: equal → `right`; different → `wrong`. Evidence sent to keep
 * (`defer`, a validator the client shares a disputed note with) is checked and kept, answered `kept`,
 * and re-executed only if this node must judge the note itself (no fraud proof came).
 *
 * Its own traces are the language model's layered work for the market's referee (`trace`,
 * trace-work.ts): a disputed note is bisected against the stage server to its first wrong block, and
 * the fraud proof lets the other validators re-execute that one block (`blockRuns`).
 *
 * The market's committee verdict (runtime/actors/market/referee.ts, verdicts.ts) then uses `reexecute`:
 * for an `infer:lm/<from>-<to>` note this referee has judged it returns the word its own re-execution
 * gives, so a disputed note is refuted by the same signed `resolveDispute` as an `infer:` job's, the
 * stage's provider slashed and the client compensated. A note it holds no evidence of gives undefined:
 * the market's referee then signs no verdict on it, for either side. On a dispute the client sends the
 * refuted note's evidence to every active validator (audit.ts), and the stage's server the evidence of
 * every frozen note (defense.ts): each judges them itself. Either party of the job may send evidence;
 * it binds to the note's word whoever sends it.
 *
 * Backends (core/lm/backend.ts): a note's word names the backend the stage computed on. This referee
 * judges only notes naming its own backend (which it announces: `lm/referee/<backend>`); a note bound
 * to another backend it answers `unable` — never `wrong`, since floats differ across backends.
 */
import { Effect, Result } from "effect"
import { fromHex } from "../../core/crypto.ts"
import type { PipelineStage } from "../../core/lm/pipeline.ts"
import { DEFAULT_LM_BACKEND, LM_BACKENDS, lmNoteBackend, lmRefereeKey } from "../../core/lm/backend.ts"
import { lmEvidenceRoot, lmTraceWord } from "../../core/lm/trace.ts"
import { decodeVerifyRequest, encodeVerifiedReply, LM_VERIFIED_TOPIC, LM_VERIFY_TOPIC, MAX_LM_VERIFY_BYTES, type VerifiedReply, type VerifyRequest } from "../../core/lm/wire.ts"
import { call, reasonOf, type MarketContext } from "../market/context.ts"
import type { Reexecute, TraceWork } from "../market/work.ts"
import { parseLmJobKind } from "./paid.ts"
import { inputRows } from "./stage-step.ts"
import { lmTraceWork, traceSession, type NoteTrace } from "./trace-work.ts"

export interface LmRefereeOptions {
  /** Loads blocks from..to of the model (tfjs, on `backend`); freed with `dispose`. A fraud proof's check loads one block (from = to). */
  readonly loadStage: (from: number, to: number) => PipelineStage & { dispose(): void }
  /** The TensorFlow.js backend the stages it loads compute on (default cpu): it judges only notes naming it, and announces it. */
  readonly backend?: string
}

/** One re-execution: the stage's blocks run, and the forwards replayed. */
export interface LmReexecution {
  readonly job: number
  readonly note: number
  readonly from: number
  readonly to: number
  readonly forwards: number
  readonly outcome: VerifiedReply["outcome"]
}

export interface LmReferee {
  /** For the market's referee: the honest word of an `infer:lm/*` note this node re-executed (or kept the evidence of: re-executed now), else undefined. */
  readonly reexecute: Reexecute
  /** For the market's referee: the layered side of `infer:lm/*` notes (its own traces, one block run alone). */
  readonly trace: TraceWork
  /** Every block run alone (a fraud proof's check, a bisection's last step), in order. */
  readonly blockRuns: () => ReadonlyArray<{ readonly job: number; readonly block: number }>
  /** Every re-execution made, in order. */
  readonly reexecutions: () => readonly LmReexecution[]
  stop(): void
}

/** Notes' own traces kept (by delivered word), and evidence kept to judge later. */
const MAX_JUDGED = 1_024

/** Start answering verify requests on `ctx`. */
export const startLmReferee = (ctx: MarketContext, o: LmRefereeOptions): LmReferee => {
  const backend = o.backend ?? DEFAULT_LM_BACKEND
  const stages = new Map<string, PipelineStage & { dispose(): void }>()
  /** Delivered word (lowercase) → this node's own trace of the note (and the word it gives). */
  const judged = new Map<string, NoteTrace>()
  /** Delivered word → evidence kept unexecuted (`defer`). */
  const kept = new Map<string, VerifyRequest>()
  const done: LmReexecution[] = []
  const blockRuns: Array<{ readonly job: number; readonly block: number }> = []
  const bounded = <V>(m: Map<string, V>, k: string, v: V) => {
    m.set(k, v)
    if (m.size > MAX_JUDGED) m.delete(m.keys().next().value!)
  }
  let unsubscribe: Effect.Effect<void> | undefined
  let stopped = false

  const stageOf = (from: number, to: number) => {
    const key = `${from}-${to}`
    let s = stages.get(key)
    if (s === undefined) {
      s = o.loadStage(from, to)
      stages.set(key, s)
    }
    return s
  }

  /** Re-executes the evidence on blocks from..to: the note's trace it gives, or why it cannot. */
  const rerun = (m: VerifyRequest): NoteTrace | { readonly error: string } => {
    let stage: PipelineStage
    try {
      stage = stageOf(m.from, m.to)
    } catch (e) {
      return { error: `cannot load blocks ${m.from}-${m.to}: ${e instanceof Error ? e.message : String(e)}` }
    }
    if (stage.embeds !== (m.input === "tokens")) return { error: `blocks ${m.from}-${m.to} take ${stage.embeds ? "tokens" : "activations"}` }
    try {
      // Its own trace's word names its own backend: a note is judged only when it names the same (checked first).
      return traceSession(stage, m.inputs, backend)
    } catch (e) {
      // Inputs the stage cannot take (out of order, wrong shape) are what the note committed to: the stage answered them.
      return { error: `the inputs do not run: ${e instanceof Error ? e.message : String(e)}` }
    }
  }

  /** Re-execute bound evidence of the note whose word is `claimed`: this node's trace of it (kept), or why not. */
  const judge = (claimed: string, m: VerifyRequest): NoteTrace | { readonly error: string } => {
    const r = rerun(m)
    const outcome = "error" in r ? "unable" : r.word === claimed ? "right" : "wrong"
    done.push({ job: m.job, note: m.note, from: m.from, to: m.to, forwards: m.inputs.length, outcome })
    if (!("error" in r)) bounded(judged, claimed, r)
    return r
  }

  /** This node's own trace of the note whose word is `claimed`: judged already, or from evidence kept (re-executed now). */
  const ownTrace = (claimed: string): NoteTrace | undefined => {
    const word = claimed.toLowerCase()
    const known = judged.get(word)
    if (known !== undefined || stopped) return known
    const m = kept.get(word)
    if (m === undefined) return undefined
    kept.delete(word)
    const r = judge(word, m)
    ctx.emit("lm.referee.reexecuted", { job: m.job, note: m.note, from: m.from, to: m.to, ...("error" in r ? { error: r.error } : { right: r.word === word }) })
    return "error" in r ? undefined : r
  }

  // A fraud proof binds only a note naming this node's backend (a co-signer on another finds no root and signs nothing).
  const base = lmTraceWork({ traceOf: ownTrace, stageOf, backend })
  const trace: TraceWork = {
    ...base,
    layer: (task, claimed, k, input) => {
      const range = parseLmJobKind(task.kind)
      if (range !== undefined) {
        blockRuns.push({ job: task.job, block: range.from + k - 1 })
        if (blockRuns.length > MAX_JUDGED) blockRuns.shift()
      }
      return base.layer(task, claimed, k, input)
    },
  }

  const answer = (to: string, m: VerifyRequest, outcome: VerifiedReply["outcome"], reason?: string) => {
    ctx.emit("lm.referee.verified", { job: m.job, note: m.note, from: m.from, to: m.to, outcome, ...(reason === undefined ? {} : { reason }) })
    ctx.run(Effect.ignore(ctx.network.send(to, LM_VERIFIED_TOPIC, encodeVerifiedReply({ v: 1, t: "verified", nonce: m.nonce, job: m.job, note: m.note, outcome, ...(reason === undefined ? {} : { reason }) }))))
  }

  const onRequest = (from: string, m: VerifyRequest) =>
    call(ctx, ctx.ledger.marketJob(m.job), (j) => {
      if (stopped) return
      // Only the job's parties hold the session's inputs and outputs (the requester, or the provider defending its notes); anyone else's request is not this referee's work.
      if (j === undefined || (j.requester !== from && j.provider !== from)) return
      const range = parseLmJobKind(j.kind)
      if (range === undefined || range.from !== m.from || range.to !== m.to) return answer(from, m, "unbound", `job ${m.job} is ${j.kind}, not blocks ${m.from}-${m.to}`)
      const note = j.notes.find((n) => n.id === m.note)
      if (note === undefined) return answer(from, m, "unbound", `job ${m.job} has no note ${m.note}`)
      if (BigInt(m.inputs.length - m.first) !== note.units) return answer(from, m, "unbound", `note ${m.note} bills ${note.units} forwards, the evidence has ${m.inputs.length - m.first}`)
      const claimed = note.resultHash.toLowerCase()
      const root = m.leaves.length !== range.to - range.from + 2 ? undefined : lmEvidenceRoot(m.inputs.map(inputRows), m.leaves.map(fromHex))
      if (root === undefined) return answer(from, m, "unbound", "the inputs and trace given are not what the note commits to")
      if (lmTraceWord(root, backend) !== claimed) {
        // Bound to another backend: its floats are not this referee's to judge (an honest stage on it would differ here).
        const other = lmNoteBackend(claimed, root, LM_BACKENDS.filter((b) => b !== backend))
        if (other !== undefined) return answer(from, m, "unable", `note ${m.note} was computed on the ${other} backend, this referee runs ${backend}`)
        return answer(from, m, "unbound", "the inputs and trace given are not what the note commits to")
      }
      if (m.defer === true) {
        if (!judged.has(claimed)) bounded(kept, claimed, m)
        return answer(from, m, "kept")
      }
      // Judged already (the client's evidence and the stage's, or a question asked again): the same answer, not another re-execution.
      const r = judged.get(claimed) ?? judge(claimed, m)
      if ("error" in r) return answer(from, m, "unable", r.error)
      answer(from, m, r.word === claimed ? "right" : "wrong")
    }, (e) => answer(from, m, "unable", `cannot read job ${m.job}: ${reasonOf(e)}`))

  // Clients and stages draw referees among the validators announcing this backend (lm-referees.ts).
  const key = lmRefereeKey(backend)
  ctx.run(Effect.catch(ctx.network.provide(key, { pricePerUnit: 0n, capacity: 1, queue: 0 }), (e) => Effect.sync(() => ctx.emit("lm.referee.announce-failed", { key, reason: e.reason }))))
  ctx.run(Effect.map(ctx.network.subscribe(LM_VERIFY_TOPIC, (env) => {
    if (stopped) return
    const d = decodeVerifyRequest(env.data)
    if (Result.isFailure(d)) return ctx.fault(env.from, d.failure)
    onRequest(env.from, d.success)
  }, { maxBytes: MAX_LM_VERIFY_BYTES }), (u) => {
    unsubscribe = u
    if (stopped) ctx.run(u)
  }))

  return {
    reexecute: (task, claimed) => (parseLmJobKind(task.kind) === undefined || claimed === undefined ? undefined : ownTrace(claimed)?.word),
    trace,
    blockRuns: () => [...blockRuns],
    reexecutions: () => [...done],
    stop: () => {
      if (stopped) return
      stopped = true
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
      ctx.run(ctx.network.unprovide(key))
      for (const s of stages.values()) s.dispose()
      stages.clear()
    },
  }
}
