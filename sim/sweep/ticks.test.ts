import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rangeLabels } from "./ticks.ts"

describe("rangeLabels", () => {
  it("labels the ticks of a supply axis that moved by 20,000 in 1e9 apart (they used to read 1.00e+9 three times)", () => {
    const lo = 999_980_000
    const hi = 1_000_000_000
    const pad = (hi - lo) * 0.08
    expect(rangeLabels([lo - pad, (lo + hi) / 2, hi + pad])).toEqual(["999.98M", "999.99M", "1.00000B"])
  })

  it("uses units and exponents, 3 significant figures by default", () => {
    expect(rangeLabels([0.0736, 0.325, 0.576])).toEqual(["0.0736", "0.325", "0.576"])
    expect(rangeLabels([-1600, 10_000, 21_600])).toEqual(["-1.60k", "10.0k", "21.6k"])
    expect(rangeLabels([2e7, 1e8])).toEqual(["20.0M", "100M"])
    expect(rangeLabels([5.4e-7, -9.95e-5, 0])).toEqual(["5.40e-7", "-9.95e-5", "0"])
    expect(rangeLabels([Number.NaN])).toEqual(["–"])
  })

  it("never rounds 999.98M up to 1000.0M: more decimals first", () => {
    expect(rangeLabels([999_980_000, 1e9], 1)).toEqual(["999.98M", "1.000B"])
  })

  it("evenly spaced ticks get distinct labels whenever their spacing is at least 1e-5 of their size", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.double({ min: 1e-5, max: 10, noNaN: true }), (centre, relative) => {
        const step = Math.max(Math.abs(centre) * relative, 1e-9)
        const ticks = [centre - step, centre, centre + step]
        const labels = rangeLabels(ticks)
        expect(new Set(labels).size).toBe(3)
      }),
      { numRuns: 500 },
    )
  })
})
