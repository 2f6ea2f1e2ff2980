/**
 * A referee of paid pipeline inference (issue 14, item 6): a validator re-executes ONE stage's blocks
 * for one debit note, from the inputs the client recorded, and compares with what the note commits to.
 *
 * The client sends the evidence (core/lm/wire.ts `VerifyRequest`): every input the stage's session
 * took up to the note's last forward, which of them are the note's, and the hash of the outputs it
 * received for them. The referee first checks the evidence is what the note commits to — the note's
 * word on the ledger must equal lmNoteWord(hash of those inputs, the received outputs' hash) — so a
 * client cannot have an honest stage judged on other inputs than it sent (`unbound`, nothing more).
 * Then it loads blocks from..to only (never the whole model), replays the inputs on a fresh session and
 * hashes its own outputs of the note's forwards: equal → `right`; different → `wrong`.
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
import {
  decodeVerifyRequest, encodeVerifiedReply, LM_VERIFIED_TOPIC, LM_VERIFY_TOPIC, lmInputsHash, lmNoteWord, lmOutputsHash, MAX_LM_VERIFY_BYTES,
  type VerifiedReply, type VerifyRequest,
} from "../../core/lm/wire.ts"
import { call, reasonOf, type MarketContext } from "../market/context.ts"
import type { Reexecute } from "../market/work.ts"
import { DEFAULT_LM_BACKEND, LM_BACKENDS, lmInputsStart, lmNoteBackend, lmRefereeKey } from "../../core/lm/backend.ts"
import { parseLmJobKind } from "./paid.ts"
import { stageStep } from "./stage-step.ts"

export interface LmRefereeOptions {
  /** Loads blocks from..to of the model (tfjs, cpu backend); freed with `dispose`. */
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
  /** For the market's referee: the honest word of an `infer:lm/*` note this node re-executed, else undefined. */
  readonly reexecute: Reexecute
  /** Every re-execution made, in order. */
  readonly reexecutions: () => readonly LmReexecution[]
  stop(): void
}

/** Notes' honest words kept (by delivered word). */
const MAX_JUDGED = 4_096

/** Start answering verify requests on `ctx`. */
export const startLmReferee = (ctx: MarketContext, o: LmRefereeOptions): LmReferee => {
  const backend = o.backend ?? DEFAULT_LM_BACKEND
  const start = lmInputsStart(backend)
  const stages = new Map<string, PipelineStage & { dispose(): void }>()
  /** Delivered word (lowercase) → the word this node's re-execution gives. */
  const judged = new Map<string, string>()
  const done: LmReexecution[] = []
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

  /** Re-executes the evidence on blocks from..to: the word it gives, or why it cannot. */
  const rerun = (m: VerifyRequest): { readonly word: string } | { readonly error: string } => {
    let stage: PipelineStage
    try {
      stage = stageOf(m.from, m.to)
    } catch (e) {
      return { error: `cannot load blocks ${m.from}-${m.to}: ${e instanceof Error ? e.message : String(e)}` }
    }
    if (stage.embeds !== (m.input === "tokens")) return { error: `blocks ${m.from}-${m.to} take ${stage.embeds ? "tokens" : "activations"}` }
    const session = stage.openSession()
    try {
      let inputs = start
      const outputs: Float32Array[] = []
      for (const [i, x] of m.inputs.entries()) {
        const y = stageStep(stage, session, x)
        inputs = lmInputsHash(inputs, x)
        if (i >= m.first) outputs.push(y.data)
      }
      return { word: lmNoteWord(inputs, lmOutputsHash(outputs)) }
    } catch (e) {
      // Inputs the stage cannot take (out of order, wrong shape) are what the note committed to: the stage answered them.
      return { error: `the inputs do not run: ${e instanceof Error ? e.message : String(e)}` }
    } finally {
      session.close()
    }
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
      let inputs = start
      for (const x of m.inputs) inputs = lmInputsHash(inputs, x)
      const claimed = note.resultHash.toLowerCase()
      if (lmNoteWord(inputs, fromHex(m.outputs)) !== claimed) {
        // Bound to another backend: its floats are not this referee's to judge (an honest stage on it would differ here).
        const other = lmNoteBackend(claimed, m.inputs, fromHex(m.outputs), LM_BACKENDS.filter((b) => b !== backend))
        if (other !== undefined) return answer(from, m, "unable", `note ${m.note} was computed on the ${other} backend, this referee runs ${backend}`)
        return answer(from, m, "unbound", "the inputs and outputs given are not what the note commits to")
      }
      // Judged already (the client's evidence and the stage's, or a question asked again): the same answer, not another re-execution.
      const known = judged.get(claimed)
      if (known !== undefined) return answer(from, m, known === claimed ? "right" : "wrong")
      const r = rerun(m)
      if ("error" in r) {
        done.push({ job: m.job, note: m.note, from: m.from, to: m.to, forwards: m.inputs.length, outcome: "unable" })
        return answer(from, m, "unable", r.error)
      }
      judged.set(claimed, r.word)
      if (judged.size > MAX_JUDGED) judged.delete(judged.keys().next().value!)
      const outcome = r.word === claimed ? "right" : "wrong"
      done.push({ job: m.job, note: m.note, from: m.from, to: m.to, forwards: m.inputs.length, outcome })
      answer(from, m, outcome)
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
    reexecute: (task, claimed) => (parseLmJobKind(task.kind) === undefined || claimed === undefined ? undefined : judged.get(claimed.toLowerCase())),
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
