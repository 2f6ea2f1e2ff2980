/** Contribution scores on synthetic honest and byzantine update sets (fixed seeds). */
import { describe, expect, it } from "vitest"
import { median } from "./aggregators.ts"
import { gaussianFromU32 } from "./dp.ts"
import { cohortScore, cohortScores, contributionScores, robustContributionScores, SCORE_MAX } from "./scores.ts"
import { seededRandomBytes } from "./secagg/primitives.ts"
import type { ClientUpdate } from "./types.ts"

const D = 4000
const normalFrom = (seed: string) => {
  const rnd = seededRandomBytes(seed)
  return gaussianFromU32(() => new DataView(rnd(4).buffer).getUint32(0))
}
const vector = (f: (i: number) => number) => Float32Array.from({ length: D }, (_, i) => f(i))

/** 8 honest trainers (true direction + as much noise), and one of each misbehaviour. */
const cohort = (seed: string) => {
  const normal = normalFrom(seed)
  const g = vector(() => normal() * 0.01) // this round's true descent direction
  const previous = vector(() => normal() * 0.01) // last round's aggregate
  const honest: ClientUpdate[] = Array.from({ length: 8 }, (_, k) => ({ id: `honest-${k}`, delta: vector((i) => g[i]! + normal() * 0.01), samples: 100 }))
  const byzantine: ClientUpdate[] = [
    { id: "free-zero", delta: new Float32Array(D), samples: 100 },
    { id: "free-stale", delta: Float32Array.from(previous), samples: 100 },
    { id: "sign-flip", delta: vector((i) => -(g[i]! + normal() * 0.01)), samples: 100 },
    { id: "boosted-flip", delta: vector((i) => -10 * g[i]!), samples: 100 },
    { id: "noise", delta: vector(() => normal() * 0.014), samples: 100 },
  ]
  return { honest, byzantine, previous, all: [...honest, ...byzantine] }
}

describe("robustContributionScores (leave-one-out median reference)", () => {
  for (const seed of ["s1", "s2", "s3"]) {
    it(`honest trainers score well, free riders and poisoners about zero (seed ${seed})`, () => {
      const { honest, byzantine, previous, all } = cohort(seed)
      const scores = robustContributionScores(all, { previous })
      expect(scores.size).toBe(all.length)
      for (const s of scores.values()) {
        expect(Number.isInteger(s)).toBe(true)
        expect(s).toBeGreaterThanOrEqual(0)
        expect(s).toBeLessThanOrEqual(SCORE_MAX)
      }
      const honestMin = Math.min(...honest.map((u) => scores.get(u.id)!))
      const byzMax = Math.max(...byzantine.map((u) => scores.get(u.id)!))
      expect(honestMin).toBeGreaterThan(300_000)
      expect(byzMax).toBeLessThan(60_000)
      expect(scores.get("free-zero")).toBe(0)
      expect(scores.get("free-stale")).toBe(0)
      expect(scores.get("sign-flip")).toBe(0)
      expect(scores.get("boosted-flip")).toBe(0)
    })
  }

  it("without `previous`, a stale update still scores about zero (it does not point this round's way)", () => {
    const { all } = cohort("s4")
    expect(robustContributionScores(all).get("free-stale")!).toBeLessThan(60_000)
  })

  it("is invariant under permutation of the updates", () => {
    const { all, previous } = cohort("s6")
    const a = robustContributionScores(all, { previous })
    const b = robustContributionScores([...all].reverse(), { previous })
    expect(new Map([...b].sort())).toEqual(new Map([...a].sort()))
  })

  it("an honest update that is much smaller or larger than the typical one scores less", () => {
    const { honest } = cohort("s5")
    const h0 = honest[0]!
    const tiny = { ...h0, id: "tiny", delta: h0.delta.map((x) => x * 0.05) }
    const huge = { ...h0, id: "huge", delta: h0.delta.map((x) => x * 20) }
    const all = [...honest, tiny, huge]
    const scores = robustContributionScores(all)
    expect(scores.get("tiny")!).toBeLessThan(scores.get(h0.id)! / 10)
    expect(scores.get("huge")!).toBeLessThan(scores.get(h0.id)! / 10)
  })

  it("against a shared median (contributionScores) the order is the same but noise keeps some self-credit", () => {
    const { honest, all, previous } = cohort("s1")
    const shared = contributionScores(all, median(all), { previous })
    const loo = robustContributionScores(all, { previous })
    expect(Math.min(...honest.map((u) => shared.get(u.id)!))).toBeGreaterThan(shared.get("noise")!)
    expect(shared.get("noise")!).toBeGreaterThan(loo.get("noise")!)
    expect(shared.get("sign-flip")).toBe(0)
    expect(shared.get("free-zero")).toBe(0)
  })

  it("rejects a length mismatch", () => {
    expect(() => robustContributionScores([{ id: "a", delta: new Float32Array(3), samples: 1 }])).toThrow(/at least 2 updates/)
    expect(() => contributionScores([{ id: "a", delta: new Float32Array(3), samples: 1 }], new Float32Array(2))).toThrow(/"a" has 3 parameters, the reference 2/)
  })
})

describe("cohort scores (secure aggregation)", () => {
  it("score the relative validation-loss improvement, the same for every member", () => {
    expect(cohortScore(2, 1.5)).toBe(250_000)
    expect(cohortScore(2, 2.5)).toBe(0)
    expect(cohortScore(1, 0)).toBe(SCORE_MAX)
    expect(cohortScores(["a", "b"], 2, 1)).toEqual(new Map([["a", 500_000], ["b", 500_000]]))
    expect(() => cohortScore(0, 1)).toThrow(/lossBefore must be positive/)
  })
})
