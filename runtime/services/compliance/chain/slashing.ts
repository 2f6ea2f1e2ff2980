/**
 * Chain compliance, slashing: a downtime slash jails, burns and insures; unjail after the jail.
 *
 * On the contracts no account may slash downtime: it settles through an epoch report signed by 2/3 of
 * the voting power (Committee.sol; runtime/adapters/evm/committee.test.ts covers it), so the EVM
 * backend refuses the `slash` op for downtime with StakingInvalidEvidence, changing nothing; a
 * backend that still takes the op (the simulated ledger, until the committee settles its downtime
 * too) must apply it as below.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Effect, Result } from "effect"
import { econConfig, StakingInfractionAlreadySlashed, StakingInvalidEvidence, StakingJailNotExpired, StakingValidatorJailed } from "../../../core/econ/index.ts"
import { mulWad, TOKEN } from "../../../core/units.ts"
import { type ChainSetup, expectConserved, ok, refused, run } from "./harness.ts"

/** The slashing tests, each on a fresh chain from `common`. */
export const slashingTests = (common: ChainSetup): void => {
  describe("slashing", () => {
    afterEach(() => common.teardown())

    it("a downtime slash jails, burns and insures; unjail only after the jail", async () => {
      const { chain, params, advance } = await common.setup()
      const cfg = econConfig(params)
      await ok(chain, { type: "registerValidator", operator: "v0", amount: 100_000n * TOKEN, tier: 0, commission: 0n })
      await advance(1_000)
      await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 50_000n * TOKEN, tier: 0 })
      const [pool] = await run(chain.pools)
      const supplyBefore = await run(chain.supply)
      const op = { type: "slash", pool: "v0", infraction: "downtime", infractionTime: pool!.createdAt, evidenceId: "downtime:v0:1" } as const
      const attempt = await run(Effect.result(chain.submit(op)))
      if (Result.isFailure(attempt) && attempt.failure instanceof StakingInvalidEvidence && /settles through epoch reports/.test(attempt.failure.reason)) {
        expect(await run(chain.pools)).toEqual([pool])
        expect(await run(chain.supply)).toEqual(supplyBefore)
        return
      }
      if (Result.isFailure(attempt)) throw new Error(`slash refused: ${attempt.failure._tag}: ${attempt.failure.message}`)
      const s = attempt.success
      expect(s).toMatchObject({
        type: "slash", pool: "v0", operator: "v0", infraction: "downtime", evidenceId: "downtime:v0:1", infractionTime: pool!.createdAt,
        fraction: cfg.downtimeFraction, stakeAtInfraction: 100_000n * TOKEN, maxSlash: mulWad(100_000n * TOKEN, cfg.downtimeFraction),
        slashedUnbonding: [], slashedUnbondingTotal: 0n, tombstoned: false,
      })
      expect(s.slashedBonded).toBe(s.maxSlash)
      expect(s.toInsurance).toBe(mulWad(s.totalSlashed, cfg.insuranceFraction))
      expect(s.toInsurance + s.burnt).toBe(s.totalSlashed)
      expect(s.delegatorLoss).toBe((s.slashedBonded * 50_000n) / 150_000n)
      expect(s.insurancePaid).toBeGreaterThan(0n)
      expect(s.insurancePaid).toBeLessThanOrEqual(s.insuranceCovered)
      const after = await run(chain.supply)
      expect(after.burnt - supplyBefore.burnt).toBe(s.burnt)
      expect(after.insurancePool).toBe(s.toInsurance)
      expect(after.bonded).toBe(supplyBefore.bonded - s.slashedBonded)
      const [jailed] = await run(chain.pools)
      expect(jailed).toMatchObject({ jailed: true, jailedUntil: s.jailedUntil, weight: 0n })
      await expectConserved(chain, "after the slash")

      expect(await refused(chain, { type: "slash", pool: "v0", infraction: "downtime", infractionTime: pool!.createdAt, evidenceId: "downtime:v0:1" }))
        .toEqual(new StakingInfractionAlreadySlashed({ evidenceId: "downtime:v0:1" }))
      expect(await refused(chain, { type: "delegate", owner: "d1", validator: "v0", amount: TOKEN, tier: 0 }))
        .toEqual(new StakingValidatorJailed({ pool: "v0", jailedUntil: s.jailedUntil }))
      const early = await refused(chain, { type: "unjail", operator: "v0" })
      expect(early).toBeInstanceOf(StakingJailNotExpired)
      expect(early).toMatchObject({ operator: "v0", jailedUntil: s.jailedUntil })

      const insured = await run(chain.pendingRewards("d0"))
      expect(insured.insurance).toBeGreaterThan(0n)
      expect(insured.insurance).toBeLessThanOrEqual(s.insurancePaid)
      await advance(cfg.downtimeJailDuration)
      const u = await ok(chain, { type: "unjail", operator: "v0" })
      expect(u).toMatchObject({ type: "unjail", operator: "v0", pool: "v0" })
      expect(u.weight).toBeGreaterThan(0n)
      const c = await ok(chain, { type: "claimRewards", owner: "d0" })
      expect(c.insurance).toBe(insured.insurance)
      await expectConserved(chain, "after unjail and claim")
    })
  })
}
