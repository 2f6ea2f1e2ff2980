/** Clipping and Gaussian noise of DP-FedAvg. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { seededRandomBytes } from "./secagg/primitives.ts"
import { addGaussianNoise, clipL2, gaussianFromU32, l2Norm, noisyMean } from "./dp.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const u32From = (seed: string) => {
  const rnd = seededRandomBytes(seed)
  return () => new DataView(rnd(4).buffer).getUint32(0)
}

describe("clipL2", () => {
  it("scales down to the clip norm, keeps the direction, and reports the norm before clipping", () => {
    const { clipped, norm } = clipL2(Float32Array.from([3, 4]), 1)
    expect(norm).toBe(5)
    expect(clipped[0]).toBeCloseTo(0.6, 6)
    expect(clipped[1]).toBeCloseTo(0.8, 6)
  })
  it("leaves an update within the norm unchanged (as a copy)", () => {
    const d = Float32Array.from([0.1, -0.2])
    const { clipped } = clipL2(d, 1)
    expect(clipped).toEqual(d)
    expect(clipped).not.toBe(d)
  })
  it("property: the clipped norm never exceeds the clip", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        (values, clip) => {
          const { clipped, norm } = clipL2(Float32Array.from(values), clip)
          expect(l2Norm(clipped)).toBeLessThanOrEqual(clip)
          if (norm <= clip) expect(Array.from(clipped)).toEqual(Array.from(Float32Array.from(values)))
        },
      ),
      { numRuns: RUNS },
    )
  })
  it("rejects a bad clip or a non-finite update", () => {
    expect(() => clipL2(new Float32Array(2), 0)).toThrow(/clipNorm must be positive/)
    expect(() => clipL2(Float32Array.from([Infinity]), 1)).toThrow(/non-finite/)
  })
})

describe("Gaussian noise", () => {
  it("standard normal draws have mean ≈ 0 and std ≈ 1 (fixed seed, 40,000 draws)", () => {
    const normal = gaussianFromU32(u32From("normal"))
    const xs = Array.from({ length: 40_000 }, normal)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length)
    // Standard errors: 0.005 for the mean, 0.0035 for the sd; bounds at ~5 standard errors.
    expect(Math.abs(mean)).toBeLessThan(0.025)
    expect(Math.abs(sd - 1)).toBeLessThan(0.02)
    // The tails are there too: about 4.55% beyond ±2σ.
    const beyond2 = xs.filter((x) => Math.abs(x) > 2).length / xs.length
    expect(beyond2).toBeGreaterThan(0.04)
    expect(beyond2).toBeLessThan(0.051)
  })
  it("addGaussianNoise adds std·N(0,1) per coordinate and is deterministic given the source", () => {
    const v = new Float32Array(20_000).fill(3)
    const a = addGaussianNoise(v, 0.5, gaussianFromU32(u32From("n")))
    const b = addGaussianNoise(v, 0.5, gaussianFromU32(u32From("n")))
    expect(a).toEqual(b)
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - 3) ** 2, 0) / a.length)
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.015)
    expect(addGaussianNoise(v, 0, gaussianFromU32(u32From("n")))).toEqual(v)
  })
  it("noisyMean puts noise of std z·S on the sum, then divides by the count", () => {
    const sum = new Float32Array(20_000).fill(10)
    const mean = noisyMean(sum, 4, 2, 1.5, gaussianFromU32(u32From("m")))
    const avg = mean.reduce((s, x) => s + x, 0) / mean.length
    const sd = Math.sqrt(mean.reduce((s, x) => s + (x - 2.5) ** 2, 0) / mean.length)
    expect(Math.abs(avg - 2.5)).toBeLessThan(0.02)
    // std of the sum's noise 1.5·2 = 3, divided by 4 → 0.75
    expect(Math.abs(sd - 0.75)).toBeLessThan(0.025)
    expect(() => noisyMean(sum, 0, 1, 1, () => 0)).toThrow(/count must be a positive integer/)
  })
})
