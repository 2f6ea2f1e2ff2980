/** Chain compliance, genesis and the token: what every account holds at the start, transfers and burns. */
import { afterEach, describe, expect, it } from "vitest"
import { econConfig } from "../../../core/econ/index.ts"
import { ACTOR_BALANCE, ACTORS, RESERVE } from "../../../core/econ/testkit.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../../core/units.ts"
import { type ChainSetup, expectConserved, ok, run } from "./harness.ts"

/** The token tests, each on a fresh chain from `common`. */
export const tokenTests = (common: ChainSetup): void => {
  describe("token", () => {
    afterEach(() => common.teardown())

    it("starts at genesis: the whole supply minted and held by the genesis accounts, nothing staked", async () => {
      const { chain, params } = await common.setup()
      const s = await run(chain.supply)
      expect(s).toEqual({ minted: TOTAL_SUPPLY, balances: TOTAL_SUPPLY, bonded: 0n, unbonding: 0n, rewardPool: 0n, insurancePool: 0n, burnt: 0n })
      for (const a of ACTORS) expect(await run(chain.balanceOf(a)), a).toBe(a === RESERVE ? TOTAL_SUPPLY - ACTOR_BALANCE * BigInt(ACTORS.length - 1) : ACTOR_BALANCE)
      expect(await run(chain.balanceOf("nobody-has-this-account"))).toBe(0n)
      expect(await run(chain.pools)).toEqual([])
      expect(await run(chain.positions())).toEqual([])
      expect(await run(chain.unbonding())).toEqual([])
      expect(await run(chain.pendingRewards("d0"))).toEqual({ rewards: 0n, commission: 0n, insurance: 0n, total: 0n })
      expect(econConfig(await run(chain.params))).toEqual(econConfig(params))
      await expectConserved(chain, "genesis")
    })

    it("transfer moves exactly the amount; burn destroys it", async () => {
      const { chain } = await common.setup()
      const r = await ok(chain, { type: "transfer", from: "d1", to: "d2", amount: 250n * TOKEN })
      expect(r).toEqual({ type: "transfer", from: "d1", to: "d2", amount: 250n * TOKEN })
      expect(await run(chain.balanceOf("d1"))).toBe(ACTOR_BALANCE - 250n * TOKEN)
      expect(await run(chain.balanceOf("d2"))).toBe(ACTOR_BALANCE + 250n * TOKEN)
      await expectConserved(chain, "after transfer")
      const b = await ok(chain, { type: "burn", from: "d2", amount: 50n * TOKEN })
      expect(b).toEqual({ type: "burn", from: "d2", burnt: 50n * TOKEN, totalBurnt: 50n * TOKEN })
      expect((await run(chain.supply)).burnt).toBe(50n * TOKEN)
      await expectConserved(chain, "after burn")
    })
  })
}
