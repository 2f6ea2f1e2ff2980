import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { argmax, pickToken } from "./sampling.ts"

const logits = fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 40 })

/** A stream of fixed draws. */
const draws = (xs: readonly number[]) => {
  let i = 0
  return () => xs[i++ % xs.length]!
}

describe("token sampling", () => {
  it("property: temperature 0 is the argmax (the lowest id on a tie)", () => {
    fc.assert(fc.property(logits, (l) => {
      expect(pickToken(l, { temperature: 0 }, () => 0.5)).toBe(argmax(l))
    }))
    expect(argmax([1, 3, 3])).toBe(1)
  })

  it("property: a sampled token is among the top k, and the same draws give the same token", () => {
    fc.assert(
      fc.property(logits, fc.integer({ min: 1, max: 5 }), fc.float({ min: 0, max: Math.fround(0.999), noNaN: true }), (l, k, u) => {
        const t = pickToken(l, { temperature: 0.7, topK: k }, draws([u]))
        const above = l.filter((x) => x > l[t]!).length
        expect(above).toBeLessThan(k)
        expect(pickToken(l, { temperature: 0.7, topK: k }, draws([u]))).toBe(t)
      }),
    )
  })

  it("draws by the softmax: the first token's share of [0, 1) picks it", () => {
    // Two tokens with equal logits: draws below 0.5 pick 0, above pick 1.
    expect(pickToken([2, 2], { temperature: 1 }, draws([0.49]))).toBe(0)
    expect(pickToken([2, 2], { temperature: 1 }, draws([0.51]))).toBe(1)
  })

  it("rejects a negative temperature and a bad top k", () => {
    expect(() => pickToken([1], { temperature: -1 }, Math.random)).toThrow(/temperature/)
    expect(() => pickToken([1], { temperature: 1, topK: 0 }, Math.random)).toThrow(/topK/)
  })
})
