/**
 * The baselines a language model must beat, measured on the same validation tokens: a unigram model
 * (each token's frequency in the training split) and a bigram model (the next token's frequency
 * after the previous one), both smoothed so no token has probability zero.
 */

/** Cross-entropy of a model over the validation targets. */
export interface Measured {
  /** Mean negative log-likelihood per token, in nats. */
  readonly nats: number
  /** The same in bits per token (bits per byte for the byte-level tokenizer). */
  readonly bitsPerToken: number
  /** Number of predicted tokens. */
  readonly tokens: number
}

/** Nats per token to a Measured. */
export const measured = (totalNats: number, tokens: number): Measured => ({ nats: totalNats / tokens, bitsPerToken: totalNats / tokens / Math.LN2, tokens })

/** Counts of each token in `train`, and of each pair (prev, next). */
export interface NgramCounts {
  readonly vocabSize: number
  readonly unigram: Float64Array
  /** [prev * vocabSize + next]. */
  readonly bigram: Float64Array
  readonly total: number
}

/** The unigram and bigram counts of `train`. */
export function countNgrams(train: ArrayLike<number>, vocabSize: number): NgramCounts {
  const unigram = new Float64Array(vocabSize)
  const bigram = new Float64Array(vocabSize * vocabSize)
  for (let i = 0; i < train.length; i++) {
    unigram[train[i]!]!++
    if (i > 0) bigram[train[i - 1]! * vocabSize + train[i]!]!++
  }
  return { vocabSize, unigram, bigram, total: train.length }
}

/** Unigram probability with add-one (Laplace) smoothing. */
const unigramP = (c: NgramCounts, t: number): number => (c.unigram[t]! + 1) / (c.total + c.vocabSize)

/**
 * The unigram model's cross-entropy on `val`'s tokens 1..n-1 (the tokens a model predicts: every
 * token but the first, which has no context).
 */
export function unigramCrossEntropy(c: NgramCounts, val: ArrayLike<number>): Measured {
  let nats = 0
  for (let i = 1; i < val.length; i++) nats -= Math.log(unigramP(c, val[i]!))
  return measured(nats, val.length - 1)
}

/**
 * The bigram model's cross-entropy on `val`'s tokens 1..n-1: p(b | a) = (count(a b) + α·p(b)) /
 * (count(a) + α), Dirichlet smoothing toward the unigram p (MacKay & Peto 1995), α = `alpha`.
 */
export function bigramCrossEntropy(c: NgramCounts, val: ArrayLike<number>, alpha = 1): Measured {
  const following = new Float64Array(c.vocabSize)
  for (let a = 0; a < c.vocabSize; a++) for (let b = 0; b < c.vocabSize; b++) following[a]! += c.bigram[a * c.vocabSize + b]!
  let nats = 0
  for (let i = 1; i < val.length; i++) {
    const a = val[i - 1]!
    const b = val[i]!
    nats -= Math.log((c.bigram[a * c.vocabSize + b]! + alpha * unigramP(c, b)) / (following[a]! + alpha))
  }
  return measured(nats, val.length - 1)
}
