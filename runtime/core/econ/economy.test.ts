import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, resolveParams } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import * as errors from "./errors.ts"
import { emissionFor } from "./rewards.ts"
import type { EconOp } from "./ops.ts"
import { failTag, ok, testEconomy } from "./testkit.ts"

describe("Economy facade", () => {
  it("refuses time going backwards and invalid times, changing nothing", () => {
    const e = testEconomy()
    ok(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1n }, 100))
    const before = e.snapshot()
    const r = e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1n }, 99)
    expect(failTag(r)).toBe("LedgerTimeWentBackwards")
    if (Result.isFailure(r)) expect(r.failure.message).toContain("earlier than the last operation (t=100ms)")
    expect(failTag(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1n }, Number.NaN))).toBe("LedgerInvalidTime")
    expect(failTag(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1n }, 2 ** 60))).toBe("LedgerInvalidTime")
    expect(e.snapshot()).toEqual(before)
    ok(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1n }, 100)) // same time is fine
  })

  it("a rejected op does not advance time", () => {
    const e = testEconomy()
    failTag(e.apply({ type: "burn", from: "d0", amount: 0n }, 50))
    expect(e.now).toBe(0)
  })

  it("refuses unknown operations", () => {
    const e = testEconomy()
    expect(failTag(e.apply({ type: "mint", to: "d0", amount: 1n } as unknown as EconOp, 0))).toBe("LedgerUnknownOperation")
    expect(e.supply().minted).toBe(TOTAL_SUPPLY)
  })

  it("views are copies: mutating them does not touch the state", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))
    const before = e.snapshot()
    const pool = e.pool("v0")!
    ;(pool as { tokens: bigint }).tokens = 0n
    ;(pool.checkpoints[0] as { tokens: bigint }).tokens = 0n
    const pos = e.positions("v0")[0]!
    ;(pos as { shares: bigint }).shares = 1n
    const snap = e.snapshot()
    ;(snap.balances as Record<string, bigint>)["v0"] = 0n
    expect(e.snapshot()).toEqual(before)
  })

  it("clone is independent", () => {
    const e = testEconomy()
    const c = e.clone()
    ok(c.apply({ type: "burn", from: "d0", amount: 5n }, 10))
    expect(e.supply().burnt).toBe(0n)
    expect(e.now).toBe(0)
    expect(c.supply().burnt).toBe(5n)
  })

  it("lists pools, positions and unbonding entries, by owner or all", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "bondContributor", owner: "c0", amount: 100n * TOKEN, tier: 0 }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 10n * TOKEN, tier: 0 }, 0))
    ok(e.apply({ type: "unbond", owner: "d0", position: 3, amount: 4n * TOKEN }, 1))
    expect(e.pools().map((p) => p.id)).toEqual(["v0", "contrib:c0"])
    expect(e.pool("nope")).toBeUndefined()
    expect(e.positions().map((p) => p.id)).toEqual([1, 2, 3])
    expect(e.positions("d0")).toMatchObject([{ id: 3, owner: "d0", pool: "v0", tokens: 6n * TOKEN, shares: 6n * TOKEN }])
    expect(e.positions("ghost")).toEqual([])
    expect(e.unbonding()).toMatchObject([{ id: 1, owner: "d0", pool: "v0", amount: 4n * TOKEN, initialAmount: 4n * TOKEN, startedAt: 1 }])
    expect(e.unbonding("v0")).toEqual([])
    expect(e.stakeAt("v0", 0)).toBe(10_010n * TOKEN)
    expect(e.stakeAt("v0", 1)).toBe(10_006n * TOKEN)
    expect(e.stakeAt("ghost", 1)).toBe(0n)
  })

  it("setParams applies to later operations only; existing positions keep their multiplier", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 30, commission: 0n }, 0))
    const p2 = ok(resolveParams({ "staking.lockMultiplier30d": 1.2, "staking.minValidatorBond": 20_000 }))
    e.setParams(p2)
    expect(e.params).toBe(p2)
    expect(failTag(e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))).toBe("StakingBelowMinimumBond")
    const d = ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 100n * TOKEN, tier: 30 }, 0))
    expect(d.multiplier).toBe(12n * WAD / 10n)
    expect(e.positions("v0")[0]!.multiplier).toBe(11n * WAD / 10n)
  })

  it("the supply breakdown always adds up to the minted total", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "payFee", payer: "d0", amount: 1_000n * TOKEN }, 0))
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 1_000n * TOKEN }, 0))
    ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 5, evidenceId: "x" }, 10))
    const s = e.supply()
    expect(s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt).toBe(s.minted)
    expect(s.rewardPool).toBe(700n * TOKEN)
    expect(s.bonded).toBe(9_000n * TOKEN - 450n * TOKEN)
    expect(s.unbonding).toBe(1_000n * TOKEN) // started before the infraction: not slashed
    expect(s.burnt).toBe(300n * TOKEN + 405n * TOKEN) // fee burn + 90% of 5% of 9,000
    expect(s.insurancePool).toBe(45n * TOKEN)
  })

  it("emission is annualEmission pro rata of a year, rounded down", () => {
    expect(emissionFor(DEFAULT_PARAMS, 0, 365 * 86_400_000)).toBe(20_000_000n * TOKEN)
    expect(emissionFor(DEFAULT_PARAMS, 0, 86_400_000)).toBe((20_000_000n * TOKEN) / 365n)
    expect(emissionFor(DEFAULT_PARAMS, 10, 10)).toBe(0n)
    expect(emissionFor(DEFAULT_PARAMS, 10, 5)).toBe(0n)
  })

  it("funds an epoch's emission from a reserve account", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))
    const amount = emissionFor(e.params, 0, 86_400_000)
    ok(e.apply({ type: "fundRewards", from: "reserve", amount }, 86_400_000))
    expect(e.pendingRewards("v0").rewards).toBeLessThanOrEqual(amount)
    expect(amount - e.pendingRewards("v0").rewards).toBeLessThanOrEqual(1n)
  })
})

describe("errors", () => {
  it("every error says what was wrong with the values", () => {
    const samples = [
      new errors.TokenInvalidAmount({ op: "transfer", amount: 0n }),
      new errors.TokenInsufficientBalance({ address: "a", balance: 1n, needed: 2n }),
      new errors.TokenInvalidAllocation({ reason: "r" }),
      new errors.TokenInvalidAddress({ role: "sender", address: "" }),
      new errors.TokenCustodyAccount({ role: "sender", address: "market:escrow" }),
      new errors.StakingUnknownPool({ pool: "p" }),
      new errors.StakingNotValidatorPool({ pool: "contrib:p" }),
      new errors.StakingInvalidOperator({ operator: "contrib:x" }),
      new errors.StakingValidatorExists({ operator: "v" }),
      new errors.StakingBelowMinimumBond({ kind: "validator", amount: TOKEN, minimum: 10n * TOKEN }),
      new errors.StakingCommissionTooHigh({ commission: WAD / 2n, maximum: WAD / 4n }),
      new errors.StakingInvalidCommission({ commission: -1n }),
      new errors.StakingInvalidTier({ tier: 7 }),
      new errors.StakingInvalidAmount({ amount: 1n, reason: "too small" }),
      new errors.StakingValidatorJailed({ pool: "v", jailedUntil: 600_000 }),
      new errors.StakingValidatorTombstoned({ pool: "v" }),
      new errors.StakingPoolFullySlashed({ pool: "v" }),
      new errors.StakingUnknownPosition({ position: 9 }),
      new errors.StakingNotPositionOwner({ position: 9, owner: "a", caller: "b" }),
      new errors.StakingPositionLocked({ position: 9, unlockAt: 86_400_000, now: 0 }),
      new errors.StakingInsufficientShares({ position: 9, requested: 2n, available: 1n }),
      new errors.StakingNothingUnbonding({ owner: "a" }),
      new errors.StakingUnbondingNotMature({ owner: "a", maturesAt: 7_200_000, now: 0 }),
      new errors.StakingInfractionAlreadySlashed({ evidenceId: "e" }),
      new errors.StakingInvalidEvidence({ evidenceId: "", reason: "empty" }),
      new errors.StakingInfractionInFuture({ infractionTime: 5, now: 4 }),
      new errors.StakingInfractionBeforePool({ pool: "v", infractionTime: 1, createdAt: 2 }),
      new errors.StakingNotJailed({ operator: "v" }),
      new errors.StakingJailNotExpired({ operator: "v", jailedUntil: 600_000, now: 0 }),
      new errors.StakingTombstoned({ pool: "v" }),
      new errors.StakingInvalidSigningKey({ key: "0x00" }),
      new errors.StakingSigningKeyInUse({ key: "0x01", operator: "v" }),
      new errors.LedgerTimeWentBackwards({ now: 1, last: 2 }),
      new errors.LedgerInvalidTime({ now: -1 }),
      new errors.LedgerUnknownOperation({ type: "mint" }),
    ]
    const tags = new Set(samples.map((s) => s._tag))
    expect(tags.size).toBe(samples.length)
    for (const s of samples) {
      expect(s).toBeInstanceOf(Error)
      expect(s.message.length).toBeGreaterThan(15)
      expect(s._tag).toMatch(/^(Token|Staking|Ledger)[A-Z]/)
    }
    expect(new errors.StakingPositionLocked({ position: 9, unlockAt: 86_400_000, now: 0 }).message).toContain("1d to go")
    expect(new errors.StakingCommissionTooHigh({ commission: WAD / 2n, maximum: WAD / 4n }).message).toContain("50% exceeds staking.maxCommission 25%")
    expect(new errors.StakingUnbondingNotMature({ owner: "a", maturesAt: 7_200_000, now: 0 }).message).toContain("t=7200000ms (in 2h)")
  })

  it("exports every error class that an operation can return", () => {
    const exported = Object.keys(errors).filter((k) => /^(Token|Staking|Ledger)/.test(k))
    expect(exported.length).toBe(35)
  })

  it("default params satisfy the economy's expectations", () => {
    expect(DEFAULT_PARAMS["staking.maxCommission"]).toBeLessThan(1)
  })
})
