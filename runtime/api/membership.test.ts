/**
 * Joining over HTTP, on the contracts: a validator node's API (real libp2p, sqlite, keys, HTTP on
 * 127.0.0.1) whose Chain port is the EVM adapter over the contracts on Hardhat's in-process chain,
 * where its account "v0" holds tokens but is not registered. POST /validators registers it on
 * Staking with the node's consensus key as the signing key; a second registration is a 409; a
 * trainer bond under the minimum is a 422 naming it and changes nothing; POST
 * /proposals/{id}/execute of an unknown proposal is a 404; GET /params reads the chain's parameters.
 */
import { Contract } from "ethers"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { evmWorld, type EvmWorld } from "../adapters/evm/test-harness.ts"
import type { EvmChain } from "../adapters/evm/chain.ts"
import { TOKEN } from "../core/units.ts"
import { governanceOverChain } from "./governance-port.ts"
import { httpRequest, startTestNode, TEST_TOKEN, type TestNode } from "./test-node.ts"

let world: EvmWorld
let chain: EvmChain
let t: TestNode
const post = (path: string, body: unknown) =>
  httpRequest(t.server.url, { method: "POST", path, headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) })

beforeAll(async () => {
  world = await evmWorld()
  chain = world.chain()
  t = await startTestNode({ governance: () => governanceOverChain(chain) })
}, 120_000)
afterAll(async () => {
  await t?.close()
  await chain?.close()
  await world?.close()
})

describe("membership over HTTP on the contracts", () => {
  it("POST /validators registers the node's account with its consensus key; a second time is a 409", async () => {
    const r = await post("/validators", { amount: (2_000n * TOKEN).toString(), tier: 30, commission: (TOKEN / 20n).toString() })
    expect(r.status, r.text).toBe(200)
    const address = t.node.consensus.address
    expect(r.json).toMatchObject({ operator: "v0", signingKey: address, amount: (2_000n * TOKEN).toString(), tier: 30, commission: (TOKEN / 20n).toString() })
    const staking = new Contract(world.deployment.contracts.Staking, ["function signingKeyOf(address) view returns (address)"], world.ethers.provider)
    expect(((await staking.getFunction("signingKeyOf").staticCall(world.accounts["v0"])) as string).toLowerCase()).toBe(address.toLowerCase())
    expect((await Effect.runPromise(chain.pools)).map((p) => p.operator)).toContain("v0")

    const again = await post("/validators", { amount: (2_000n * TOKEN).toString() })
    expect(again.status).toBe(409)
    expect(again.json).toMatchObject({ error: expect.stringMatching(/^StakingValidatorExists: registering v0 as a validator refused/) })
  })

  it("POST /trainers under the minimum is a 422 naming it, and changes nothing; a bond the chain takes is a position", async () => {
    const before = await Effect.runPromise(chain.positions("v0"))
    const small = await post("/trainers", { amount: (50n * TOKEN).toString() })
    expect(small.status).toBe(422)
    expect(small.json).toMatchObject({ error: expect.stringMatching(/below the minimum of 100 tokens \(staking\.minContributorBond\)/) })
    expect(await Effect.runPromise(chain.positions("v0"))).toEqual(before)
    const ok = await post("/trainers", { amount: (150n * TOKEN).toString() })
    expect(ok.status, ok.text).toBe(200)
    expect(ok.json).toMatchObject({ owner: "v0", pool: "contrib:v0", amount: (150n * TOKEN).toString(), tier: 0 })
    expect(await Effect.runPromise(chain.positions("v0"))).toHaveLength(before.length + 1)
  })

  it("POST /proposals/{id}/execute of an unknown proposal is a 404 naming it; GET /params reads the chain", async () => {
    const r = await post("/proposals/5/execute", {})
    expect(r.status).toBe(404)
    expect(r.json).toEqual({ error: "GovernanceUnknownProposal: proposal 5 does not exist on the chain" })
    const params = (await httpRequest(t.server.url, { path: "/params" })).json as { chain: Record<string, unknown> }
    expect(params.chain["governance.votingPeriod"]).toBe(world.params["governance.votingPeriod"])
  })
})
