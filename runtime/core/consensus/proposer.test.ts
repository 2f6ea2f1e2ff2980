import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { proposer, ProposerSchedule, proposerSchedule } from "./proposer.ts"
import { ValidatorSet } from "./validator-set.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const setOf = (powers: readonly number[], start = 1) => ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) })), start)

describe("proposer selection", () => {
  it("with equal powers goes round-robin in address order", () => {
    const set = setOf([1, 1, 1, 1])
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((h) => proposer(set, h, 0))).toEqual([0, 1, 2, 3, 0, 1, 2, 3].map(addr))
  })

  it("follows the priority algorithm step by step (powers A 1, B 2, C 3: C B A C B C, repeating)", () => {
    // By hand, priorities after "+power, then the top pays the total (6)":
    // [1,2,3]→C [1,2,-3] · [2,4,0]→B [2,-2,0] · [3,0,3]→A (tie: lower address) [-3,0,3]
    // · [-2,2,6]→C [-2,2,0] · [-1,4,3]→B [-1,-2,3] · [0,0,6]→C [0,0,0], back to the start.
    const set = setOf([1, 2, 3])
    const seq = [...Array(12).keys()].map((k) => proposerSchedule(set).at(k))
    expect(seq).toEqual([2, 1, 0, 2, 1, 2, 2, 1, 0, 2, 1, 2].map(addr))
    expect(proposerSchedule(set).priorities()).toEqual([0n, 0n, 0n])
  })

  it("continues the height's sequence over rounds: proposer(h, r + 1) = proposer(h + 1, r)", () => {
    const set = setOf([5, 3, 1, 1], 101)
    for (let h = 101; h < 120; h++) for (let r = 0; r < 5; r++) expect(proposer(set, h, r + 1)).toBe(proposer(set, h + 1, r))
    expect(proposer(set, 101, 0)).toBe(addr(0))
    expect(() => proposer(set, 100, 0)).toThrow(/before the set's start height/)
  })

  it("is a pure function of the set: a fresh schedule gives the same sequence", () => {
    const set = setOf([7, 2, 9, 4, 4])
    const fresh = new ProposerSchedule(set)
    for (let k = 200; k >= 0; k -= 7) expect(fresh.at(k)).toBe(proposerSchedule(set).at(k))
  })

  it("property: over whole cycles each validator proposes in proportion to its power (within one turn)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), (powers, cycles) => {
        const set = setOf(powers)
        const total = powers.reduce((a, b) => a + b, 0)
        const steps = total * cycles
        const counts = new Map<string, number>()
        for (let k = 0; k < steps; k++) {
          const p = proposerSchedule(set).at(k)
          counts.set(p, (counts.get(p) ?? 0) + 1)
        }
        powers.forEach((p, i) => expect(Math.abs((counts.get(addr(i)) ?? 0) - p * cycles)).toBeLessThanOrEqual(1))
        // Priorities stay centred and within the window CometBFT keeps them in.
        const prio = proposerSchedule(set).priorities()
        const spread = prio.reduce((m, x) => (x > m ? x : m), prio[0]!) - prio.reduce((m, x) => (x < m ? x : m), prio[0]!)
        expect(spread).toBeLessThanOrEqual(3n * set.totalPower)
      }),
      { numRuns: RUNS },
    )
  })
})
