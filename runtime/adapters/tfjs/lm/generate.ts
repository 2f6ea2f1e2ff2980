/**
 * Text generation with the attention cache: the prompt is run once through every block (filling
 * each block's cache), then each new token costs one position's work. Deterministic for a given
 * seed on a given backend (the cpu backend's kernels are plain JavaScript, the same on every machine).
 */
import * as tf from "@tensorflow/tfjs"
import { ENTRY_END } from "../../../core/lm/corpus.ts"
import { pickToken, type SamplingOptions } from "../../../core/lm/sampling.ts"
import { encode } from "../../../core/lm/tokenizer.ts"
import { type Seed, seededRandom } from "../rng.ts"
import { disposeCache, emptyCache, type Gpt, type KvCache } from "./gpt.ts"

/** How to generate. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate. */
  readonly maxTokens: number
  /** Seed of the sampling stream (unused when greedy). */
  readonly seed: Seed
  /** Stop after the model ends the entry it writes (the corpus's `\n%\n`). */
  readonly stopAtEntryEnd?: boolean
}

/**
 * The tokens the model is given for `prompt`: the corpus's entry separator, then the prompt, so the
 * model starts a fresh entry (and an empty prompt is a valid one).
 */
export const promptTokens = (prompt: string): number[] => encode(ENTRY_END + prompt)

const END = encode(`\n${ENTRY_END}`)

const endsWith = (a: readonly number[], b: readonly number[]): boolean => a.length >= b.length && b.every((t, i) => a[a.length - b.length + i] === t)

/** The last position's logits of `tokens` run from position `start` with `caches` (appended to). */
const step = (model: Gpt, tokens: readonly number[], start: number, caches: readonly KvCache[]): Float32Array =>
  tf.tidy(() => {
    const logits = model.forward(tf.tensor2d(Int32Array.from(tokens), [1, tokens.length], "int32"), start, caches)
    return tf.slice(logits, [0, tokens.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array
  })

/**
 * Generates tokens after `context` (token ids), one at a time (`onToken` hears each). When the
 * context is full, the cache is rebuilt from the last half of the text (a sliding window).
 */
export function generateTokens(model: Gpt, context: readonly number[], o: GenerateOptions, onToken: (token: number) => void = () => undefined): number[] {
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 0) throw new RangeError(`maxTokens must be an integer ≥ 0, got ${o.maxTokens}`)
  if (context.length === 0) throw new RangeError("generation needs at least one context token")
  const n = model.config.contextLength
  const rng = seededRandom(o.seed, "lm-sample")
  const caches = Array.from({ length: model.config.blocks }, emptyCache)
  const text = context.slice(-n)
  const out: number[] = []
  try {
    let logits = step(model, text, 0, caches)
    for (let i = 0; i < o.maxTokens; i++) {
      const t = pickToken(logits, o, rng)
      out.push(t)
      text.push(t)
      onToken(t)
      if (o.stopAtEntryEnd === true && endsWith(text, END)) break
      if (i + 1 === o.maxTokens) break
      if (caches[0]!.length >= n) {
        caches.forEach(disposeCache)
        const keep = text.slice(-Math.floor(n / 2))
        logits = step(model, keep, 0, caches)
      } else {
        logits = step(model, [t], caches[0]!.length, caches)
      }
    }
  } finally {
    caches.forEach(disposeCache)
  }
  return out
}
