import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, WAD, toWad } from "../units.ts"
import { epochStart, isEpochStart, validatorSetForHeight } from "./epoch.ts"
import { type Candidate, powerParams, votingPowers } from "./power.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const cand = (i: number, stake: number, contribution = 0, multiplier = 1): Candidate => ({
  address: addr(i), stake: BigInt(stake) * TOKEN, multiplierWad: toWad(multiplier), contribution: BigInt(contribution),
})
const byAddress = (vs: readonly { address: string; power: bigint }[]) => Object.fromEntries(vs.map((v) => [v.address, v.power]))
const NO_CAP = { contributionWeight: 0, maxPowerShare: 1, maxValidators: 100 }

describe("voting power", () => {
  it("is effective stake (stake × lock multiplier) in whole tokens when contribution has no weight", () => {
    const p = votingPowers([cand(0, 1000, 5), cand(1, 3000, 0, 1.5), cand(2, 10)], NO_CAP)
    expect(byAddress(p)).toEqual({ [addr(0)]: 1000n, [addr(1)]: 4500n, [addr(2)]: 10n })
    expect(p.map((v) => v.address)).toEqual([addr(1), addr(0), addr(2)]) // validator-set order
  })

  it("moves a share w of the power to contribution, keeping the total", () => {
    // S = 2000; w = 0.5; scores 3:1 → raw = 0.5·e + 0.5·2000·c = 500 + 750, 500 + 250
    const p = votingPowers([cand(0, 1000, 3), cand(1, 1000, 1)], { ...NO_CAP, contributionWeight: 0.5 })
    expect(byAddress(p)).toEqual({ [addr(0)]: 1250n, [addr(1)]: 750n })
    // Without any scores, contribution weight changes nothing.
    expect(byAddress(votingPowers([cand(0, 1000), cand(1, 3000)], { ...NO_CAP, contributionWeight: 0.5 }))).toEqual({ [addr(0)]: 1000n, [addr(1)]: 3000n })
  })

  it("gives no power without stake, whatever the score", () => {
    expect(votingPowers([cand(0, 0, 100), cand(1, 10, 0)], { ...NO_CAP, contributionWeight: 0.5 }).map((v) => v.address)).toEqual([addr(1)])
  })

  it("caps one validator's share by water-filling the excess to the others in proportion", () => {
    // 7000 : 2000 : 1000 capped at 50% → 5000, and the 2000 excess splits 2:1
    const p = votingPowers([cand(0, 7000), cand(1, 2000), cand(2, 1000)], { ...NO_CAP, maxPowerShare: 0.5 })
    const v = byAddress(p)
    expect(v[addr(0)]! * 2n).toBeLessThanOrEqual(v[addr(0)]! + v[addr(1)]! + v[addr(2)]!)
    expect(v[addr(1)]! - 2n * v[addr(2)]!).toBeGreaterThanOrEqual(-2n)
    expect(v[addr(1)]! - 2n * v[addr(2)]!).toBeLessThanOrEqual(2n)
  })

  it("gives everyone the same power when the cap cannot be met (fewer than 1/m validators)", () => {
    const p = votingPowers([cand(0, 7000), cand(1, 2000), cand(2, 1000)], { ...NO_CAP, maxPowerShare: 0.25 })
    expect(new Set(p.map((v) => v.power)).size).toBe(1)
  })

  it("keeps the maxValidators largest, ties to the lower address", () => {
    const p = votingPowers([cand(3, 10), cand(1, 30), cand(2, 20), cand(0, 20)], { ...NO_CAP, maxValidators: 2 })
    expect(p.map((v) => v.address).sort()).toEqual([addr(0), addr(1)])
  })

  it("takes its parameters from the registry and refuses bad input", () => {
    expect(powerParams(DEFAULT_PARAMS)).toEqual({ contributionWeight: 0.2, maxPowerShare: 0.25, maxValidators: 100 })
    expect(() => votingPowers([cand(0, 1), cand(0, 2)], NO_CAP)).toThrow(/twice/)
    expect(() => votingPowers([{ ...cand(0, 1), stake: -1n }], NO_CAP)).toThrow(/non-negative/)
    expect(() => votingPowers([], { ...NO_CAP, maxPowerShare: 0 })).toThrow(/maxPowerShare/)
  })

  const arbitraryCandidates = fc.uniqueArray(
    fc.record({ i: fc.nat(50), stake: fc.integer({ min: 0, max: 1_000_000 }), score: fc.nat(1000), mult: fc.constantFrom(1, 1.1, 1.25, 1.5, 2) }),
    { selector: (c) => c.i, minLength: 1, maxLength: 30 },
  ).map((cs) => cs.map((c) => cand(c.i, c.stake, c.score, c.mult)))
  const arbitraryParams = fc.record({
    contributionWeight: fc.constantFrom(0, 0.1, 0.2, 0.35, 0.5),
    maxPowerShare: fc.constantFrom(0.05, 0.1, 0.25, 0.33, 1),
    maxValidators: fc.integer({ min: 4, max: 40 }),
  })

  it("property: at most maxValidators, all positive, and the cap holds exactly on the final integers", () => {
    fc.assert(
      fc.property(arbitraryCandidates, arbitraryParams, (cs, params) => {
        const p = votingPowers(cs, params)
        const total = p.reduce((s, v) => s + v.power, 0n)
        expect(p.length).toBeLessThanOrEqual(params.maxValidators)
        expect(p.every((v) => v.power > 0n)).toBe(true)
        const m = toWad(params.maxPowerShare)
        if (BigInt(p.length) * m > WAD) for (const v of p) expect(v.power * WAD).toBeLessThanOrEqual(m * total)
        // Sorted by power, then address (validator-set order).
        for (let i = 1; i < p.length; i++) expect(p[i - 1]!.power >= p[i]!.power).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it("property: with no contribution weight and no binding cap, power is exactly ⌊effective stake⌋", () => {
    fc.assert(
      fc.property(arbitraryCandidates, (cs) => {
        const p = byAddress(votingPowers(cs, NO_CAP))
        for (const c of cs) {
          const e = (c.stake * c.multiplierWad) / WAD / TOKEN
          expect(p[c.address] ?? 0n).toBe(e)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it("property: more effective stake never means less power (same scores, no cap)", () => {
    fc.assert(
      fc.property(arbitraryCandidates, fc.constantFrom(0, 0.2, 0.5), (cs, w) => {
        const same = cs.map((c) => ({ ...c, contribution: 7n }))
        const p = byAddress(votingPowers(same, { ...NO_CAP, contributionWeight: w }))
        const sorted = [...same].sort((a, b) => Number((a.stake * a.multiplierWad) / WAD - (b.stake * b.multiplierWad) / WAD))
        for (let i = 1; i < sorted.length; i++) expect((p[sorted[i]!.address] ?? 0n) >= (p[sorted[i - 1]!.address] ?? 0n)).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})

describe("epochs", () => {
  it("start at heights 1, 1 + E, 1 + 2E, ...", () => {
    expect([1, 2, 100, 101, 102, 201].map((h) => isEpochStart(h, 100))).toEqual([true, false, false, true, false, true])
    expect([1, 2, 100, 101, 150, 201].map((h) => epochStart(h, 100))).toEqual([1, 1, 1, 101, 101, 201])
    expect(() => epochStart(0, 100)).toThrow(/positive/)
  })

  it("take the set of an epoch from the state after the block before it", () => {
    const asked: number[] = []
    const candidatesAfter = (h: number) => {
      asked.push(h)
      return [cand(0, 100 + h), cand(1, 100)]
    }
    const params = { ...NO_CAP, epochLength: 10 }
    const a = validatorSetForHeight(15, params, candidatesAfter)
    const b = validatorSetForHeight(20, params, candidatesAfter)
    const c = validatorSetForHeight(21, params, candidatesAfter)
    expect(asked).toEqual([10, 10, 20])
    expect([a.startHeight, c.startHeight]).toEqual([11, 21])
    expect(a.hash()).toBe(b.hash())
    expect(c.power(addr(0))).toBe(120n)
  })
})
