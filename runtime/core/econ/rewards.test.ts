import { describe, expect, it } from "vitest"
import { resolveParams } from "../params.ts"
import { TOKEN, WAD } from "../units.ts"
import { PRECISION } from "./state.ts"
import { failTag, ok, testEconomy } from "./testkit.ts"

const T = TOKEN
const noDowntimeSlash = ok(resolveParams({ "slashing.downtimeFraction": 0 }))

describe("fundRewards and the global accumulator", () => {
  it("splits rewards over pools by stake × lock multiplier", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * T, tier: 365, commission: 0n }, 0))
    const r = ok(e.apply({ type: "fundRewards", from: "reserve", amount: 3_000n * T }, 1))
    expect(r).toEqual({ type: "fundRewards", from: "reserve", amount: 3_000n * T, distributed: true, carried: 0n })
    expect(e.pendingRewards("v0").rewards).toBe(1_000n * T)
    expect(e.pendingRewards("v1").rewards).toBe(2_000n * T)
    expect(e.rewardTotals()).toMatchObject({ funded: 3_000n * T, claimed: 0n, totalWeight: 30_000n * T, acc: (3_000n * T * PRECISION) / (30_000n * T) })
  })

  it("takes the commission for the operator and splits the rest by weighted shares", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: WAD / 10n }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 10_000n * T, tier: 365 }, 0))
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 3_000n * T }, 1))
    // pool weight = 20,000 × 30,000 / 20,000 = 30,000; all 3,000 to the pool; 10% commission = 300
    expect(e.pendingRewards("v0")).toEqual({ rewards: 900n * T, commission: 300n * T, insurance: 0n, total: 1_200n * T })
    expect(e.pendingRewards("d0")).toEqual({ rewards: 1_800n * T, commission: 0n, insurance: 0n, total: 1_800n * T })
    const c = ok(e.apply({ type: "claimRewards", owner: "v0" }, 2))
    expect(c).toMatchObject({ type: "claimRewards", owner: "v0", rewards: 900n * T, commission: 300n * T, insurance: 0n, total: 1_200n * T })
    expect(c.settled).toEqual([{ position: 1, pool: "v0", reward: 900n * T, insurance: 0n }])
    expect(e.balanceOf("v0")).toBe(990_000n * T + 1_200n * T)
    expect(e.pendingRewards("v0").total).toBe(0n)
    expect(ok(e.apply({ type: "claimRewards", owner: "v0" }, 3)).total).toBe(0n) // nothing left: not an error
  })

  it("later stakers earn only from later funding", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 1))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 10_000n * T, tier: 0 }, 2))
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 3))
    expect(e.pendingRewards("v0").rewards).toBe(1_500n * T)
    expect(e.pendingRewards("d0").rewards).toBe(500n * T)
  })

  it("carries rewards funded while nothing is staked until there is weight", () => {
    const e = testEconomy()
    const r = ok(e.apply({ type: "fundRewards", from: "reserve", amount: 500n * T }, 0))
    expect(r).toMatchObject({ distributed: false, carried: 500n * T })
    expect(e.supply().rewardPool).toBe(500n * T)
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 1))
    expect(e.pendingRewards("v0").rewards).toBe(0n)
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 2))
    expect(e.pendingRewards("v0").rewards).toBe(1_500n * T)
  })

  it("a jailed pool earns nothing while jailed, and earns again after unjail", () => {
    const e = testEconomy(noDowntimeSlash)
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "slash", pool: "v1", infraction: "downtime", infractionTime: 0, evidenceId: "x" }, 0))
    expect(e.pool("v1")!.weight).toBe(0n)
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 1))
    expect(e.pendingRewards("v0").rewards).toBe(1_000n * T)
    expect(e.pendingRewards("v1").rewards).toBe(0n)
    ok(e.apply({ type: "unjail", operator: "v1" }, 600_000))
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 2_000n * T }, 600_001))
    expect(e.pendingRewards("v0").rewards).toBe(2_000n * T)
    expect(e.pendingRewards("v1").rewards).toBe(1_000n * T)
  })

  it("an operator who left its own pool still collects commission", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: WAD / 4n }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 10_000n * T, tier: 0 }, 0))
    ok(e.apply({ type: "unbond", owner: "v0", position: 1, amount: 10_000n * T }, 0))
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 1))
    expect(e.pendingRewards("v0")).toMatchObject({ rewards: 0n, commission: 250n * T })
    expect(ok(e.apply({ type: "claimRewards", owner: "v0" }, 2))).toMatchObject({ commission: 250n * T, total: 250n * T })
    expect(ok(e.apply({ type: "claimRewards", owner: "d0" }, 2))).toMatchObject({ rewards: 750n * T })
  })

  it("settles rewards into the owner's claimable balance when a position is unbonded", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 10_000n * T, tier: 0 }, 0))
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 1))
    const u = ok(e.apply({ type: "unbond", owner: "d0", position: 2, amount: 10_000n * T }, 2))
    expect(u).toMatchObject({ closed: true, settledRewards: 500n * T })
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T }, 3)) // d0 no longer staked
    expect(e.pendingRewards("d0").rewards).toBe(500n * T)
    expect(e.pendingRewards("v0").rewards).toBe(1_500n * T)
    expect(ok(e.apply({ type: "claimRewards", owner: "d0" }, 4)).rewards).toBe(500n * T)
  })

  it("keeps rounding dust inside the reward pool", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 30, commission: WAD / 10n }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 3_333n * T + 1n, tier: 180 }, 0))
    for (let i = 1; i <= 20; i++) ok(e.apply({ type: "fundRewards", from: "reserve", amount: 1_000n * T + BigInt(i) }, i))
    const funded = e.rewardTotals().funded
    const a = ok(e.apply({ type: "claimRewards", owner: "v0" }, 30)).total
    const b = ok(e.apply({ type: "claimRewards", owner: "d0" }, 30)).total
    const left = funded - a - b
    expect(left).toBeGreaterThanOrEqual(0n)
    expect(left).toBeLessThanOrEqual(2n * 22n) // < 1 wei per pool settlement + 1 per position settlement
    expect(e.supply().rewardPool).toBe(left)
  })

  it("refuses bad funding", () => {
    const e = testEconomy()
    expect(failTag(e.apply({ type: "fundRewards", from: "d0", amount: 0n }, 0))).toBe("TokenInvalidAmount")
    expect(failTag(e.apply({ type: "fundRewards", from: "ghost", amount: 1n }, 0))).toBe("TokenInsufficientBalance")
    expect(failTag(e.apply({ type: "fundRewards", from: "", amount: 1n }, 0))).toBe("TokenInvalidAddress")
    expect(failTag(e.apply({ type: "claimRewards", owner: "" }, 0))).toBe("TokenInvalidAddress")
  })
})

describe("payFee", () => {
  it("burns fees.burnFraction and pays the rest to stakers", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    const r = ok(e.apply({ type: "payFee", payer: "d0", amount: 1_000n * T }, 1))
    expect(r).toEqual({ type: "payFee", payer: "d0", amount: 1_000n * T, burnt: 300n * T, toStakers: 700n * T, distributed: true })
    expect(e.supply()).toMatchObject({ burnt: 300n * T, rewardPool: 700n * T })
    expect(e.pendingRewards("v0").rewards).toBe(700n * T)
  })

  it("rounds the burn down (Solidity semantics)", () => {
    const e = testEconomy()
    const r = ok(e.apply({ type: "payFee", payer: "d0", amount: 7n }, 0))
    expect(r).toMatchObject({ burnt: 2n, toStakers: 5n, distributed: false }) // 7 × 0.3 = 2.1 → 2
  })

  it("burns all of it when fees.burnFraction is 0.9 and the remainder is tiny", () => {
    const e = testEconomy(ok(resolveParams({ "fees.burnFraction": 0.9 })))
    expect(ok(e.apply({ type: "payFee", payer: "d0", amount: 10n }, 0))).toMatchObject({ burnt: 9n, toStakers: 1n })
  })

  it("refuses bad fees", () => {
    const e = testEconomy()
    expect(failTag(e.apply({ type: "payFee", payer: "d0", amount: -5n }, 0))).toBe("TokenInvalidAmount")
    expect(failTag(e.apply({ type: "payFee", payer: "d0", amount: 2_000_000n * T }, 0))).toBe("TokenInsufficientBalance")
    expect(failTag(e.apply({ type: "payFee", payer: "", amount: 1n }, 0))).toBe("TokenInvalidAddress")
  })
})

describe("lock tiers", () => {
  it("a longer lock earns more per token in the same pool, by its multiplier", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * T, tier: 0, commission: 0n }, 0))
    for (const [owner, tier] of [["d0", 30], ["d1", 90], ["d2", 180], ["c0", 365]] as const) {
      ok(e.apply({ type: "delegate", owner, validator: "v0", amount: 1_000n * T, tier }, 0))
    }
    // weighted shares: 10,000 + 1,100 + 1,250 + 1,500 + 2,000 = 15,850
    ok(e.apply({ type: "fundRewards", from: "reserve", amount: 15_850n * T }, 1))
    expect(e.pendingRewards("v0").rewards).toBe(10_000n * T)
    expect(e.pendingRewards("d0").rewards).toBe(1_100n * T)
    expect(e.pendingRewards("d1").rewards).toBe(1_250n * T)
    expect(e.pendingRewards("d2").rewards).toBe(1_500n * T)
    expect(e.pendingRewards("c0").rewards).toBe(2_000n * T)
  })
})
