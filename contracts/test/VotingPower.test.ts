/**
 * contracts/lib/VotingPower.sol (through VotingPowerHarness): the cases of
 * runtime/core/consensus/power.test.ts, each checked against its expected integers and against the TS
 * rule itself; the refusals; the edges of the arithmetic; and the gas bound the library documents.
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { Candidate, PowerParams } from "../../runtime/core/consensus/power.ts"
import { TOKEN, toWad } from "../../runtime/core/units.ts"
import { connectChain } from "./chain.ts"
import { chainPowers, deployHarness, libraryGas, type PowerOutcome, tsPowers } from "./voting-power.ts"

type Any = any

const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const cand = (i: number, stake: number, contribution = 0, multiplier = 1): Candidate => ({
  address: addr(i), stake: BigInt(stake) * TOKEN, multiplierWad: toWad(multiplier), contribution: BigInt(contribution),
})
const NO_CAP: PowerParams = { contributionWeight: 0, maxPowerShare: 1, maxValidators: 100 }
/** The gas bound VotingPower.sol documents for 100 candidates. */
const GAS_BOUND_100 = 1_200_000n

const powersOf = (o: PowerOutcome): Record<string, bigint> => {
  if (!o.ok) throw new Error(`refused: ${o.error}`)
  return Object.fromEntries(o.validators.map((v) => [v.address, v.power]))
}

describe("VotingPower.sol ≡ power.ts", () => {
  let harness: Any
  /** The library's answer, after checking it is the TS rule's. */
  const both = async (cs: readonly Candidate[], p: PowerParams): Promise<PowerOutcome> => {
    const chain = await chainPowers(harness, cs, p)
    expect(chain).toEqual(tsPowers(cs, p))
    return chain
  }

  beforeAll(async () => {
    const { ethers } = await connectChain()
    harness = await deployHarness(ethers)
  })

  it("is effective stake (stake × lock multiplier) in whole tokens when contribution has no weight", async () => {
    const o = await both([cand(0, 1000, 5), cand(1, 3000, 0, 1.5), cand(2, 10)], NO_CAP)
    expect(powersOf(o)).toEqual({ [addr(0)]: 1000n, [addr(1)]: 4500n, [addr(2)]: 10n })
    expect(o.ok && o.validators.map((v) => v.address)).toEqual([addr(1), addr(0), addr(2)]) // validator-set order
  })

  it("moves a share w of the power to contribution, keeping the total", async () => {
    expect(powersOf(await both([cand(0, 1000, 3), cand(1, 1000, 1)], { ...NO_CAP, contributionWeight: 0.5 }))).toEqual({ [addr(0)]: 1250n, [addr(1)]: 750n })
    expect(powersOf(await both([cand(0, 1000), cand(1, 3000)], { ...NO_CAP, contributionWeight: 0.5 }))).toEqual({ [addr(0)]: 1000n, [addr(1)]: 3000n })
  })

  it("gives no power without stake, whatever the score, and none to a zero raw power", async () => {
    expect(Object.keys(powersOf(await both([cand(0, 0, 100), cand(1, 10, 0)], { ...NO_CAP, contributionWeight: 0.5 })))).toEqual([addr(1)])
    // w = 1 and no score: raw power 0, dropped before the cap.
    expect(Object.keys(powersOf(await both([cand(0, 100, 0), cand(1, 10, 1)], { ...NO_CAP, contributionWeight: 1 })))).toEqual([addr(1)])
    expect(await both([], NO_CAP)).toEqual({ ok: true, validators: [] })
    expect(await both([cand(0, 0, 5), { ...cand(1, 1), multiplierWad: 0n }], NO_CAP)).toEqual({ ok: true, validators: [] })
  })

  it("caps one validator's share by water-filling the excess to the others in proportion", async () => {
    const v = powersOf(await both([cand(0, 7000), cand(1, 2000), cand(2, 1000)], { ...NO_CAP, maxPowerShare: 0.5 }))
    expect(v[addr(0)]! * 2n).toBeLessThanOrEqual(v[addr(0)]! + v[addr(1)]! + v[addr(2)]!)
    expect(v[addr(1)]! - 2n * v[addr(2)]!).toBeGreaterThanOrEqual(-2n)
    expect(v[addr(1)]! - 2n * v[addr(2)]!).toBeLessThanOrEqual(2n)
  })

  it("gives everyone the same power when the cap cannot be met (fewer than 1/m validators)", async () => {
    const o = await both([cand(0, 7000), cand(1, 2000), cand(2, 1000)], { ...NO_CAP, maxPowerShare: 0.25 })
    expect(o.ok && new Set(o.validators.map((v) => v.power)).size).toBe(1)
  })

  it("keeps the maxValidators largest, ties to the lower address", async () => {
    const o = await both([cand(3, 10), cand(1, 30), cand(2, 20), cand(0, 20)], { ...NO_CAP, maxValidators: 2 })
    expect(o.ok && o.validators.map((v) => v.address)).toEqual([addr(1), addr(0)])
    // Equal powers order by address, as numbers on chain and as lowercase hex strings in the TS.
    const tied = await both([cand(0xff, 5), cand(0xa0, 5), cand(0x0b, 5)], NO_CAP)
    expect(tied.ok && tied.validators.map((v) => v.address)).toEqual([addr(0x0b), addr(0xa0), addr(0xff)])
  })

  it("refuses what power.ts refuses, with the same duplicated address", async () => {
    expect(await both([cand(0, 1)], { ...NO_CAP, contributionWeight: 1.5 })).toEqual({ ok: false, error: "VotingPowerInvalidContributionWeight" })
    expect(await both([], { ...NO_CAP, maxPowerShare: 0 })).toEqual({ ok: false, error: "VotingPowerInvalidMaxPowerShare" })
    expect(await both([], { ...NO_CAP, maxPowerShare: 1.01 })).toEqual({ ok: false, error: "VotingPowerInvalidMaxPowerShare" })
    expect(await both([], { ...NO_CAP, maxValidators: 0 })).toEqual({ ok: false, error: "VotingPowerInvalidMaxValidators" })
    expect(await both([], { ...NO_CAP, maxValidators: 2 ** 53 })).toEqual({ ok: false, error: "VotingPowerInvalidMaxValidators" })
    expect(await both([], { ...NO_CAP, powerUnit: 0n })).toEqual({ ok: false, error: "VotingPowerInvalidPowerUnit" })
    // The address named is the earliest repeat in input order, as the TS loop finds it.
    const dup = await both([cand(5, 1), cand(2, 1), cand(9, 0), cand(2, 3), cand(5, 2)], NO_CAP)
    expect(dup).toEqual({ ok: false, error: `VotingPowerDuplicateCandidate(${addr(2)})` })
    // Parameters are checked before candidates, as in the TS.
    expect(await both([cand(1, 1), cand(1, 1)], { ...NO_CAP, powerUnit: 0n })).toEqual({ ok: false, error: "VotingPowerInvalidPowerUnit" })
  })

  it("quantises to any power unit, drops whoever rounds to zero, and keeps the cap exact on the integers", async () => {
    const small: Candidate[] = [cand(1, 1000), { ...cand(2, 0), stake: TOKEN / 2n }, cand(3, 1, 1)]
    expect(Object.keys(powersOf(await both(small, NO_CAP)))).toEqual([addr(1), addr(3)])
    const o = await both(small, { ...NO_CAP, powerUnit: 1n, contributionWeight: 0.3, maxPowerShare: 0.4 })
    const v = powersOf(o)
    const total = Object.values(v).reduce((s, x) => s + x, 0n)
    for (const p of Object.values(v)) expect(p * 10n ** 18n).toBeLessThanOrEqual(toWad(0.4) * total)
    // Odd stakes and a cap just above 1/n make the water-fill's rounding leave one over the cap: lowered on the integers.
    const odd = [1, 2, 3, 4, 5].map((i) => ({ ...cand(i, 0), stake: 10n ** 18n * BigInt(1000 * i + 7 * i * i) + 13n }))
    for (const share of [0.2000001, 0.21, 0.25, 0.3333334, 0.5]) await both(odd, { ...NO_CAP, maxPowerShare: share, powerUnit: 7n })
  })

  it("is exact up to 1e18·S·C < 2^256 and refuses beyond it (the one refusal the TS does not make)", async () => {
    const big = 10n ** 27n // the whole supply
    const near: Candidate[] = [
      { address: addr(1), stake: big, multiplierWad: 3n * 10n ** 18n, contribution: 10n ** 30n },
      { address: addr(2), stake: big / 3n, multiplierWad: 10n ** 18n, contribution: 1n },
      { address: addr(3), stake: 12345n, multiplierWad: 10n ** 18n, contribution: 10n ** 29n },
    ]
    await both(near, { contributionWeight: 0.35, maxPowerShare: 0.4, maxValidators: 10, powerUnit: 1n })
    await both(near, { contributionWeight: 0.999999, maxPowerShare: 0.9, maxValidators: 10 })
    const over = near.map((c) => ({ ...c, contribution: c.contribution * 10n ** 10n }))
    expect(await chainPowers(harness, over, NO_CAP)).toEqual({ ok: false, error: "VotingPowerOverflow" })
    expect(tsPowers(over, NO_CAP).ok).toBe(true)
    const huge = [{ address: addr(1), stake: (1n << 255n), multiplierWad: 4n * 10n ** 18n, contribution: 0n }]
    expect(await chainPowers(harness, huge, NO_CAP)).toEqual({ ok: false, error: "VotingPowerOverflow" })
  })

  it("settles the cap in one pass with the share cap near ½ (lowering offenders one at a time ran out of gas there)", async () => {
    // Two validators at the cap and small ones whose flooring leaves the two thousands of units
    // over: lowering them in turn shrank the excess by only m ÷ (1 − m) ≈ 0.99992 a pass, and the
    // library ran out of gas on both (found by the differential's soak, seed 1196551322).
    const odd = (stakes: readonly bigint[]): Candidate[] =>
      stakes.map((s, i) => ({ address: addr(i + 1), stake: s * TOKEN + 12_345n, multiplierWad: toWad(1), contribution: 0n }))
    const gas: string[] = []
    for (const [cs, share] of [
      [odd([10n ** 9n, 10n ** 9n, 24_750n]), 0.49998],
      [odd([10n ** 9n, 10n ** 9n, ...Array.from({ length: 20 }, (_, i) => 1237n + 97n * BigInt(i))]), 0.499980521],
    ] as const) {
      const p = { ...NO_CAP, maxPowerShare: share }
      const v = Object.values(powersOf(await both(cs, p)))
      const total = v.reduce((s, x) => s + x, 0n)
      for (const x of v) expect(x * 10n ** 18n).toBeLessThanOrEqual(toWad(share) * total)
      expect(v[0]).toBe(v[1]) // both lowered to the same largest value that meets the cap
      const g = await libraryGas(harness, cs, p)
      gas.push(g.toLocaleString("en-US"))
      expect(g).toBeLessThanOrEqual(GAS_BOUND_100)
    }
    console.info(`VotingPower gas near m = ½: ${gas.join(", ")}`)
  })

  it(`takes at most ${GAS_BOUND_100.toLocaleString("en-US")} gas for 100 candidates (the bound VotingPower.sol documents)`, async () => {
    // 100 candidates in shuffled address order, spread stakes, lock tiers and scores; the default
    // parameters (w = 0.2, m = 0.25) and a tight cap that makes the water-fill and the cap work.
    const many = (n: number): Candidate[] =>
      Array.from({ length: n }, (_, i) => {
        const j = (i * 37 + 11) % n
        return { address: addr(0x1000 + j * 7919), stake: TOKEN * BigInt(1000 + ((j * 7907) % 90_000)), multiplierWad: toWad([1, 1.1, 1.25, 1.5, 2][j % 5]!), contribution: BigInt((j * 131) % 1000) }
      })
    const gas: Record<string, string> = {}
    for (const [name, p] of [
      ["defaults", { contributionWeight: 0.2, maxPowerShare: 0.25, maxValidators: 100 }],
      ["cap 0.02", { contributionWeight: 0.2, maxPowerShare: 0.02, maxValidators: 100 }],
      ["no scores, no cap", NO_CAP],
    ] as const) {
      const cs = name === "no scores, no cap" ? many(100).map((c) => ({ ...c, contribution: 0n })) : many(100)
      await both(cs, p)
      const g = await libraryGas(harness, cs, p)
      gas[`100 ${name}`] = g.toLocaleString("en-US")
      expect(g).toBeLessThanOrEqual(GAS_BOUND_100)
    }
    const p200 = { contributionWeight: 0.2, maxPowerShare: 0.02, maxValidators: 100 }
    await both(many(200), p200)
    gas["200 → 100, cap 0.02"] = (await libraryGas(harness, many(200), p200)).toLocaleString("en-US")
    console.info(`VotingPower gas: ${JSON.stringify(gas)}`)
  })
})
