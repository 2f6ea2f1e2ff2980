import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { annualise, APR_MIN_SPAN_MS, aprMeaningful, formatEconomics, gini, nakamoto, pays, PAYS_TOLERANCE, roi, toTokens, type EconomicMetrics } from "./metrics.ts"
import { DAY_MS } from "../../runtime/core/duration.ts"
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

describe("the economics line", () => {
  const metrics = (span: number, over: Partial<EconomicMetrics> = {}): EconomicMetrics => ({
    span, honestReturn: 0.0035, honestRewards: 3.51, honestApr: annualise(3.51, 1000, span), honestAprMin: annualise(3.51, 1000, span), contributorApr: null, contributorReturn: null,
    attackers: [{ node: "v0", behavior: "silent", since: 0, stakeAtRisk: 1000, rewards: 0.00054, stakeLost: 0, profit: 0.00054, roi: 5.4e-7, peerReturn: null, excessRoi: 5.4e-7 }],
    attackerRoi: 5.4e-7, attackerExcessRoi: 5.4e-7, attackerProfit: 0.00054, stakeGini: 0, nakamoto: 2, supply: 1e9, burnt: 0, insurancePool: 0, insurancePaidIn: 0, insurancePayouts: 0,
    totalSlashed: 0, rewardsFunded: 0, supplySeries: [], ...over,
  })

  it("a run shorter than 7 days gives what was earned, not an APR (45 s used to read 245,000 %)", () => {
    expect(APR_MIN_SPAN_MS).toBe(7 * DAY_MS)
    const line = formatEconomics(metrics(45_300))
    expect(line).not.toMatch(/APR \d/)
    expect(line).toMatch(/honest return 3\.50e-3 of stake over 45\.3s, 3\.51 tokens each/)
    expect(line).toMatch(/no APR: runs under 7 days are not annualised/)
  })

  it("a run of 7 days or more gives the APR", () => {
    expect(aprMeaningful(7 * DAY_MS)).toBe(true)
    expect(aprMeaningful(7 * DAY_MS - 1)).toBe(false)
    const line = formatEconomics(metrics(30 * DAY_MS))
    expect(line).toMatch(/^honest APR 4\.27%/)
    expect(line).not.toMatch(/honest return/)
  })

  it("an attack pays only above the tolerance of 1e-4 of the stake at risk", () => {
    expect(PAYS_TOLERANCE).toBe(1e-4)
    expect([pays(5.4e-7), pays(1e-4), pays(1.01e-4), pays(-0.05)]).toEqual([false, false, true, false])
    expect(formatEconomics(metrics(45_300))).toMatch(/v0 \(silent\) ROI 5\.40e-7 \(profit 0\.00, does not pay\)/)
    expect(formatEconomics(metrics(45_300, { attackers: [{ ...metrics(0).attackers[0]!, roi: 0.02, profit: 20 }] }))).toMatch(/profit 20\.00, pays\)/)
  })
})
