/**
 * The mask graphs: "full" is every pair; "sparse" (SecAgg+) is a regular ring of sparseSize(n) − 1
 * neighbours, symmetric, the same for every party that knows the round and U1, and another for
 * another round. Properties print their seed.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { neighbourhoods, sparseSize } from "./graph.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const SEED = Number(process.env.DAI_PROPERTY_SEED ?? Date.now() % 2 ** 31)
console.info(`secagg graph properties: SEED=${SEED} (replay: DAI_PROPERTY_SEED=${SEED})`)

const idsOf = (n: number) => Array.from({ length: n }, (_, i) => `c${String(i).padStart(3, "0")}`)

describe("mask graphs", () => {
  it("neighbourhood sizes are odd and O(log n): 21 of 100, 25 of 255; small rounds are full", () => {
    expect(sparseSize(100)).toBe(21)
    expect(sparseSize(255)).toBe(25)
    expect(sparseSize(10)).toBe(10)
    const g = neighbourhoods(idsOf(100), { round: "r", threshold: 51, length: 1, graph: "sparse" })
    expect(g.size).toBe(21)
    expect(g.threshold).toBe(11) // ⌈51/100 · 21⌉
    const full = neighbourhoods(idsOf(100), { round: "r", threshold: 51, length: 1 })
    expect([full.size, full.threshold, full.of("c007").length]).toEqual([100, 51, 100])
  })

  it("property: sparse is a k-regular symmetric graph, each neighbourhood sorted and holding its owner, a function of (round, U1)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 255 }), fc.string({ minLength: 1, maxLength: 6 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (n, round, share) => {
        const ids = idsOf(n)
        const config = { round, threshold: Math.max(2, Math.ceil(share * n)), length: 1, graph: "sparse" as const }
        const g = neighbourhoods([...ids].reverse(), config)
        expect(g.size).toBe(sparseSize(n))
        expect(g.threshold).toBeGreaterThanOrEqual(2)
        expect(g.threshold).toBeLessThanOrEqual(g.size)
        // Collected, then asserted once: n² expect() calls would make the property slow.
        const wrong: string[] = []
        for (const id of ids) {
          const mine = g.of(id)
          if (mine.length !== g.size || !mine.includes(id) || [...mine].sort().join() !== mine.join()) wrong.push(`neighbourhood of ${id}: ${mine.join()}`)
          const inMine = new Set(mine)
          for (const other of ids) {
            if (g.adjacent(id, other) !== (other !== id && inMine.has(other))) wrong.push(`adjacent(${id}, ${other})`)
            if (g.adjacent(id, other) !== g.adjacent(other, id)) wrong.push(`asymmetric ${id}, ${other}`)
          }
        }
        expect(wrong).toEqual([])
        const again = neighbourhoods(ids, config)
        expect(ids.map((id) => again.of(id))).toEqual(ids.map((id) => g.of(id)))
      }),
      { numRuns: Math.min(RUNS, 40), seed: SEED },
    )
  })

  it("another round draws another ring; an unknown id has no neighbours", () => {
    const ids = idsOf(60)
    const a = neighbourhoods(ids, { round: "r1", threshold: 30, length: 1, graph: "sparse" })
    const b = neighbourhoods(ids, { round: "r2", threshold: 30, length: 1, graph: "sparse" })
    expect(ids.map((id) => a.of(id).join())).not.toEqual(ids.map((id) => b.of(id).join()))
    expect(a.of("nobody")).toEqual([])
    expect(a.adjacent("nobody", "c000")).toBe(false)
  })
})
