/**
 * The Chain suite's double-sign topic on the contracts (Hardhat's in-process chain): the same
 * assertions as on the simulated ledger (sim/adapters/chain-double-sign.test.ts), so a double sign
 * is slashed, and refused, alike on both backends.
 */
import { afterAll, beforeAll, describe } from "vitest"
import { doubleSignTests } from "../../services/compliance/chain/double-sign.ts"
import { testSetup } from "../../services/compliance/test-setup.ts"
import { evmWorld, type EvmWorld } from "./test-harness.ts"

let world: EvmWorld
beforeAll(async () => {
  world = await evmWorld()
}, 120_000)
afterAll(async () => {
  await world?.close()
})

describe("Chain compliance: EVM contracts on Hardhat's in-process chain", () => {
  doubleSignTests(testSetup(async (_, cleanup) => {
    await world.reset()
    const chain = world.chain()
    cleanup(() => chain.close())
    return { chain, params: world.params, advance: world.advance, consensusChainId: BigInt(world.deployment.consensusChainId) }
  }))
})
