import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, REGISTRY, resolveParams, type Params } from "../../core/params.ts"
import { cohortSizeOf, roundParams, secAggThresholdOf, stepTimeoutOf, trainerSecAggParams } from "./round-params.ts"

const withParams = (overrides: Record<string, unknown>): Params => Result.getOrThrow(resolveParams(overrides))
const within = (name: "training.cohort" | "training.minParticipants" | "training.secAggThreshold" | "training.dp.noiseMultiplier") =>
  fc.double({ min: REGISTRY[name].min, max: REGISTRY[name].max, noNaN: true })

describe("round settings", () => {
  it("give each secure-aggregation step a third of the deadline, never under 5 s", () => {
    expect(stepTimeoutOf(60_000)).toBe(20_000)
    expect(stepTimeoutOf(10_000)).toBe(5_000)
    expect(stepTimeoutOf(1_000)).toBe(5_000)
    expect(stepTimeoutOf(20_000)).toBe(6_667)
  })

  it("open a round over the registry's training settings", () => {
    const p = withParams({ "training.cohort": 0.5, "training.minParticipants": 0.5, "training.secAggThreshold": 0.66, "training.roundDeadline": "30s", "training.aggregator": "krum", "training.trimFraction": 0.2, "training.dp.clipNorm": 2, "training.dp.noiseMultiplier": 1, "training.secureAggregation": true, "training.secAggGraph": "sparse" })
    expect(roundParams(p, 9)).toEqual({
      cohortSize: 5, deadline: 30_000, minParticipants: 3, stepTimeout: 10_000, secureAggregation: true, secAggThreshold: 4, secAggGraph: "sparse",
      aggregator: "krum", trimFraction: 0.2, clipNorm: 2, noiseMultiplier: 1,
    })
    expect(trainerSecAggParams(p, 9)).toEqual({ threshold: 4, clip: 2, clipOwn: true, graph: "sparse" })
    expect(trainerSecAggParams(DEFAULT_PARAMS, 9).clipOwn).toBe(false)
  })

  it("property: a cohort of at least one and at most every trainer; the trainers' threshold is the coordinator's", () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 500 }), within("training.cohort"), within("training.minParticipants"), within("training.secAggThreshold"),
      fc.integer({ min: REGISTRY["training.roundDeadline"].min, max: REGISTRY["training.roundDeadline"].max }), within("training.dp.noiseMultiplier"),
      (n, cohort, min, threshold, deadline, noise) => {
        const p = withParams({ "training.cohort": cohort, "training.minParticipants": min, "training.secAggThreshold": threshold, "training.roundDeadline": deadline, "training.dp.noiseMultiplier": noise })
        const r = roundParams(p, n)
        expect(r.cohortSize).toBe(cohortSizeOf(p, n))
        expect(r.cohortSize).toBeGreaterThanOrEqual(1)
        expect(r.cohortSize).toBeLessThanOrEqual(Math.max(1, n))
        expect(r.minParticipants).toBeGreaterThanOrEqual(1)
        expect(r.minParticipants).toBeLessThanOrEqual(r.cohortSize)
        // Never fewer than two: a sum unmasked from one survivor would be its own input.
        expect(r.secAggThreshold).toBe(secAggThresholdOf(p, n))
        expect(r.secAggThreshold).toBe(Math.max(2, Math.ceil(threshold * r.cohortSize)))
        expect(trainerSecAggParams(p, n)).toEqual({ threshold: r.secAggThreshold, clip: r.clipNorm, clipOwn: noise > 0, graph: r.secAggGraph })
        expect(r.stepTimeout).toBeGreaterThanOrEqual(5_000)
        expect(r.stepTimeout).toBeGreaterThanOrEqual(Math.floor(deadline / 3))
      },
    ))
  })
})
