/**
 * One forward of a stage on a session, exactly as a stage server answers it: the stage server and a
 * referee re-executing one of its notes (referee.ts) run this same function, so on the same backend
 * (the cpu backend is the reference) the same inputs give the same bytes.
 */
import type { PipelineSession, PipelineStage } from "../../core/lm/pipeline.ts"
import type { LmRows } from "../../core/lm/trace.ts"
import type { LmInput } from "../../core/lm/wire.ts"

/** What a forward returns: a middle stage's activations of every position, a last stage's logits of the last one. */
export interface StageOutput {
  readonly start: number
  readonly length: number
  readonly dim: number
  readonly output: "activations" | "logits"
  readonly data: Float32Array
}

/** Runs `x` through `stage`'s blocks on `session` (throws as the session does on a wrong shape or order). */
export const stageStep = (stage: PipelineStage, session: PipelineSession, x: LmInput): StageOutput => {
  const a = x.input === "tokens" ? stage.embed(Array.from(x.data), x.start) : { start: x.start, length: x.length, dim: x.dim, data: x.data as Float32Array }
  const y = session.forward(a)
  if (!stage.heads) return { start: y.start, length: y.length, dim: y.dim, output: "activations", data: y.data }
  // Only the last position's logits: the client picks the next token from them, nothing more.
  const logits = stage.head(y)
  return { start: y.start + y.length - 1, length: 1, dim: stage.vocabSize, output: "logits", data: logits.slice((y.length - 1) * stage.vocabSize) }
}

/** A forward with every block's output: the stage's output and the note trace's rows of layers 1..L (core/lm/trace.ts). */
export interface TracedOutput {
  readonly output: StageOutput
  /** Layer j's row (j = 1..L) at index j − 1; the last is `output`. */
  readonly layers: readonly LmRows[]
}

/** Runs `x` as stageStep does, keeping each block's output (throws when the session cannot trace its blocks). */
export const stageTraceStep = (stage: PipelineStage, session: PipelineSession, x: LmInput): TracedOutput => {
  const a = x.input === "tokens" ? stage.embed(Array.from(x.data), x.start) : { start: x.start, length: x.length, dim: x.dim, data: x.data as Float32Array }
  const blocks = session.forwardTrace !== undefined ? session.forwardTrace(a) : stage.to === stage.from ? [session.forward(a)] : undefined
  if (blocks === undefined) throw new RangeError(`the session of blocks ${stage.from}-${stage.to} cannot trace its blocks`)
  const y = blocks[blocks.length - 1]!
  const output: StageOutput = !stage.heads
    ? { start: y.start, length: y.length, dim: y.dim, output: "activations", data: y.data }
    : { start: y.start + y.length - 1, length: 1, dim: stage.vocabSize, output: "logits", data: stage.head(y).slice((y.length - 1) * stage.vocabSize) }
  const rows = blocks.slice(0, -1).map((b): LmRows => ({ kind: "activations", start: b.start, length: b.length, dim: b.dim, data: b.data }))
  return { output, layers: [...rows, rowsOf(output)] }
}

/** A stage output as a trace row. */
export const rowsOf = (y: StageOutput): LmRows => ({ kind: y.output, start: y.start, length: y.length, dim: y.dim, data: y.data })

/** An input as a trace row (layer 0). */
export const inputRows = (x: LmInput): LmRows => ({ kind: x.input, start: x.start, length: x.length, dim: x.dim, data: x.data })
