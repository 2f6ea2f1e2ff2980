import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, WAD, toWad } from "../units.ts"
import { epochStart, isEpochStart, validatorSetForHeight } from "./epoch.ts"
import { type Candidate, enforceCap, powerParams, votingPowers } from "./power.ts"

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

describe("the cap on the final integers (enforceCap)", () => {
  /**
   * The rule as first written, the reference: lower each offender in turn to the largest value that
   * meets the cap against the others, pass after pass, until nobody is over. Its passes grow like
   * 1 ÷ (1 − 2m) as m nears ½ (the soak's out-of-gas on chain); enforceCap reaches its fixed point
   * in one pass. Also returns how many passes the reference took.
   */
  const byPasses = (powers: readonly bigint[], m: bigint): { p: bigint[]; passes: number } => {
    const p = [...powers]
    const n = BigInt(p.length)
    if (n * m <= WAD) {
      const mean = p.reduce((s, x) => s + x, 0n) / n
      return { p: p.map(() => (mean > 0n ? mean : 1n)), passes: 0 }
    }
    for (let passes = 1; ; passes++) {
      let total = p.reduce((s, x) => s + x, 0n)
      let changed = false
      for (let i = 0; i < p.length; i++) {
        if (p[i]! * WAD > m * total) {
          const lowered = (m * (total - p[i]!)) / (WAD - m)
          total -= p[i]! - lowered
          p[i] = lowered
          changed = true
        }
      }
      if (!changed) return { p, passes }
    }
  }

  // Non-increasing positive powers as the water-fill leaves them (often a few equal at the top).
  const powersArb = fc
    .tuple(fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 40 }), fc.nat(4))
    .map(([xs, tied]) => {
      const p = [...xs].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
      for (let i = 1; i < Math.min(tied, p.length); i++) p[i] = p[0]!
      return p
    })
  // Caps from tiny to none; near ½ only down to 1 − 2m = 2e-4, where the reference still ends within
  // ≈ 10⁵ passes (closer, it can take billions; the next property covers any cap without it).
  const capArb = fc.oneof(
    fc.constantFrom(0.05, 0.1, 0.25, 0.33, 0.49, 0.4999, 0.5, 0.75, 1).map(toWad),
    fc.bigInt({ min: 1n, max: WAD / 2n - 10n ** 14n }),
    fc.bigInt({ min: WAD / 2n, max: WAD }),
    fc.bigInt({ min: WAD / 2n - 10n ** 15n, max: WAD / 2n - 10n ** 14n }),
  )
  /** Powers with a cap just under the largest share, so that the (often tied) largest are over it. */
  const tightArb = (nearHalf: boolean) =>
    fc.tuple(powersArb, fc.bigInt({ min: 0n, max: 10n ** 16n })).map(([p, d]): [bigint[], bigint] => {
      const total = p.reduce((s, x) => s + x, 0n)
      let m = (p[0]! * WAD) / total - d
      if (m < 1n) m = 1n
      if (!nearHalf && m > WAD / 2n - 10n ** 14n && m < WAD / 2n) m = WAD / 2n - 10n ** 14n
      return [p, m]
    })
  const anyCapArb = fc.oneof(fc.bigInt({ min: 1n, max: WAD }), fc.bigInt({ min: WAD / 2n - 10n ** 14n, max: WAD / 2n }))

  it("property: is the fixed point of lowering offenders pass after pass, and the cap holds exactly", () => {
    let severalPasses = 0
    fc.assert(
      fc.property(fc.oneof(fc.tuple(powersArb, capArb), tightArb(false)), ([p, m]) => {
        const got = enforceCap(p, m)
        const ref = byPasses(p, m)
        expect(got).toEqual(ref.p)
        if (got.filter((x, i) => x !== p[i]).length >= 2 && ref.passes >= 2) severalPasses++
        const total = got.reduce((s, x) => s + x, 0n)
        if (BigInt(p.length) * m > WAD) for (const x of got) expect(x * WAD).toBeLessThanOrEqual(m * total)
      }),
      { numRuns: RUNS },
    )
    console.info(`enforceCap: ${severalPasses} of ${RUNS} lowered two or more over several passes`)
    // The comparison must reach the cases where the passes matter: ≈ 27 % do (1,325 of 5,000), so a
    // twentieth holds for every seed (at 200 runs the bound is 7 standard deviations below the mean).
    if (RUNS >= 100) expect(severalPasses).toBeGreaterThan(RUNS / 20)
  })

  it("property: for any cap, lowers only the largest, to the largest common value that meets the cap", () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(powersArb, anyCapArb), tightArb(true)), ([p, m]) => {
        const got = enforceCap(p, m)
        const n = BigInt(p.length)
        if (n * m <= WAD) {
          expect(new Set(got).size).toBe(1) // unattainable: everyone the mean
          return
        }
        const k = got.findIndex((x, i) => x === p[i])
        const lowered = k === -1 ? got.length : k
        expect(got.slice(lowered)).toEqual(p.slice(lowered)) // the rest untouched
        const total = got.reduce((s, x) => s + x, 0n)
        for (const x of got) expect(x * WAD).toBeLessThanOrEqual(m * total) // the cap holds
        if (lowered === 0) return
        const A = got[0]!
        for (let i = 0; i < lowered; i++) expect([got[i], p[i]! > A]).toEqual([A, true]) // one common value, lower than before
        const rest = total - BigInt(lowered) * A
        expect((A + 1n) * WAD > m * (BigInt(lowered) * (A + 1n) + rest)).toBe(true) // one more would break the cap
      }),
      { numRuns: RUNS },
    )
  })

  it("settles in one pass where lowering offenders one at a time took thousands of passes (m = 0.49998)", () => {
    // Two validators at the cap and a small third whose flooring cost them 12,374 units (the shape of
    // the soak's case, VotingPower differential seed 1196551322): each pass of the reference lowers
    // the excess by only (m ÷ (1 − m))² ≈ 0.99984 and a unit or two of flooring.
    const cs = [cand(0, 1e9), cand(1, 1e9), cand(2, 24_750)]
    const params = { ...NO_CAP, maxPowerShare: 0.49998 }
    const p = votingPowers(cs, params)
    expect(p.map((v) => v.power)).toEqual([999_960_000n, 999_960_000n, 80_000n])
    const beforeCap = [999_972_374n, 999_972_374n, 80_000n] // after the water-fill and quantising: 12,374 units over
    const ref = byPasses(beforeCap, toWad(0.49998))
    expect(ref.passes).toBeGreaterThan(5_000) // 6,189 (on chain, with its memory and checked arithmetic, out of gas)
    expect(enforceCap(beforeCap, toWad(0.49998))).toEqual(ref.p)
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
