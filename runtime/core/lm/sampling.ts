/**
 * Choosing the next token from the model's logits: greedy (temperature 0) or sampled from
 * softmax(logits / temperature), optionally among the top k. Randomness comes from the caller's
 * uniform stream, so a seeded stream gives the same text every time.
 */

/** How to pick each token. */
export interface SamplingOptions {
  /** 0 = greedy (the most likely token, the lowest id on a tie); > 0 divides the logits. */
  readonly temperature: number
  /** Sample only among the k most likely tokens (all when undefined). */
  readonly topK?: number | undefined
}

/** The index of the largest logit (the first on a tie). */
export const argmax = (logits: ArrayLike<number>): number => {
  let best = 0
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i
  return best
}

/** The next token: greedy, or drawn with `uniform` (a stream in [0, 1)). */
export function pickToken(logits: ArrayLike<number>, options: SamplingOptions, uniform: () => number): number {
  const { temperature, topK } = options
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be a finite number ≥ 0, got ${temperature}`)
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw new RangeError(`topK must be a positive integer, got ${topK}`)
  if (temperature === 0 || topK === 1) return argmax(logits)
  let ids = Array.from({ length: logits.length }, (_, i) => i)
  if (topK !== undefined && topK < ids.length) ids = ids.sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, topK).sort((a, b) => a - b)
  let max = -Infinity
  for (const i of ids) max = Math.max(max, logits[i]!)
  const weights = ids.map((i) => Math.exp((logits[i]! - max) / temperature))
  const total = weights.reduce((a, b) => a + b, 0)
  let r = uniform() * total
  for (let j = 0; j < ids.length; j++) {
    r -= weights[j]!
    if (r < 0) return ids[j]!
  }
  return ids[ids.length - 1]! // rounding left r ≥ 0 after the last weight
}
