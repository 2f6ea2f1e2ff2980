/**
 * The fused pass equals the term-by-term definition: out + Σ inputs ± expandMask(seed) mod 2^32, for
 * any mix and order of terms and lengths that end inside or on a chunk boundary. Seed printed.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ACCUMULATE_CHUNK, accumulate, expandMask, seededRandomBytes, type MaskTerm } from "./primitives.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 25)
const SEED = Number(process.env.DAI_PROPERTY_SEED ?? Date.now() % 2 ** 31)
console.info(`accumulate properties: SEED=${SEED} (replay: DAI_PROPERTY_SEED=${SEED})`)

describe("accumulate", () => {
  it("property: equals adding each input and ± each expanded mask one at a time", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 7, ACCUMULATE_CHUNK - 1, ACCUMULATE_CHUNK, ACCUMULATE_CHUNK + 1, 2 * ACCUMULATE_CHUNK + 4_321),
        fc.array(fc.oneof(fc.constant("input" as const), fc.constant(1 as const), fc.constant(-1 as const)), { maxLength: 7 }),
        fc.string({ maxLength: 6 }),
        (length, kinds, tag) => {
          const rnd = seededRandomBytes(`acc/${tag}`)
          const start = new Uint32Array(rnd(4 * length).buffer)
          const terms = kinds.map((k): Uint32Array | MaskTerm => (k === "input" ? new Uint32Array(rnd(4 * length).buffer) : { seed: rnd(32), sign: k }))
          const expected = Uint32Array.from(start)
          for (const t of terms) {
            const v = t instanceof Uint32Array ? t : expandMask(t.seed, length)
            const sign = t instanceof Uint32Array ? 1 : t.sign
            for (let i = 0; i < length; i++) expected[i] = (expected[i]! + sign * v[i]!) >>> 0
          }
          const out = Uint32Array.from(start)
          accumulate(out, terms)
          expect(out).toEqual(expected)
        },
      ),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it("refuses an input of another length and a seed that is not 32 bytes", () => {
    expect(() => accumulate(new Uint32Array(4), [new Uint32Array(5)])).toThrow(/an input has 5 words, the sum 4/)
    expect(() => accumulate(new Uint32Array(4), [{ seed: new Uint8Array(31), sign: 1 }])).toThrow(/32 bytes, got 31/)
  })
})
