/** Fixed-point encoding: round-trip error bounds, clipping, sums that cannot overflow. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { dequantize, quantize, QUANT_MAX } from "./quantize.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)

describe("quantize / dequantize", () => {
  it("round-trips every value within half a step (clip / QUANT_MAX / 2) plus float32 rounding", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 100, noNaN: true }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 64 }),
        (clip, unit) => {
          const delta = Float32Array.from(unit.map((x) => x * clip))
          const back = dequantize(quantize(delta, clip, 10), clip, 1)
          const step = clip / QUANT_MAX
          delta.forEach((x, i) => expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(step / 2 + Math.abs(x) * 2 ** -23))
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("the sum of n quantized vectors decodes to the sum of the clipped values within n/2 steps", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }),
        (n, base) => {
          const clip = 2
          const vectors = Array.from({ length: n }, (_, k) => Float32Array.from(base.map((b, i) => b * Math.cos(k + i))))
          const sum = new Uint32Array(4)
          for (const v of vectors) quantize(v, clip, n).forEach((q, i) => (sum[i] = (sum[i]! + q) >>> 0))
          const decoded = dequantize(sum, clip, n)
          for (let i = 0; i < 4; i++) {
            const exact = vectors.reduce((s, v) => s + Math.max(-clip, Math.min(clip, v[i]!)), 0)
            expect(Math.abs(decoded[i]! - exact)).toBeLessThanOrEqual((n * clip) / QUANT_MAX / 2 + Math.abs(exact) * 2 ** -23 + 1e-12)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("clips to [−clip, clip] and 256 values at the extremes do not overflow", () => {
    const q = quantize(Float32Array.from([5, -5, 0.5]), 1, 256)
    expect(Array.from(q)).toEqual([QUANT_MAX, (2 ** 32 - QUANT_MAX) >>> 0, Math.round(QUANT_MAX / 2)])
    const top = new Uint32Array(1)
    const bottom = new Uint32Array(1)
    for (let k = 0; k < 256; k++) {
      top[0] = (top[0]! + q[0]!) >>> 0
      bottom[0] = (bottom[0]! + q[1]!) >>> 0
    }
    expect(dequantize(top, 1, 256)[0]).toBe(256)
    expect(dequantize(bottom, 1, 256)[0]).toBe(-256)
  })

  it("rejects bad input and a vector that cannot be a sum of count values", () => {
    expect(() => quantize(Float32Array.from([Number.NaN]), 1, 3)).toThrow(/NaN at index 0/)
    expect(() => quantize(new Float32Array(1), 0, 3)).toThrow(/clip must be a positive finite number/)
    expect(() => quantize(new Float32Array(1), 1, 257)).toThrow(/participants must be an integer in \[1, 256\]/)
    expect(() => dequantize(Uint32Array.from([3 * QUANT_MAX]), 1, 2)).toThrow(/index 0 is not a sum of 2 quantized values/)
  })
})
