/** Chain compliance, staking: a validator's and a delegator's position from bond to withdrawal. */
import { afterEach, describe, expect, it } from "vitest"
import { econConfig, StakingNothingUnbonding, StakingUnbondingNotMature } from "../../../core/econ/index.ts"
import { ACTOR_BALANCE } from "../../../core/econ/testkit.ts"
import { TOKEN, WAD } from "../../../core/units.ts"
import { type ChainSetup, expectConserved, ok, refused, run } from "./harness.ts"

/** The staking tests, each on a fresh chain from `common`. */
export const stakingTests = (common: ChainSetup): void => {
  describe("staking", () => {
    afterEach(() => common.teardown())

    it("register a validator, delegate, unbond, wait out the unbonding period, withdraw", async () => {
      const { chain, params, advance } = await common.setup()
      const cfg = econConfig(params)
      const self = 2n * cfg.minValidatorBond
      const commission = WAD / 10n
      const v = await ok(chain, { type: "registerValidator", operator: "v0", amount: self, tier: 0, commission })
      expect(v).toMatchObject({ type: "registerValidator", operator: "v0", commission, pool: "v0", amount: self, shares: self, weightedShares: self, tier: 0, multiplier: WAD })
      await expectConserved(chain, "after registerValidator")

      const d = await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 5_000n * TOKEN, tier: 0 })
      expect(d).toMatchObject({ type: "delegate", owner: "d0", validator: "v0", pool: "v0", amount: 5_000n * TOKEN, shares: 5_000n * TOKEN, tier: 0 })
      expect(d.position).not.toBe(v.position)
      const [pool] = await run(chain.pools)
      expect(pool).toMatchObject({ id: "v0", kind: "validator", operator: "v0", commission, tokens: self + 5_000n * TOKEN, jailed: false, tombstoned: false })
      expect(pool!.checkpoints.at(-1)?.tokens).toBe(self + 5_000n * TOKEN)
      expect(await run(chain.positions("d0"))).toEqual([expect.objectContaining({ id: d.position, owner: "d0", pool: "v0", tokens: 5_000n * TOKEN })])
      expect((await run(chain.supply)).bonded).toBe(self + 5_000n * TOKEN)
      expect(await run(chain.balanceOf("d0"))).toBe(ACTOR_BALANCE - 5_000n * TOKEN)
      await expectConserved(chain, "after delegate")

      const partial = await ok(chain, { type: "unbond", owner: "v0", position: v.position, amount: cfg.minValidatorBond })
      expect(partial).toMatchObject({ type: "unbond", owner: "v0", position: v.position, pool: "v0", requested: cfg.minValidatorBond, amount: cfg.minValidatorBond, closed: false })
      const u = await ok(chain, { type: "unbond", owner: "d0", position: d.position, amount: 5_000n * TOKEN })
      expect(u).toMatchObject({ type: "unbond", owner: "d0", position: d.position, pool: "v0", amount: 5_000n * TOKEN, closed: true, settledRewards: 0n })
      expect(await run(chain.positions("d0"))).toEqual([])
      const [entry] = await run(chain.unbonding("d0"))
      expect(entry).toMatchObject({ id: u.entry, owner: "d0", pool: "v0", amount: 5_000n * TOKEN, initialAmount: 5_000n * TOKEN, completesAt: u.completesAt })
      expect(entry!.completesAt - entry!.startedAt).toBe(cfg.unbondingPeriod)
      expect(await run(chain.supply)).toMatchObject({ bonded: cfg.minValidatorBond, unbonding: cfg.minValidatorBond + 5_000n * TOKEN })
      await expectConserved(chain, "after unbond")

      const early = await refused(chain, { type: "withdraw", owner: "d0" })
      expect(early).toEqual(new StakingUnbondingNotMature({ owner: "d0", maturesAt: u.completesAt, now: (early as StakingUnbondingNotMature).now }))

      await advance(cfg.unbondingPeriod)
      const w = await ok(chain, { type: "withdraw", owner: "d0" })
      expect(w).toEqual({
        type: "withdraw", owner: "d0", amount: 5_000n * TOKEN,
        entries: [{ id: u.entry, pool: "v0", amount: 5_000n * TOKEN, initialAmount: 5_000n * TOKEN, startedAt: entry!.startedAt, completesAt: u.completesAt }],
      })
      expect(await run(chain.balanceOf("d0"))).toBe(ACTOR_BALANCE)
      expect(await run(chain.unbonding("d0"))).toEqual([])
      expect(await refused(chain, { type: "withdraw", owner: "d0" })).toEqual(new StakingNothingUnbonding({ owner: "d0" }))
      await ok(chain, { type: "withdraw", owner: "v0" })
      expect(await run(chain.balanceOf("v0"))).toBe(ACTOR_BALANCE - cfg.minValidatorBond)
      expect(await run(chain.supply)).toMatchObject({ bonded: cfg.minValidatorBond, unbonding: 0n, burnt: 0n })
      await expectConserved(chain, "after withdraw")
    })
  })
}
