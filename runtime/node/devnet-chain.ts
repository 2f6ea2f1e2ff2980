/**
 * The devnet's EVM chain: Hardhat's in-process chain (or a JSON-RPC node given by --rpc) with the
 * dai contracts deployed by the same code as `dai chain deploy`, and the genesis validators
 * registered on Staking with their genesis stake, tier and commission (each from its own key,
 * through the Chain port), so the chain's positions and governance see the validators the consensus
 * genesis has. Registering needs no role (anyone may register), so it runs after the deploy has
 * handed every role to Governance. The validators are the node operator set: they are the Treasury's
 * signers (M = ⌈2N/3⌉) and hold DOWNTIME_REPORTER_ROLE, the one trusted role left (see
 * contracts/deploy/roles.ts). Hardhat, the deploy script and ethers are imported only here, when a
 * devnet starts.
 */
import type { Provider, Signer } from "ethers"
import { Effect } from "effect"
import type { Deployment } from "../adapters/evm/deployment.ts"
import type { GenesisValidator } from "../core/app/app.ts"
import { toHex } from "../core/crypto.ts"
import type { Params } from "../core/params.ts"
import { TOKEN } from "../core/units.ts"

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

/** A genesis validator to register on the chain: its genesis entry, its token allocation and its key. */
export interface DevnetValidator extends GenesisValidator {
  /** Its genesis allocation (the stake and what it keeps spare), minted to its address. */
  readonly allocation: bigint
  /** Its signing key: it registers itself, with itself as the signing key, as the contract requires. */
  readonly privateKey: Uint8Array
}

/** Gas money each validator gets from the deployer (it sends its own staking and governance transactions). */
const VALIDATOR_GAS = 10n * TOKEN // 10 ETH (18 decimals as well)

/**
 * Register each validator on Staking from its own key, with the deployer paying its gas: it
 * approves and bonds exactly its genesis stake through the Chain port (the same code a node uses).
 */
const registerValidators = async (provider: Provider, deployer: Signer, deployment: Deployment, params: Params, validators: readonly DevnetValidator[]): Promise<void> => {
  if (validators.length === 0) return
  const { Wallet } = await import("ethers")
  const { makeEvmChain } = await import("../adapters/evm/chain.ts")
  for (const v of validators) await (await deployer.sendTransaction({ to: v.address, value: VALIDATOR_GAS })).wait()
  const wallets = new Map(validators.map((v) => [v.operator, new Wallet(toHex(v.privateKey), provider)]))
  const chain = makeEvmChain({
    provider, deployment, params,
    accounts: Object.fromEntries(validators.map((v) => [v.operator, v.address])),
    signerFor: (account) => wallets.get(account),
  })
  try {
    for (const v of validators) {
      const r = await Effect.runPromise(Effect.result(chain.submit({ type: "registerValidator", operator: v.operator, amount: v.amount, tier: v.tier, commission: v.commission })))
      if (r._tag === "Failure") throw new Error(`registering genesis validator ${v.operator} (${v.address}) on Staking: ${r.failure.message}`)
    }
  } finally {
    await chain.close()
  }
}

/** The devnet's token allocations: every validator its genesis allocation, the deployer's accounts the rest. */
const allocationsWith = (base: ReadonlyArray<{ readonly address: string; readonly amount: bigint }>, validators: readonly DevnetValidator[]) => {
  const [reserve, ...others] = base
  const given = validators.reduce((s, v) => s + v.allocation, 0n)
  if (reserve === undefined || reserve.amount <= given) throw new Error("the devnet's reserve account cannot fund the genesis validators' allocations")
  return [{ address: reserve.address, amount: reserve.amount - given }, ...others, ...validators.map((v) => ({ address: v.address, amount: v.allocation }))]
}

/** Start (or connect to) the chain and deploy the contracts for a consensus network of `consensusChainId`. */
export const startDevnetChain = async (options: {
  readonly rpc?: string | undefined
  readonly params: Params
  readonly consensusChainId: number
  readonly env?: NodeJS.ProcessEnv
  /** The genesis validators, registered on Staking after the deployment (default: none). */
  readonly validators?: readonly DevnetValidator[]
}): Promise<DevnetChain> => {
  const { defaultTreasury, deployContracts, devnetAllocations } = await import("../../contracts/deploy/deploy.ts")
  const validators = options.validators ?? []
  const deploy = async (deployer: Any, accounts: readonly string[], network: string, dryRun: boolean) => {
    // The operator set: the validators, else (no validator given) the chain's other accounts, else the deployer alone.
    const operators = validators.length > 0 ? validators.map((v) => v.address) : accounts.length > 1 ? accounts.slice(1) : accounts
    const deployment = await deployContracts({
      deployer, allocations: allocationsWith(devnetAllocations(accounts), validators), network, dryRun, params: options.params, consensusChainId: BigInt(options.consensusChainId),
      treasury: defaultTreasury(operators), downtimeReporters: operators,
    })
    await registerValidators(deployer.provider, deployer, deployment, options.params, validators)
    return deployment
  }

  if (options.rpc === undefined) {
    const { connectInProcess } = await import("../../contracts/deploy/build.ts")
    // The chain's clock starts now (the tests' fixed genesis date would put it years ahead): votes
    // end and unbonding matures on the chain when the nodes' wall clocks say so.
    const connection: Any = await connectInProcess({ override: { initialDate: new Date().toISOString() } })
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
