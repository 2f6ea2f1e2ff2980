/**
 * A stage of the checkpoint as the stage server's `PipelineStage` (runtime/core/lm/pipeline.ts): the
 * tfjs `Stage` of stage.ts plus the model's shape and what the stage holds, so the actor that serves
 * it never touches tfjs.
 */
import type { PipelineStage } from "../../../core/lm/pipeline.ts"
import { loadStage } from "./stage.ts"

/** Blocks `from..to` of the checkpoint in `dir`, ready to serve; `dispose` frees its weights. */
export function loadPipelineStage(dir: string, from: number, to: number): PipelineStage & { dispose(): void } {
  const stage = loadStage(dir, from, to)
  const { config, held } = stage.part
  return {
    from,
    to,
    blocks: config.blocks,
    dim: config.dim,
    vocabSize: config.vocabSize,
    contextLength: config.contextLength,
    embeds: held.includes("embed"),
    heads: held.includes("head"),
    openSession: () => stage.openSession(),
    embed: (tokens, start) => stage.embed(tokens, start),
    head: (x) => stage.head(x),
    dispose: () => stage.part.dispose(),
  }
}
