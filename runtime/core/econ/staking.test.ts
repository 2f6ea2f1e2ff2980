import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DAY_MS } from "../duration.ts"
import { DEFAULT_PARAMS, resolveParams, type Params } from "../params.ts"
import { TOKEN, WAD } from "../units.ts"
import type { Economy } from "./economy.ts"
import type { LockTier } from "./state.ts"
import { failTag, ok, testEconomy } from "./testkit.ts"

const T = TOKEN
const UNBONDING = DEFAULT_PARAMS["staking.unbondingPeriod"]

/** An economy with validator v0 (10,000 self-bond, tier 0, 10% commission). */
const withValidator = (params: Params = DEFAULT_PARAMS): Economy => {
  const e = testEconomy(params)
  ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: WAD / 10n }, 0))
  return e
}

/** Expect a refusal with `tag` that changes nothing. */
const refused = (e: Economy, op: Parameters<Economy["apply"]>[0], now: number, tag: string): string => {
  const before = e.snapshot()
  const r = e.apply(op, now)
  expect(failTag(r)).toBe(tag)
  expect(e.snapshot()).toEqual(before)
  return Result.isFailure(r) ? r.failure.message : ""
}

describe("registerValidator", () => {
  it("creates the pool with the operator's self-bond as position #1", () => {
    const e = testEconomy()
    const r = ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 90, commission: WAD / 10n }, 7))
    expect(r).toEqual({
      type: "registerValidator", operator: "v0", commission: WAD / 10n, position: 1, pool: "v0", amount: 10_000n * T,
      shares: 10_000n * T, weightedShares: 12_500n * T, tier: 90, multiplier: 125n * WAD / 100n, unlockAt: 7 + 90 * DAY_MS,
    })
    expect(e.pool("v0")).toMatchObject({
      kind: "validator", operator: "v0", tokens: 10_000n * T, shares: 10_000n * T, weightedShares: 12_500n * T, delegatorShares: 0n,
      weight: 12_500n * T, jailed: false, tombstoned: false, createdAt: 7,
    })
    expect(e.balanceOf("v0")).toBe(990_000n * T)
    expect(e.supply().bonded).toBe(10_000n * T)
  })

  it("refuses a second registration, a contributor-style operator, and an empty address", () => {
    const e = withValidator()
    refused(e, { type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0, "StakingValidatorExists")
    refused(e, { type: "registerValidator", operator: "contrib:x", amount: 10_000n * T, tier: 0, commission: 0n }, 0, "StakingInvalidOperator")
    refused(e, { type: "registerValidator", operator: "", amount: 10_000n * T, tier: 0, commission: 0n }, 0, "TokenInvalidAddress")
  })

  it("refuses a self-bond below staking.minValidatorBond", () => {
    const e = testEconomy()
    const msg = refused(e, { type: "registerValidator", operator: "v1", amount: 1_000n * T - 1n, tier: 0, commission: 0n }, 0, "StakingBelowMinimumBond")
    expect(msg).toContain("minimum of 1,000 tokens")
    refused(e, { type: "registerValidator", operator: "v1", amount: 0n, tier: 0, commission: 0n }, 0, "TokenInvalidAmount")
  })

  it("refuses a commission above staking.maxCommission or outside [0, 1]", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * T, tier: 0, commission: WAD / 4n }, 0)) // exactly the max
    refused(e, { type: "registerValidator", operator: "v2", amount: 10_000n * T, tier: 0, commission: WAD / 4n + 1n }, 0, "StakingCommissionTooHigh")
    refused(e, { type: "registerValidator", operator: "v2", amount: 10_000n * T, tier: 0, commission: -1n }, 0, "StakingInvalidCommission")
    refused(e, { type: "registerValidator", operator: "v2", amount: 10_000n * T, tier: 0, commission: 0.1 as unknown as bigint }, 0, "StakingInvalidCommission")
  })

  it("refuses an unknown lock tier and an unaffordable bond", () => {
    const e = testEconomy()
    refused(e, { type: "registerValidator", operator: "v1", amount: 10_000n * T, tier: 7 as LockTier, commission: 0n }, 0, "StakingInvalidTier")
    refused(e, { type: "registerValidator", operator: "v1", amount: 2_000_000n * T, tier: 0, commission: 0n }, 0, "TokenInsufficientBalance")
  })
})

describe("bondContributor", () => {
  it("creates the contributor's own pool on the first bond and adds positions later", () => {
    const e = testEconomy()
    const a = ok(e.apply({ type: "bondContributor", owner: "c0", amount: 100n * T, tier: 0 }, 0))
    expect(a).toMatchObject({ type: "bondContributor", owner: "c0", pool: "contrib:c0", created: true, position: 1, shares: 100n * T })
    const b = ok(e.apply({ type: "bondContributor", owner: "c0", amount: 300n * T, tier: 365 }, 5))
    expect(b).toMatchObject({ created: false, position: 2, shares: 300n * T, weightedShares: 600n * T })
    expect(e.pool("contrib:c0")).toMatchObject({ kind: "contributor", operator: "c0", commission: 0n, tokens: 400n * T, delegatorShares: 0n, weight: 700n * T })
  })

  it("refuses a bond below staking.minContributorBond", () => {
    const e = testEconomy()
    refused(e, { type: "bondContributor", owner: "c0", amount: 100n * T - 1n, tier: 0 }, 0, "StakingBelowMinimumBond")
    refused(e, { type: "bondContributor", owner: "c0", amount: -1n, tier: 0 }, 0, "TokenInvalidAmount")
    refused(e, { type: "bondContributor", owner: "c0", amount: 100n * T, tier: 1 as LockTier }, 0, "StakingInvalidTier")
    refused(e, { type: "bondContributor", owner: "", amount: 100n * T, tier: 0 }, 0, "TokenInvalidAddress")
  })

  it("refuses more stake into a jailed or tombstoned contributor pool", () => {
    const e = testEconomy()
    ok(e.apply({ type: "bondContributor", owner: "c0", amount: 100n * T, tier: 0 }, 0))
    ok(e.apply({ type: "slash", pool: "contrib:c0", infraction: "downtime", infractionTime: 0, evidenceId: "d" }, 1))
    refused(e, { type: "bondContributor", owner: "c0", amount: 100n * T, tier: 0 }, 2, "StakingValidatorJailed")
    ok(e.apply({ type: "slash", pool: "contrib:c0", infraction: "doubleSign", infractionTime: 0, evidenceId: "ds" }, 3))
    refused(e, { type: "bondContributor", owner: "c0", amount: 100n * T, tier: 0 }, 4, "StakingValidatorTombstoned")
  })

  it("nobody can delegate to a contributor pool", () => {
    const e = testEconomy()
    ok(e.apply({ type: "bondContributor", owner: "c0", amount: 100n * T, tier: 0 }, 0))
    refused(e, { type: "delegate", owner: "d0", validator: "contrib:c0", amount: 100n * T, tier: 0 }, 0, "StakingNotValidatorPool")
  })
})

describe("delegate", () => {
  it("adds a delegator position with the tier's multiplier and lock", () => {
    const e = withValidator()
    const r = ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * T, tier: 365 }, 100))
    expect(r).toMatchObject({ type: "delegate", owner: "d0", validator: "v0", position: 2, shares: 1_000n * T, weightedShares: 2_000n * T, multiplier: 2n * WAD, unlockAt: 100 + 365 * DAY_MS })
    expect(e.pool("v0")).toMatchObject({ tokens: 11_000n * T, shares: 11_000n * T, weightedShares: 12_000n * T, delegatorShares: 1_000n * T, weight: 12_000n * T })
  })

  it("uses every lock multiplier from the params", () => {
    const e = withValidator()
    const mults: Record<LockTier, bigint> = { 0: WAD, 30: 11n * WAD / 10n, 90: 125n * WAD / 100n, 180: 15n * WAD / 10n, 365: 2n * WAD }
    for (const tier of [0, 30, 90, 180, 365] as const) {
      const r = ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 100n * T, tier }, 0))
      expect(r.multiplier).toBe(mults[tier])
      expect(r.weightedShares).toBe((100n * T * mults[tier]) / WAD)
    }
  })

  it("the operator may add to its own stake (not a delegator share)", () => {
    const e = withValidator()
    ok(e.apply({ type: "delegate", owner: "v0", validator: "v0", amount: 500n * T, tier: 30 }, 0))
    expect(e.pool("v0")!.delegatorShares).toBe(0n)
  })

  it("mints shares at the pool's rate after a slash (rounded down)", () => {
    const e = withValidator()
    ok(e.apply({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "x" }, 0)) // 0.01% of 10,000 = 1
    ok(e.apply({ type: "unjail", operator: "v0" }, 600_000))
    expect(e.pool("v0")!.tokens).toBe(9_999n * T)
    const r = ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 9_999n * T, tier: 0 }, 600_000))
    expect(r.shares).toBe(10_000n * T)
    const odd = ok(e.apply({ type: "delegate", owner: "d1", validator: "v0", amount: 7n, tier: 0 }, 600_000))
    expect(odd.shares).toBe((7n * 20_000n) / 19_998n) // 7
  })

  it("refuses unknown, jailed and tombstoned validators", () => {
    const e = withValidator()
    refused(e, { type: "delegate", owner: "d0", validator: "ghost", amount: T, tier: 0 }, 0, "StakingUnknownPool")
    ok(e.apply({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "d" }, 0))
    const msg = refused(e, { type: "delegate", owner: "d0", validator: "v0", amount: T, tier: 0 }, 1, "StakingValidatorJailed")
    expect(msg).toContain("jailed")
    ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 0, evidenceId: "ds" }, 2))
    refused(e, { type: "delegate", owner: "d0", validator: "v0", amount: T, tier: 0 }, 3, "StakingValidatorTombstoned")
  })

  it("refuses a pool slashed to zero tokens that still has shares", () => {
    const e = withValidator(ok(resolveParams({ "slashing.doubleSignFraction": 1 })))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: T, tier: 0 }, 0))
    ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 0, evidenceId: "x" }, 1))
    expect(e.pool("v0")).toMatchObject({ tokens: 0n, shares: 10_001n * T, weight: 0n })
    // Tombstoned is reported first; the fully-slashed check guards pools that are not.
    refused(e, { type: "delegate", owner: "d1", validator: "v0", amount: T, tier: 0 }, 2, "StakingValidatorTombstoned")
    expect(e.positions("d0")[0]!.tokens).toBe(0n)
    refused(e, { type: "unbond", owner: "d0", position: 2, amount: 1n }, 2, "StakingInsufficientShares")
  })

  it("a share is never worth more than one token, so any positive amount buys at least one share", () => {
    const e = withValidator(ok(resolveParams({ "slashing.downtimeFraction": 0.05 })))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1n, tier: 0 }, 0))
    ok(e.apply({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "x" }, 0))
    ok(e.apply({ type: "unjail", operator: "v0" }, 600_000))
    expect(ok(e.apply({ type: "delegate", owner: "d1", validator: "v0", amount: 1n, tier: 0 }, 600_000)).shares).toBe(1n)
    const p = e.pool("v0")!
    expect(p.tokens).toBeLessThanOrEqual(p.shares)
  })

  it("refuses bad amounts, tiers, addresses and balances", () => {
    const e = withValidator()
    refused(e, { type: "delegate", owner: "d0", validator: "v0", amount: 0n, tier: 0 }, 0, "TokenInvalidAmount")
    refused(e, { type: "delegate", owner: "d0", validator: "v0", amount: T, tier: 60 as LockTier }, 0, "StakingInvalidTier")
    refused(e, { type: "delegate", owner: "", validator: "v0", amount: T, tier: 0 }, 0, "TokenInvalidAddress")
    refused(e, { type: "delegate", owner: "ghost", validator: "v0", amount: T, tier: 0 }, 0, "TokenInsufficientBalance")
  })
})

describe("unbond", () => {
  it("partially unbonds into an entry that completes after the unbonding period", () => {
    const e = withValidator()
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * T, tier: 0 }, 0))
    const r = ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: 400n * T }, 10))
    expect(r).toMatchObject({ type: "unbond", owner: "d0", position: 2, pool: "v0", requested: 400n * T, sharesBurnt: 400n * T, amount: 400n * T, entry: 1, completesAt: 10 + UNBONDING, closed: false })
    expect(e.positions("d0")[0]).toMatchObject({ shares: 600n * T, weightedShares: 600n * T, tokens: 600n * T })
    expect(e.pool("v0")).toMatchObject({ tokens: 10_600n * T, shares: 10_600n * T, delegatorShares: 600n * T })
    expect(e.unbonding("d0")).toEqual([{ id: 1, owner: "d0", pool: "v0", initialAmount: 400n * T, amount: 400n * T, startedAt: 10, completesAt: 10 + UNBONDING }])
    expect(e.supply()).toMatchObject({ bonded: 10_600n * T, unbonding: 400n * T })
  })

  it("unbonding the whole value closes the position", () => {
    const e = withValidator()
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * T, tier: 30 }, 0))
    const r = ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: 1_000n * T }, 30 * DAY_MS))
    expect(r.closed).toBe(true)
    expect(e.positions("d0")).toEqual([])
    expect(e.pool("v0")).toMatchObject({ tokens: 10_000n * T, shares: 10_000n * T, weightedShares: 10_000n * T, delegatorShares: 0n })
    refused(e, { type: "unbond", owner: "d0", position: 2, amount: 1n }, 30 * DAY_MS, "StakingUnknownPosition")
  })

  it("converts shares to tokens rounding down after a slash", () => {
    const e = withValidator(ok(resolveParams({ "slashing.downtimeFraction": 0.05 })))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 3n, tier: 0 }, 0))
    ok(e.apply({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "x" }, 0))
    // pool: tokens 9,500 T + 3 - 5% … ; d0's 3 shares are worth floor(3 × tokens / shares)
    const pos = e.positions("d0")[0]!
    expect(pos.tokens).toBe(2n)
    const r = ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: 1n }, 1))
    expect(r.sharesBurnt).toBe(1n) // floor(1 × shares / tokens)
    expect(r.amount).toBe(0n) // floor(1 × tokens / shares): the user asked for 1 and gets what a share is worth, rounded down
    const all = ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: e.positions("d0")[0]!.tokens }, 1))
    expect(all.closed).toBe(true)
  })

  it("refuses unbonding before the lock expires, saying when it unlocks", () => {
    const e = withValidator()
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * T, tier: 90 }, 0))
    const msg = refused(e, { type: "unbond", owner: "d0", position: 2, amount: T }, 90 * DAY_MS - 1, "StakingPositionLocked")
    expect(msg).toContain(`until t=${90 * DAY_MS}ms`)
    ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: T }, 90 * DAY_MS))
  })

  it("refuses unknown positions, other owners, more than the value, and bad amounts", () => {
    const e = withValidator()
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * T, tier: 0 }, 0))
    refused(e, { type: "unbond", owner: "d0", position: 99, amount: T }, 0, "StakingUnknownPosition")
    const msg = refused(e, { type: "unbond", owner: "d1", position: 2, amount: T }, 0, "StakingNotPositionOwner")
    expect(msg).toBe("position #2 belongs to d0, not d1")
    refused(e, { type: "unbond", owner: "d0", position: 2, amount: 1_000n * T + 1n }, 0, "StakingInsufficientShares")
    refused(e, { type: "unbond", owner: "d0", position: 2, amount: 0n }, 0, "TokenInvalidAmount")
    refused(e, { type: "unbond", owner: "", position: 2, amount: T }, 0, "TokenInvalidAddress")
  })
})

describe("withdraw", () => {
  it("distinguishes nothing unbonding from not mature yet", () => {
    const e = withValidator()
    refused(e, { type: "withdraw", owner: "v0" }, 0, "StakingNothingUnbonding")
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 100n * T }, 5))
    const msg = refused(e, { type: "withdraw", owner: "v0" }, 5 + UNBONDING - 1, "StakingUnbondingNotMature")
    expect(msg).toContain(`matures at t=${5 + UNBONDING}ms (in 1ms)`)
    refused(e, { type: "withdraw", owner: "" }, 5, "TokenInvalidAddress")
  })

  it("releases every mature entry and keeps the others", () => {
    const e = withValidator()
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 100n * T }, 0))
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 200n * T }, DAY_MS))
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 300n * T }, 2 * DAY_MS))
    const before = e.balanceOf("v0")
    const r = ok(e.apply({ type: "withdraw", owner: "v0" }, DAY_MS + UNBONDING))
    expect(r.amount).toBe(300n * T)
    expect(r.entries.map((x) => x.id)).toEqual([1, 2])
    expect(e.balanceOf("v0")).toBe(before + 300n * T)
    expect(e.unbonding("v0").map((u) => u.id)).toEqual([3])
    expect(e.pool("v0")!.unbondingIds).toEqual([3])
    expect(e.supply().unbonding).toBe(300n * T)
    refused(e, { type: "withdraw", owner: "v0" }, DAY_MS + UNBONDING, "StakingUnbondingNotMature")
    ok(e.apply({ type: "withdraw", owner: "v0" }, 2 * DAY_MS + UNBONDING))
    refused(e, { type: "withdraw", owner: "v0" }, 2 * DAY_MS + UNBONDING, "StakingNothingUnbonding")
  })

  it("pays out what is left of a slashed entry", () => {
    const e = withValidator()
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 1_000n * T }, 10))
    ok(e.apply({ type: "slash", pool: "v0", infraction: "doubleSign", infractionTime: 5, evidenceId: "x" }, 20))
    const r = ok(e.apply({ type: "withdraw", owner: "v0" }, 10 + UNBONDING))
    expect(r.entries[0]).toMatchObject({ initialAmount: 1_000n * T, amount: 950n * T })
  })
})
