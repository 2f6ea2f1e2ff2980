import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { annualise, gini, nakamoto, roi, toTokens } from "./metrics.ts"
import { TOKEN } from "../../runtime/core/units.ts"

describe("economic metric formulas", () => {
  it("gini: 0 when equal, (n−1)/n when one holds everything, the textbook value otherwise", () => {
    expect(gini([5, 5, 5, 5])).toBe(0)
    expect(gini([0, 0, 0, 10])).toBeCloseTo(3 / 4, 12)
    // Σ|xi−xj| over ordered pairs of [1,2,3,4] = 20; G = 20 / (2 · 4² · 2.5) = 0.25
    expect(gini([4, 1, 3, 2])).toBeCloseTo(0.25, 12)
    expect(gini([])).toBe(0)
  })

  it("gini matches the mean-absolute-difference definition on random stakes", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 30 }), (xs) => {
      const n = xs.length
      const mean = xs.reduce((s, x) => s + x, 0) / n
      let sum = 0
      for (const a of xs) for (const b of xs) sum += Math.abs(a - b)
      const expected = mean === 0 ? 0 : sum / (2 * n * n * mean)
      expect(gini(xs)).toBeCloseTo(expected, 9)
    }))
  })

  it("nakamoto: the fewest validators whose power exceeds total − quorum (can withhold a quorum)", () => {
    // 4 equal powers of 1: total 4, quorum 3 (> 2/3): one holds 1 = 4 − 3, not more; two can stop it.
    expect(nakamoto([1n, 1n, 1n, 1n], 3n)).toBe(2)
    // one validator over a third stops the chain alone
    expect(nakamoto([40n, 30n, 30n], 67n)).toBe(1)
    // 3 equal: quorum 3 needs all of them, so any one can halt
    expect(nakamoto([1n, 1n, 1n], 3n)).toBe(1)
    expect(nakamoto([10n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n], 14n)).toBe(1)
  })

  it("roi is (rewards − lost) / stake at risk; annualise scales by a year over the elapsed time", () => {
    expect(roi(5, 50, 1000)).toBeCloseTo(-0.045, 12)
    expect(roi(10, 0, 1000)).toBeCloseTo(0.01, 12)
    expect(roi(1, 1, 0)).toBe(0)
    expect(annualise(1, 100, 365 * 24 * 3600 * 1000)).toBeCloseTo(0.01, 12)
    expect(annualise(1, 100, 24 * 3600 * 1000)).toBeCloseTo(3.65, 12)
    expect(annualise(1, 100, 0)).toBeNull()
    expect(toTokens(1234n * TOKEN + TOKEN / 2n)).toBe(1234.5)
  })
})
