/**
 * The language model of a scenario file (`network.lmStages` and its extensions, scenarios/README.md),
 * checked and normalised: the model split in `lmStages` block ranges over the market's providers
 * (provider p<i> serves range i mod lmStages), requesters generating through the pipeline at the
 * market's `jobRate`. Every problem is a FileError naming the key. Pure.
 */
import { parseDuration } from "../../runtime/core/duration.ts"
import { FileError } from "./decode-file.ts"
import type { MarketSetup } from "./market-setup.ts"
import type { ScenarioFile } from "./schema.ts"

/** The committed checkpoint's shape (runtime/adapters/tfjs/lm/checkpoint/config.json; lm-setup.test.ts checks it). */
export const LM_MODEL = { blocks: 4, contextLength: 64 } as const

export interface LmSetup {
  /** Stages of the pipeline (block ranges). */
  readonly stages: number
  readonly blocks: number
  readonly contextLength: number
  /** The block ranges, in order, covering 0..blocks-1. */
  readonly ranges: ReadonlyArray<{ readonly from: number; readonly to: number }>
  /** Per provider (p0, p1, ...): the index of the range it serves. */
  readonly serves: readonly number[]
  /** Tokens each generation asks for. */
  readonly tokens: number
  /** Prompt positions each generation starts with (prefilled in one request per stage). */
  readonly prompt: number
  /** Tokens a stage bills in one debit note. */
  readonly chunk: number
  /** How long the client waits for a stage's reply before it fails the stage over (ms). */
  readonly timeout: number
}

/** `stages` ranges of `blocks` blocks as even as they go: stage i holds [⌊i·B/S⌋, ⌊(i+1)·B/S⌋ − 1]. */
export const splitBlocks = (blocks: number, stages: number): Array<{ readonly from: number; readonly to: number }> =>
  Array.from({ length: stages }, (_, i) => ({ from: Math.floor((i * blocks) / stages), to: Math.floor(((i + 1) * blocks) / stages) - 1 }))

/** The language model of `s` (undefined when it has none); `market` is its parsed market; `file` names errors. */
export const parseLm = (s: ScenarioFile, file: string, market: MarketSetup | undefined): LmSetup | undefined => {
  const n = s.network
  const keys = (["lmStages", "lmTokens", "lmPrompt", "lmChunk", "lmTimeout"] as const).filter((k) => n[k] !== undefined)
  if (keys.length === 0) return undefined
  if (n.lmStages === undefined) throw new FileError({ file, key: `network.${keys[0]}`, reason: "the language-model keys need network.lmStages (the stages the model is split in)" })
  const stages = n.lmStages
  const { blocks, contextLength } = LM_MODEL
  if (stages > blocks) throw new FileError({ file, key: "network.lmStages", reason: `the model has ${blocks} blocks: at most ${blocks} stages, got ${stages}` })
  if (market === undefined) throw new FileError({ file, key: "network.lmStages", reason: "a pipeline needs the market's nodes: network.providers (the stage servers), network.requesters and network.jobRate" })
  if (market.providers.length < stages) throw new FileError({ file, key: "network.providers", reason: `${stages} stages need at least ${stages} providers (p<i> serves stage i mod lmStages), got ${market.providers.length}` })
  const tokens = n.lmTokens ?? 32
  const prompt = n.lmPrompt ?? 16
  if (prompt + tokens > contextLength) {
    throw new FileError({ file, key: n.lmTokens !== undefined ? "network.lmTokens" : "network.lmPrompt", reason: `lmPrompt (${prompt}) + lmTokens (${tokens}) pass the model's context of ${contextLength} positions` })
  }
  const timeout = n.lmTimeout === undefined ? 2_000 : parseDuration(n.lmTimeout)!
  if (timeout <= 0) throw new FileError({ file, key: "network.lmTimeout", reason: "a stage's timeout must be above 0" })
  return {
    stages,
    blocks,
    contextLength,
    ranges: splitBlocks(blocks, stages),
    serves: market.providers.map((_, i) => i % stages),
    tokens,
    prompt,
    chunk: Math.min(n.lmChunk ?? 8, tokens),
    timeout,
  }
}
