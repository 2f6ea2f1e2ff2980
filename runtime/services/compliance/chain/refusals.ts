/** Chain compliance, refusals: a refused operation fails with the economy's tagged error and changes nothing. */
import { afterEach, describe, expect, it } from "vitest"
import {
  econConfig, StakingBelowMinimumBond, StakingCommissionTooHigh, StakingInvalidTier, StakingNotJailed, StakingNotPositionOwner, StakingNotValidatorPool,
  StakingNothingUnbonding, StakingPositionLocked, StakingUnknownPool, StakingUnknownPosition, StakingValidatorExists, TokenInsufficientBalance, TokenInvalidAmount,
} from "../../../core/econ/index.ts"
import { ACTOR_BALANCE } from "../../../core/econ/testkit.ts"
import { TOKEN } from "../../../core/units.ts"
import { type ChainSetup, expectConserved, ok, refused, state } from "./harness.ts"

/** The refusals tests, each on a fresh chain from `common`. */
export const refusalsTests = (common: ChainSetup): void => {
  describe("refusals", () => {
    afterEach(() => common.teardown())

    it("a refused operation fails with the economy's tagged error, its fields, and changes nothing", async () => {
      const { chain, params } = await common.setup()
      const cfg = econConfig(params)
      await ok(chain, { type: "registerValidator", operator: "v0", amount: cfg.minValidatorBond, tier: 0, commission: 0n })
      const d = await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * TOKEN, tier: 30 })
      await ok(chain, { type: "bondContributor", owner: "c0", amount: cfg.minContributorBond, tier: 0 })
      const before = await state(chain)

      const e1 = await refused(chain, { type: "transfer", from: "d1", to: "d2", amount: ACTOR_BALANCE + 1n })
      expect(e1).toBeInstanceOf(TokenInsufficientBalance)
      expect(e1).toMatchObject({ address: "d1", balance: ACTOR_BALANCE, needed: ACTOR_BALANCE + 1n })
      expect(e1.message).toMatch(/d1 holds .* but needs/)
      expect(await refused(chain, { type: "transfer", from: "d1", to: "d2", amount: 0n })).toBeInstanceOf(TokenInvalidAmount)
      expect(await refused(chain, { type: "payFee", payer: "d1", amount: ACTOR_BALANCE + 1n })).toMatchObject({ _tag: "TokenInsufficientBalance", address: "d1" })
      expect(await refused(chain, { type: "delegate", owner: "d1", validator: "v2", amount: TOKEN, tier: 0 })).toEqual(new StakingUnknownPool({ pool: "v2" }))
      expect(await refused(chain, { type: "delegate", owner: "d1", validator: "contrib:c0", amount: TOKEN, tier: 0 })).toEqual(new StakingNotValidatorPool({ pool: "contrib:c0" }))
      expect(await refused(chain, { type: "registerValidator", operator: "v1", amount: cfg.minValidatorBond - 1n, tier: 0, commission: 0n }))
        .toEqual(new StakingBelowMinimumBond({ kind: "validator", amount: cfg.minValidatorBond - 1n, minimum: cfg.minValidatorBond }))
      expect(await refused(chain, { type: "registerValidator", operator: "v1", amount: cfg.minValidatorBond, tier: 0, commission: cfg.maxCommission + 1n }))
        .toEqual(new StakingCommissionTooHigh({ commission: cfg.maxCommission + 1n, maximum: cfg.maxCommission }))
      expect(await refused(chain, { type: "registerValidator", operator: "v0", amount: cfg.minValidatorBond, tier: 0, commission: 0n })).toEqual(new StakingValidatorExists({ operator: "v0" }))
      expect(await refused(chain, { type: "registerValidator", operator: "v1", amount: cfg.minValidatorBond, tier: 7 as 0, commission: 0n })).toBeInstanceOf(StakingInvalidTier)
      const locked = await refused(chain, { type: "unbond", owner: "d0", position: d.position, amount: TOKEN })
      expect(locked).toBeInstanceOf(StakingPositionLocked)
      expect(locked).toMatchObject({ position: d.position, unlockAt: d.unlockAt })
      expect((locked as StakingPositionLocked).now).toBeLessThan(d.unlockAt)
      expect(await refused(chain, { type: "unbond", owner: "d1", position: d.position, amount: TOKEN }))
        .toEqual(new StakingNotPositionOwner({ position: d.position, owner: "d0", caller: "d1" }))
      expect(await refused(chain, { type: "unbond", owner: "d1", position: 999, amount: TOKEN })).toEqual(new StakingUnknownPosition({ position: 999 }))
      expect(await refused(chain, { type: "withdraw", owner: "d2" })).toEqual(new StakingNothingUnbonding({ owner: "d2" }))
      expect(await refused(chain, { type: "unjail", operator: "v0" })).toEqual(new StakingNotJailed({ operator: "v0" }))

      expect(await state(chain)).toEqual(before)
      await expectConserved(chain, "after the refusals")
    })
  })
}
