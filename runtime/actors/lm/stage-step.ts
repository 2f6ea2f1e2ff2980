/**
 * One forward of a stage on a session, exactly as a stage server answers it: the stage server and a
 * referee re-executing one of its notes (referee.ts) run this same function, so on the same backend
 * (the cpu backend is the reference) the same inputs give the same bytes.
 */
import type { PipelineSession, PipelineStage } from "../../core/lm/pipeline.ts"
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
