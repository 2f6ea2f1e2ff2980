import { Effect } from "effect"
import { expect, it } from "vitest"
import { testEconomy } from "../../runtime/core/econ/testkit.ts"
import { DEFAULT_PARAMS, type Params } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { chainSuite } from "../../runtime/services/compliance/chain/index.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { Chain } from "../../runtime/services/chain.ts"
import { layerSimChain, makeSimChain } from "./chain.ts"

/** The suite on a simulated chain with `params` (the defaults: linear votes; and quadratic votes). */
const simulated = (params: Params) =>
  testSetup(async () => {
    // The run's clock: ops apply at `now`, and `advance` moves it (as the simulator's scheduler does).
    let now = 0
    return {
      chain: makeSimChain(testEconomy(params, 0), () => now),
      params,
      advance: async (ms: number) => {
        now += ms
      },
    }
  })
chainSuite("simulated", simulated(DEFAULT_PARAMS))
chainSuite("simulated, quadratic votes", simulated({ ...DEFAULT_PARAMS, "governance.quadratic": true }))

it("the simulated chain is provided as a layer and reads the clock it was given", async () => {
  let now = 5_000
  const economy = testEconomy(DEFAULT_PARAMS, 0)
  const program = Effect.gen(function* () {
    const chain = yield* Chain
    const r = yield* chain.submit({ type: "delegate", owner: "d0", validator: "v0", amount: TOKEN, tier: 0 }).pipe(Effect.flip)
    const v = yield* chain.submit({ type: "registerValidator", operator: "v0", amount: 1_000n * TOKEN, tier: 30, commission: 0n })
    return { r, v }
  })
  const { r, v } = await Effect.runPromise(program.pipe(Effect.provide(layerSimChain(economy, () => now))))
  expect(r._tag).toBe("StakingUnknownPool")
  expect(v.unlockAt).toBe(5_000 + 30 * 86_400_000)
  expect(economy.now).toBe(5_000)
  now = 4_000 // time never runs backwards in the ledger
  const back = await Effect.runPromise(Effect.flip(makeSimChain(economy, () => now).submit({ type: "withdraw", owner: "d0" })))
  expect(back._tag).toBe("LedgerTimeWentBackwards")
})
