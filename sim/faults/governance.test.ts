import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { testEconomy } from "../../runtime/core/econ/testkit.ts"
import { DEFAULT_PARAMS, resolveParams } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { sybilSplit } from "./governance.ts"

/** The defaults with quadratic votes on (the default is linear). */
const QUADRATIC = Result.getOrThrow(resolveParams({ "governance.quadratic": true }))

/** v0, v1, v2 each a validator with `stake` tokens. */
const ledger = (stake: bigint, params = QUADRATIC) => {
  const e = testEconomy(params, 0)
  for (const v of ["v0", "v1", "v2"]) Result.getOrThrow(e.apply({ type: "registerValidator", operator: v, amount: stake * TOKEN, tier: 0, commission: 0n }, 0))
  return e
}

describe("sybil-split", () => {
  it("multiplies the attacker's quadratic votes by about √N, and N is capped by the minimum bond", () => {
    const e = ledger(1_000n)
    const before = JSON.stringify(e.snapshot(), (_, v) => (typeof v === "bigint" ? v.toString() : v))
    const four = sybilSplit({ economy: e, attacker: "v0", honest: ["v1", "v2"], identities: 4, now: 1_000 })
    expect(four).toMatchObject({ stake: 1_000, minIdentityBond: 100, identities: 4, capped: false, quadratic: true, theoreticalGain: 2 })
    expect(four.sybilGain).toBeCloseTo(2, 5)
    expect(four.whole.outcome).toBe("Defeated") // √1000 for, 2·√1000 against
    expect(four.split.outcome).toBe("Defeated") // 4·√250 = 2·√1000 for: a tie is not a majority
    expect(four.outcomeFlipped).toBe(false)
    const many = sybilSplit({ economy: e, attacker: "v0", honest: ["v1", "v2"], identities: 50, now: 1_000 })
    expect(many).toMatchObject({ identitiesRequested: 50, identities: 10, capped: true })
    expect(many.sybilGain).toBeCloseTo(Math.sqrt(10), 4)
    expect(many.split.outcome).toBe("Queued") // √10·√1000 for, 2·√1000 against: passed
    expect(many.outcomeFlipped).toBe(true)
    // Honest yield: 3/4 of 20M a year over 3,000 bonded tokens; the stake forgoes it for the 21-day unbonding.
    const y = (0.75 * 20_000_000) / 3_000
    const cost = 1_000 * y * (21 / 365)
    expect(many.cost).toMatchObject({ extraTransactions: 2 * 10 - 1, extraBondsLocked: 900, fees: 0 })
    expect(many.cost.honestYield).toBeCloseTo(y, 9)
    expect(many.cost.opportunityCost / cost).toBeCloseTo(1, 6)
    expect(many.votesWorth).toBeCloseTo((many.sybilGain ** 2 - 1) * 1_000, 3)
    expect(many.sybilRoi).toBeCloseTo((many.votesWorth - many.cost.opportunityCost) / 1_000, 6)
    // The run's ledger is untouched.
    expect(JSON.stringify(e.snapshot(), (_, v) => (typeof v === "bigint" ? v.toString() : v))).toBe(before)
  })

  it("gains nothing at the defaults: linear votes, N identities of S/N cast S", () => {
    expect(DEFAULT_PARAMS["governance.quadratic"]).toBe(false)
    const r = sybilSplit({ economy: ledger(1_000n, DEFAULT_PARAMS), attacker: "v0", honest: ["v1", "v2"], identities: 50, now: 1_000 })
    expect(r).toMatchObject({ identities: 10, capped: true, quadratic: false, theoreticalGain: 1, sybilGain: 1, outcomeFlipped: false, votesWorth: 0 })
    expect(r.split.attackerVotes).toBe(r.whole.attackerVotes)
    expect(r.split.attackerVotes).toBe((1_000n * TOKEN).toString())
    expect(r.sybilRoi).toBeLessThan(0)
    expect(r.sybilRoi).toBeCloseTo(-r.cost.opportunityCost / 1_000, 9)
  })

  it("gains nothing when the minimum bond leaves room for one identity only", () => {
    const params = Result.getOrThrow(resolveParams({ "governance.quadratic": true, "governance.minVoterBond": 600 }))
    const r = sybilSplit({ economy: ledger(1_000n, params), attacker: "v0", honest: ["v1", "v2"], identities: 8, now: 0 })
    expect(r).toMatchObject({ identities: 1, capped: true, sybilGain: 1, outcomeFlipped: false, votesWorth: 0 })
    // One identity: the split buys no votes and still forgoes the yield while unbonding.
    expect(r.sybilRoi).toBeLessThan(0)
    expect(r.sybilRoi).toBeCloseTo(-r.cost.opportunityCost / 1_000, 9)
    const high = Result.getOrThrow(resolveParams({ "governance.minVoterBond": 2_000 }))
    expect(() => sybilSplit({ economy: ledger(1_000n, high), attacker: "v0", honest: ["v1"], identities: 8, now: 0 })).toThrow(/below one identity's minimum bond/)
  })
})
