/** Chain compliance, rewards: fees burn a share and pay stakers; funded rewards are pending and claimed. */
import { afterEach, describe, expect, it } from "vitest"
import { econConfig } from "../../../core/econ/index.ts"
import { ACTOR_BALANCE, RESERVE } from "../../../core/econ/testkit.ts"
import { mulWad, TOKEN, WAD } from "../../../core/units.ts"
import { type ChainSetup, expectConserved, ok, run } from "./harness.ts"

/** The rewards tests, each on a fresh chain from `common`. */
export const rewardsTests = (common: ChainSetup): void => {
  describe("rewards", () => {
    afterEach(() => common.teardown())

    it("a fee burns its burn share and pays the rest to the stakers", async () => {
      const { chain, params } = await common.setup()
      const cfg = econConfig(params)
      const early = await ok(chain, { type: "payFee", payer: "d1", amount: 100n * TOKEN })
      expect(early).toEqual({
        type: "payFee", payer: "d1", amount: 100n * TOKEN, burnt: mulWad(100n * TOKEN, cfg.burnFraction), toStakers: 100n * TOKEN - mulWad(100n * TOKEN, cfg.burnFraction), distributed: false,
      })
      await ok(chain, { type: "registerValidator", operator: "v0", amount: cfg.minValidatorBond, tier: 0, commission: 0n })
      const amount = 1_234n * TOKEN + 7n
      const f = await ok(chain, { type: "payFee", payer: "d1", amount })
      const burnt = mulWad(amount, cfg.burnFraction)
      expect(f).toEqual({ type: "payFee", payer: "d1", amount, burnt, toStakers: amount - burnt, distributed: true })
      const s = await run(chain.supply)
      expect(s.burnt).toBe(early.burnt + burnt)
      expect(s.rewardPool).toBe(early.toStakers + amount - burnt)
      expect(await run(chain.balanceOf("d1"))).toBe(ACTOR_BALANCE - 100n * TOKEN - amount)
      await expectConserved(chain, "after fees")
    })

    it("funded rewards are pending for the stakers and a claim pays exactly what was pending", async () => {
      const { chain, params } = await common.setup()
      const cfg = econConfig(params)
      await ok(chain, { type: "registerValidator", operator: "v0", amount: cfg.minValidatorBond, tier: 0, commission: WAD / 10n })
      await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 9_000n * TOKEN, tier: 90 })
      const fund = 10_000n * TOKEN
      const fr = await ok(chain, { type: "fundRewards", from: RESERVE, amount: fund })
      expect(fr).toMatchObject({ type: "fundRewards", from: RESERVE, amount: fund, distributed: true })
      expect(fr.carried).toBeLessThan(TOKEN)
      const pv = await run(chain.pendingRewards("v0"))
      const pd = await run(chain.pendingRewards("d0"))
      expect(pv.commission).toBeGreaterThan(0n)
      expect(pd.rewards).toBeGreaterThan(pv.rewards) // 9x the stake with a 90-day multiplier
      expect(pv.total + pd.total).toBeLessThanOrEqual(fund)
      expect(pv.total + pd.total).toBeGreaterThan(fund - TOKEN)
      await expectConserved(chain, "after funding")

      const cd = await ok(chain, { type: "claimRewards", owner: "d0" })
      expect(cd).toMatchObject({ type: "claimRewards", owner: "d0", rewards: pd.rewards, commission: 0n, insurance: 0n, total: pd.total })
      expect(cd.settled.map((x) => x.pool)).toEqual(["v0"])
      expect(cd.settled.reduce((x, y) => x + y.reward, 0n)).toBe(pd.rewards)
      expect(await run(chain.balanceOf("d0"))).toBe(ACTOR_BALANCE - 9_000n * TOKEN + pd.total)
      expect((await run(chain.pendingRewards("d0"))).total).toBe(0n)
      const cv = await ok(chain, { type: "claimRewards", owner: "v0" })
      expect(cv).toMatchObject({ rewards: pv.rewards, commission: pv.commission, total: pv.total })
      expect((await run(chain.supply)).rewardPool).toBe(fund - pd.total - pv.total)
      const nothing = await ok(chain, { type: "claimRewards", owner: "d1" })
      expect(nothing).toMatchObject({ total: 0n, settled: [] })
      await expectConserved(chain, "after claims")
    })
  })
}
