/**
 * Bisection within a stage (issue 14, item 6; docs/lm.md "Verification"): a paid stage's note
 * commits to a layer trace of its blocks (core/lm/trace.ts), so the market's bisection and fraud
 * proof (runtime/actors/market/bisect.ts, referee.ts, verdicts.ts; core/market/bisection.ts,
 * fraud-proof.ts) judge `infer:lm/<from>-<to>` disputes as they judge the MNIST work's: this file is
 * the language model's `TraceWork` for them, the stage's traced re-execution, and the stage server's
 * answers to a referee's trace queries.
 *
 * - `traceSession`: a stage re-executed on a fresh session over a note's inputs, keeping every
 *   block's output: the note's trace and the word it gives (the referee's own trace, the server's).
 * - `lmLayerRun`: layer k of a stage run ALONE — block from + k − 1 loaded by itself (a one-block
 *   stage: with the embedding when it is block 0, the head when it is the last), fed layer k − 1's
 *   rows on a fresh session. What a co-signer checking a fraud proof runs: one block.
 * - `lmTraceWork`: the TraceWork of lm kinds over a store of own traces (the lm referee's).
 * - `startLmTraceAnswers`: a paid stage server answers `trace-query` / `layer-query` about its own
 *   disputed notes from the traces it kept when it delivered them; `trace-none` when it kept none
 *   (then the referee judges the note by its whole re-execution: referee.ts `wholeWhenSilent`).
 */
import { Effect, Result } from "effect"
import type { PipelineStage } from "../../core/lm/pipeline.ts"
import { DEFAULT_LM_BACKEND, encodeLmLayer, lmLayerHashOf, lmStageLayers, lmTraceWord, type LmLayerRun, type LmRows } from "../../core/lm/trace.ts"
import type { LmInput } from "../../core/lm/wire.ts"
import { makeTrace, traceRoot, type LayerTrace } from "../../core/market/bisection.ts"
import { call, type MarketContext } from "../market/context.ts"
import { decodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "../market/wire.ts"
import { noteRanges, type TraceWork } from "../market/work.ts"
import { answerTraceQuery, type TraceQuery } from "../market/trace-answer.ts"
import { parseLmJobKind } from "../../core/lm/job-kind.ts"
import { inputRows, rowsOf, stageStep, stageTraceStep } from "./stage-step.ts"

/** A note's trace and the word it gives. */
export interface NoteTrace {
  readonly trace: LayerTrace
  readonly word: string
}

/** The trace of a note whose layers' rows are `layers` (layer 0 the inputs), and its word on `backend` (core/lm/backend.ts). */
export const noteTraceOf = (layers: readonly (readonly LmRows[])[], backend: string = DEFAULT_LM_BACKEND): NoteTrace => {
  const trace = makeTrace(layers.map(encodeLmLayer))
  return { trace, word: lmTraceWord(traceRoot(trace.hashes), backend) }
}

/** `stage` re-executed on a fresh session over `inputs` (a session's forwards up to a note's end), every block's output kept; the word names `backend` (default the stage's). Throws as the session does. */
export const traceSession = (stage: PipelineStage, inputs: readonly LmInput[], backend: string = stage.backend ?? DEFAULT_LM_BACKEND): NoteTrace => {
  const L = stage.to - stage.from + 1
  const layers: LmRows[][] = [inputs.map(inputRows), ...Array.from({ length: L }, () => [])]
  const session = stage.openSession()
  try {
    for (const x of inputs) stageTraceStep(stage, session, x).layers.forEach((row, j) => layers[j + 1]!.push(row))
  } finally {
    session.close()
  }
  return noteTraceOf(layers, backend)
}

/** Layer k of a stage starting at block `from`, run alone on block from + k − 1 (`stageOf(b, b)`: that block's one-block stage). */
export const lmLayerRun = (stageOf: (from: number, to: number) => PipelineStage, from: number): LmLayerRun => (k, input) => {
  const b = from + k - 1
  const stage = stageOf(b, b)
  const session = stage.openSession()
  try {
    return input.map((row) => {
      if (row.kind === "logits" || (row.kind === "tokens") !== stage.embeds) throw new RangeError(`block ${b} takes ${stage.embeds ? "tokens" : "activations"}, a row is ${row.kind}`)
      if (row.kind === "tokens" && row.data.some((t) => t >= stage.vocabSize)) throw new RangeError(`a token is outside the vocabulary of ${stage.vocabSize}`)
      return rowsOf(stageStep(stage, session, { start: row.start, length: row.length, dim: row.dim, input: row.kind, data: row.data }))
    })
  } finally {
    session.close()
  }
}

/**
 * The TraceWork of `infer:lm/<from>-<to>` notes: `traceOf(word)` gives this node's own trace of the
 * note whose delivered word is `word` (undefined: it holds no evidence of it), `stageOf` loads blocks.
 * A fraud proof's check (layers, word, layer) needs nothing but the job's kind and one block. Words
 * are on `backend` (default cpu): a note naming another backend binds no root here, so a proof against
 * it is refused and a bisection of it stops (this node cannot judge it: core/lm/backend.ts).
 */
export const lmTraceWork = (o: { readonly traceOf: (word: string) => NoteTrace | undefined; readonly stageOf: (from: number, to: number) => PipelineStage; readonly backend?: string }): TraceWork => ({
  trace: (task, claimed) => (parseLmJobKind(task.kind) === undefined ? undefined : o.traceOf(claimed.toLowerCase())),
  layers: (task) => {
    const r = parseLmJobKind(task.kind)
    return r === undefined ? undefined : lmStageLayers(r.from, r.to)
  },
  layer: (task, _claimed, k, input) => {
    const r = parseLmJobKind(task.kind)
    if (r === undefined) throw new RangeError(`${task.kind} is not a language-model stage`)
    return lmLayerHashOf(k, input, lmLayerRun(o.stageOf, r.from))
  },
  word: (task, _claimed, root) => (parseLmJobKind(task.kind) === undefined ? undefined : lmTraceWord(root, o.backend ?? DEFAULT_LM_BACKEND)),
})

/** `lm` for the language model's kinds, `other` (if any) for the rest: what a node's market referee bisects with. */
export const traceWorkByKind = (lm: TraceWork, other: TraceWork | undefined): TraceWork => {
  const pick = (kind: string) => (parseLmJobKind(kind) !== undefined ? lm : other)
  return {
    trace: (t, c) => pick(t.kind)?.trace(t, c),
    layers: (t, c) => pick(t.kind)?.layers(t, c),
    layer: (t, c, k, i) => {
      const w = pick(t.kind)
      if (w === undefined) throw new RangeError(`no layered work for ${t.kind}`)
      return w.layer(t, c, k, i)
    },
    word: (t, c, r) => pick(t.kind)?.word(t, c, r),
  }
}

/** Traces a paid stage server keeps (by delivered word) to answer bisections of its notes. */
export const MAX_KEPT_TRACES = 256

/** A bounded store of a server's note traces, by word. */
export const traceStore = () => {
  const traces = new Map<string, LayerTrace>()
  return {
    keep: (word: string, trace: LayerTrace) => {
      traces.delete(word.toLowerCase())
      traces.set(word.toLowerCase(), trace)
      if (traces.size > MAX_KEPT_TRACES) traces.delete(traces.keys().next().value!)
    },
    get: (word: string) => traces.get(word.toLowerCase()),
  }
}

/**
 * Answer the market's bisection queries about `account`'s disputed `infer:lm/*` notes from
 * `traceOf(word)` (the traces kept at delivery). Returns the unsubscribe.
 */
export const startLmTraceAnswers = (ctx: Pick<MarketContext, "ledger" | "network" | "run" | "emit" | "fault">, o: { readonly account: string; readonly traceOf: (word: string) => LayerTrace | undefined }): (() => void) => {
  let stopped = false
  let unsubscribe: Effect.Effect<void> | undefined
  const answer = (from: string, q: TraceQuery) =>
    call(ctx, ctx.ledger.marketJob(q.job), (j) => {
      if (stopped || j === undefined || parseLmJobKind(j.kind) === undefined) return
      const at = noteRanges(j).find((r) => r.note.id === q.note)
      // Only this server's notes the ledger shows disputed are defended.
      if (at === undefined || at.note.provider !== o.account || at.note.state !== "disputed") return
      const trace = o.traceOf(at.note.resultHash)
      if (trace !== undefined) ctx.emit("lm.stage.bisection", { job: q.job, note: q.note, query: q.t === "trace-query" ? `${q.level}/${q.index}` : `layer ${q.layer}` })
      answerTraceQuery(ctx, from, q, trace)
    })
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (m) => {
    if (stopped) return
    const d = decodeMarketMessage(m.data)
    // Malformed market messages are the market actors' to report (a node running both would report twice).
    if (Result.isFailure(d)) return
    if (d.success.t === "trace-query" || d.success.t === "layer-query") answer(m.from, d.success)
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => {
    unsubscribe = u
    if (stopped) ctx.run(u)
  }))
  return () => {
    if (stopped) return
    stopped = true
    if (unsubscribe !== undefined) ctx.run(unsubscribe)
  }
}
