import { describe, expect, it } from "vitest"
import { resolveParams } from "../params.ts"
import { TOKEN, WAD } from "../units.ts"
import { ok, testEconomy } from "./testkit.ts"

const T = TOKEN

/** v0 (operator, 10,000) + d0 (delegator, 10,000) in pool v0; v1 alone (10,000). */
const twoPools = (overrides: Record<string, unknown> = {}) => {
  const e = testEconomy(ok(resolveParams(overrides)))
  ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: WAD / 10n }, 0))
  ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 10_000n * T, tier: 0 }, 0))
  ok(e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
  return e
}

describe("insurance payouts", () => {
  it("pays the delegators min(pool funds, coverage × their share of the bonded loss)", () => {
    const e = twoPools()
    const r = ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 0, evidenceId: "x" }, 1))
    // 1,000 slashed: 100 in, 900 burnt; delegators lost 500, coverage 50% → 250 covered, 100 available → 100 paid
    expect(r).toMatchObject({ totalSlashed: 1_000n * T, toInsurance: 100n * T, burnt: 900n * T, delegatorLoss: 500n * T, insuranceCovered: 250n * T, insurancePaid: 100n * T })
    expect(e.pendingRewards("d0").insurance).toBe(100n * T)
    expect(e.pendingRewards("v0").insurance).toBe(0n) // the operator is not covered
    expect(e.insuranceTotals()).toEqual({ available: 0n, credited: 100n * T, paidIn: 100n * T, paidOut: 100n * T, claimed: 0n })
    const c = ok(e.apply({ type: "claimRewards", owner: "d0" }, 2))
    expect(c).toMatchObject({ insurance: 100n * T, total: 100n * T })
    expect(c.settled).toEqual([{ position: 2, pool: "v0", reward: 0n, insurance: 100n * T }])
    expect(e.balanceOf("d0")).toBe(990_000n * T + 100n * T)
    expect(e.supply().insurancePool).toBe(0n)
  })

  it("uses funds paid in by earlier slashes, up to the coverage", () => {
    const e = twoPools()
    ok(e.apply({ type: "slash", pool: "v1", infraction: "doubleSign", infractionTime: 0, evidenceId: "a" }, 1)) // 500: 50 in, nobody insured
    expect(e.insuranceTotals().available).toBe(50n * T)
    const r = ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 0, evidenceId: "b" }, 2))
    expect(r).toMatchObject({ toInsurance: 100n * T, insuranceCovered: 250n * T, insurancePaid: 150n * T })
    expect(e.insuranceTotals().available).toBe(0n)
  })

  it("stops at the coverage when the pool has plenty", () => {
    const e = twoPools({ "staking.insuranceFraction": 0.5, "staking.insuranceCoverage": 0.2 })
    const r = ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 0, evidenceId: "x" }, 1))
    expect(r).toMatchObject({ toInsurance: 500n * T, burnt: 500n * T, delegatorLoss: 500n * T, insuranceCovered: 100n * T, insurancePaid: 100n * T })
    expect(e.insuranceTotals().available).toBe(400n * T)
  })

  it("splits a payout pro rata by shares among delegators, whatever their lock tier", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 3_000n * T, tier: 0 }, 0))
    ok(e.apply({ type: "delegate", owner: "d1", validator: "v0", amount: 1_000n * T, tier: 365 }, 0))
    ok(e.apply({ type: "registerValidator", operator: "v1", amount: 100_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "slash", pool: "v1", infraction: "doubleSign", infractionTime: 0, evidenceId: "a" }, 1)) // 500 into insurance
    const r = ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 0, evidenceId: "b" }, 2))
    // 700 slashed (70 in); delegators lost 200 → 100 covered
    expect(r).toMatchObject({ totalSlashed: 700n * T, delegatorLoss: 200n * T, insuranceCovered: 100n * T, insurancePaid: 100n * T })
    expect(e.pendingRewards("d0").insurance).toBe(75n * T)
    expect(e.pendingRewards("d1").insurance).toBe(25n * T)
  })

  it("covers nothing of unbonding entries, of the operator, or of a contributor", () => {
    const e = twoPools()
    ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: 10_000n * T }, 5))
    const r = ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 1, evidenceId: "x" }, 6))
    expect(r).toMatchObject({ slashedUnbondingTotal: 500n * T, slashedBonded: 500n * T, delegatorLoss: 0n, insurancePaid: 0n })
    const f = testEconomy()
    ok(f.apply({ type: "bondContributor", owner: "c0", amount: 10_000n * T, tier: 0 }, 0))
    ok(f.apply({ type: "registerValidator", operator: "v1", amount: 100_000n * T, tier: 0, commission: 0n }, 0))
    ok(f.apply({ type: "slash", pool: "v1", infraction: "doubleSign", infractionTime: 0, evidenceId: "a" }, 1))
    expect(ok(f.apply({ type: "slash", pool: "contrib:c0", infraction: "doubleSign", infractionTime: 0, evidenceId: "b" }, 1)).insurancePaid).toBe(0n)
    expect(f.pendingRewards("c0").insurance).toBe(0n)
  })

  it("settles a delegator's insurance into its claimable balance when it unbonds", () => {
    const e = twoPools()
    ok(e.apply({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "x" }, 1))
    const due = e.pendingRewards("d0").insurance
    expect(due).toBeGreaterThan(0n)
    const u = ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: e.positions("d0")[0]!.tokens }, 2))
    expect(u.settledInsurance).toBe(due)
    expect(ok(e.apply({ type: "claimRewards", owner: "d0" }, 3)).insurance).toBe(due)
  })

  it("a delegator joining after a payout gets nothing of it", () => {
    const e = twoPools()
    ok(e.apply({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "x" }, 1))
    ok(e.apply({ type: "unjail", operator: "v0" }, 1 + 600_000))
    ok(e.apply({ type: "delegate", owner: "d1", validator: "v0", amount: 10_000n * T, tier: 0 }, 1 + 600_000))
    expect(e.pendingRewards("d1").insurance).toBe(0n)
  })
})
