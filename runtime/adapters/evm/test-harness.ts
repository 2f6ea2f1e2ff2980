/**
 * Test support: the whole system deployed by `deployContracts` on Hardhat's in-process chain, with
 * testkit's genesis (actors v0..v2, c0, c1, d0..d2, reserve = Hardhat signers 1..9; "admin" =
 * signer 0, the deployer, which keeps no role; "reporter" = signer 10, an account with no role that
 * executes proposals; the Treasury 2 of signers 11..13), reset between tests with evm_snapshot/evm_revert.
 */
import type { Signer } from "ethers"
import { deployContracts } from "../../../contracts/deploy/deploy.ts"
import { connectInProcess } from "../../../contracts/deploy/build.ts"
import { ACTORS, testAllocations } from "../../core/econ/testkit.ts"
import { DEFAULT_PARAMS, type Params } from "../../core/params.ts"
import type { Deployment } from "./deployment.ts"
import { makeEvmChain, type EvmChain, type EvmChainOptions } from "./chain.ts"

type Any = any // hardhat-ethers

export interface EvmWorld {
  readonly ethers: Any
  readonly deployment: Deployment
  readonly params: Params
  /** Account id → address (the actors, "admin" and "reporter"). */
  readonly accounts: Readonly<Record<string, string>>
  readonly signers: Readonly<Record<string, Signer>>
  /** Back to the state right after deployment. */
  reset(): Promise<void>
  /** An adapter over the deployment (fresh: its log scan starts from the deployment block). */
  chain(extra?: Partial<EvmChainOptions>): EvmChain
  /** evm_increaseTime by ⌈ms / 1000⌉ s, then mine a block. */
  advance(ms: number): Promise<void>
  close(): Promise<void>
}

export const evmWorld = async (params: Params = DEFAULT_PARAMS): Promise<EvmWorld> => {
  const connection: Any = await connectInProcess()
  const ethers = connection.ethers
  const all: Signer[] = await ethers.getSigners()
  const signers: Record<string, Signer> = { admin: all[0]! }
  ACTORS.forEach((a, i) => {
    signers[a] = all[i + 1]!
  })
  signers.reporter = all[ACTORS.length + 1]!
  const accounts: Record<string, string> = {}
  for (const [id, s] of Object.entries(signers)) accounts[id] = await s.getAddress()
  const deployment = await deployContracts({
    deployer: signers.admin!,
    allocations: testAllocations().map((a) => ({ address: accounts[a.address]!, amount: a.amount })),
    network: "in-process",
    dryRun: true,
    params,
    treasury: { signers: await Promise.all(all.slice(ACTORS.length + 2, ACTORS.length + 5).map((s) => s.getAddress())), threshold: 2 },
  })
  let snapshot: string = await ethers.provider.send("evm_snapshot", [])
  return {
    ethers, deployment, params, accounts, signers,
    reset: async () => {
      await ethers.provider.send("evm_revert", [snapshot])
      snapshot = await ethers.provider.send("evm_snapshot", [])
    },
    chain: (extra = {}) =>
      makeEvmChain({ provider: ethers.provider, deployment, accounts, signerFor: (id) => signers[id], reporter: "reporter", params, ...extra }),
    advance: async (ms) => {
      await ethers.provider.send("evm_increaseTime", [Math.ceil(ms / 1000)])
      await ethers.provider.send("evm_mine", [])
    },
    close: async () => connection.close(),
  }
}
