import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Prng } from "../kernel/index.ts"
import { gridIndices, gridSize, latinHypercube } from "./sample.ts"

describe("sampling", () => {
  it("Latin hypercube: exactly one sample per stratum in every dimension, all in [0, 1)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 ** 31 }), (n, dims, seed) => {
      const rows = latinHypercube(n, dims, Prng.fromSeed(seed))
      expect(rows).toHaveLength(n)
      for (let d = 0; d < dims; d++) {
        const strata = rows.map((r) => Math.floor(r[d]! * n))
        for (const r of rows) expect(r[d]! >= 0 && r[d]! < 1).toBe(true)
        expect(new Set(strata).size).toBe(n)
      }
    }))
  })

  it("Latin hypercube is a function of the seed", () => {
    expect(latinHypercube(8, 3, Prng.fromSeed(4))).toEqual(latinHypercube(8, 3, Prng.fromSeed(4)))
    expect(latinHypercube(8, 3, Prng.fromSeed(4))).not.toEqual(latinHypercube(8, 3, Prng.fromSeed(5)))
  })

  it("grid: every index maps to a distinct combination, and every combination is reached", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), (counts) => {
      const size = gridSize(counts)
      const seen = new Set<string>()
      for (let i = 0; i < size; i++) {
        const idx = gridIndices(counts, i)
        idx.forEach((v, d) => expect(v >= 0 && v < counts[d]!).toBe(true))
        seen.add(idx.join(","))
      }
      expect(seen.size).toBe(size)
    }))
  })
})
