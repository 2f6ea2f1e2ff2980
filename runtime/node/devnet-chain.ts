/**
 * The devnet's EVM chain: Hardhat's in-process chain (or a JSON-RPC node given by --rpc) with the
 * dai contracts deployed by the same code as `dai chain deploy`. Hardhat, the deploy script and
 * ethers are imported only here, when a devnet starts.
 */
import type { Provider } from "ethers"
import type { Deployment } from "../adapters/evm/deployment.ts"
import type { Params } from "../core/params.ts"

/** Environment variable with the deployer's private key for --rpc (else the node's first unlocked account). */
export const DEVNET_DEPLOYER_KEY_ENV = "DAI_DEPLOYER_KEY"

export interface DevnetChain {
  readonly provider: Provider
  readonly deployment: Deployment
  /** Where it runs: "in-process" or the RPC URL. */
  readonly network: string
  close(): Promise<void>
}

type Any = any // hardhat-ethers / ethers objects, imported lazily

/** Start (or connect to) the chain and deploy the contracts for a consensus network of `consensusChainId`. */
export const startDevnetChain = async (options: {
  readonly rpc?: string | undefined
  readonly params: Params
  readonly consensusChainId: number
  readonly env?: NodeJS.ProcessEnv
}): Promise<DevnetChain> => {
  const { deployContracts, devnetAllocations } = await import("../../contracts/deploy/deploy.ts")
  const deploy = async (deployer: Any, accounts: readonly string[], network: string, dryRun: boolean) =>
    deployContracts({ deployer, allocations: devnetAllocations(accounts), network, dryRun, params: options.params, consensusChainId: BigInt(options.consensusChainId) })

  if (options.rpc === undefined) {
    const { connectChain } = await import("../../contracts/test/chain.ts")
    const connection: Any = await connectChain()
    try {
      const signers: Any[] = await connection.ethers.getSigners()
      const accounts: string[] = await Promise.all(signers.slice(0, 10).map((s) => s.getAddress()))
      const deployment = await deploy(signers[0], accounts, "in-process", true)
      return { provider: connection.ethers.provider, deployment, network: "in-process", close: () => connection.close() }
    } catch (e) {
      await connection.close()
      throw e
    }
  }
  const { JsonRpcProvider, Wallet } = await import("ethers")
  const provider = new JsonRpcProvider(options.rpc, undefined, { pollingInterval: 250 })
  try {
    const key = (options.env ?? process.env)[DEVNET_DEPLOYER_KEY_ENV]
    let deployer: Any
    let accounts: string[]
    if (key !== undefined && key !== "") {
      deployer = new Wallet(key, provider)
      accounts = [await deployer.getAddress()]
    } else {
      accounts = ((await provider.send("eth_accounts", [])) as string[]).slice(0, 10)
      if (accounts.length === 0) throw new Error(`the node at ${options.rpc} has no unlocked account to deploy from; set ${DEVNET_DEPLOYER_KEY_ENV}`)
      deployer = await provider.getSigner(accounts[0])
    }
    const deployment = await deploy(deployer, accounts, options.rpc, false)
    return { provider, deployment, network: options.rpc, close: async () => provider.destroy() }
  } catch (e) {
    provider.destroy()
    throw e
  }
}
