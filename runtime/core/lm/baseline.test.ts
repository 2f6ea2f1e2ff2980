import { describe, expect, it } from "vitest"
import { bigramCrossEntropy, countNgrams, unigramCrossEntropy } from "./baseline.ts"

const V = 4

describe("n-gram baselines", () => {
  it("unigram: add-one frequencies of the training tokens, on validation tokens 1..n-1", () => {
    const c = countNgrams([0, 0, 0, 1], V) // p(0) = 4/8, p(1) = 2/8, p(2) = p(3) = 1/8
    const m = unigramCrossEntropy(c, [3, 0, 1])
    expect(m.tokens).toBe(2)
    expect(m.nats).toBeCloseTo(-(Math.log(4 / 8) + Math.log(2 / 8)) / 2, 12)
    expect(m.bitsPerToken).toBeCloseTo(m.nats / Math.LN2, 12)
  })

  it("bigram: counts after the previous token, smoothed toward the unigram", () => {
    const train = [0, 1, 0, 1, 0, 1, 0, 1]
    const c = countNgrams(train, V)
    // After 0 always 1: p(1|0) = (4 + p(1)) / (4 + 1) with p(1) = (4+1)/(8+4).
    const p1 = 5 / 12
    expect(bigramCrossEntropy(c, [0, 1]).nats).toBeCloseTo(-Math.log((4 + p1) / 5), 12)
    // On text that alternates like the training text, the bigram predicts far better than the unigram.
    expect(bigramCrossEntropy(c, train).nats).toBeLessThan(unigramCrossEntropy(c, train).nats / 2)
  })

  it("gives unseen tokens a probability above zero", () => {
    const c = countNgrams([0, 0, 0], V)
    expect(Number.isFinite(bigramCrossEntropy(c, [0, 3, 2]).nats)).toBe(true)
    expect(Number.isFinite(unigramCrossEntropy(c, [0, 3, 2]).nats)).toBe(true)
  })
})
