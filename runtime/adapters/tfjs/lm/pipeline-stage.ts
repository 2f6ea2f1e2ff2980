/**
 * A stage of the checkpoint as the stage server's `PipelineStage` (runtime/core/lm/pipeline.ts): the
 * tfjs `Stage` of stage.ts plus the model's shape and what the stage holds, so the actor that serves
 * it never touches tfjs.
 */
import * as tf from "@tensorflow/tfjs"
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
    // The backend active now computes its forwards (a node selects it once, before loading).
    backend: tf.getBackend(),
    openSession: () => stage.openSession(),
    embed: (tokens, start) => stage.embed(tokens, start),
    head: (x) => stage.head(x),
    dispose: () => stage.part.dispose(),
  }
}

/** The TensorFlow.js backend active now: what a stage loaded now computes on, and what a referee's re-executions run on. */
export const activeLmBackend = (): string => tf.getBackend()
