/**
 * The devnet's EVM chain: Hardhat's in-process chain (or a JSON-RPC node given by --rpc) with the
 * dai contracts deployed by the same code as `dai chain deploy`, and the genesis validators
 * registered on Staking with their genesis stake, tier and commission (each from its own key,
 * through the Chain port), each a fee deposit on the Committee, then the Committee's snapshot 1
 * taken: the set that governs the consensus genesis's first epoch, so the chain's positions,
 * governance and committee see the validators the consensus genesis has. Registering needs no role (anyone may register), so it runs after the deploy has
 * handed every role to Governance (and Staking's COMMITTEE_ROLE to the Committee contract). The
 * validators are the Treasury's signers (M = ⌈2N/3⌉); no account holds a role (see
 * contracts/deploy/roles.ts). The Constitution is the devnet's (contracts/deploy/constitution-profile.ts):
 * production's bounds but for the governance periods, whose floors are seconds, so that a proposal
 * executes within a session. Hardhat, the deploy script and ethers are imported only here, when a
 * devnet starts.
 */
import type { Provider, Signer } from "ethers"
import { Effect } from "effect"
import type { ConstitutionProfile } from "../../contracts/deploy/constitution-profile.ts"
import type { Deployment } from "../adapters/evm/deployment.ts"
import { GENESIS_SNAPSHOT, type GenesisValidator } from "../core/app/app.ts"
import { toHex } from "../core/crypto.ts"
import type { Params } from "../core/params.ts"
import { REWARD_RESERVE_ACCOUNT } from "../core/app/genesis.ts"
import { TOKEN } from "../core/units.ts"
import { registerGenesisValidator } from "./genesis-registration.ts"

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
    // Each registers as a node does at its first start on a hand-made network (genesis-registration.ts):
    // fee custody is the Committee's, so each gets a fee deposit from what its bond leaves.
    for (const v of validators) await Effect.runPromise(registerGenesisValidator(chain, v, v.allocation - v.amount))
    // The Committee's snapshot 1, the set of the consensus genesis (GENESIS_SNAPSHOT): taken once every genesis validator is registered.
    const s = await Effect.runPromise(Effect.result(chain.snapshot(validators[0]!.operator)))
    if (s._tag === "Failure") throw new Error(`the genesis snapshot on the Committee: ${s.failure.message}`)
    if (s.success.id !== GENESIS_SNAPSHOT) throw new Error(`the genesis snapshot on the Committee is ${s.success.id}, not ${GENESIS_SNAPSHOT}: the Committee was used before the genesis validators registered; deploy again`)
  } finally {
    await chain.close()
  }
}

/**
 * The devnet's token allocations: every validator its genesis allocation, paid by the deployer's
 * first account and, past what it holds, by the Committee's reward reserve (REWARD_RESERVE_ACCOUNT):
 * the consensus genesis gives its validators a large stake, and the chain's supply is fixed with
 * the Treasury's community share and the reserve in it. Each payer keeps at least one token.
 */
const allocationsWith = (base: ReadonlyArray<{ readonly address: string; readonly amount: bigint }>, validators: readonly DevnetValidator[]) => {
  let short = validators.reduce((s, v) => s + v.allocation, 0n)
  const out = base.map((a) => ({ ...a }))
  for (const payer of [out[0], out.find((a) => a.address === REWARD_RESERVE_ACCOUNT)]) {
    if (payer === undefined || short === 0n) continue
    const paid = payer.amount - TOKEN < short ? payer.amount - TOKEN : short
    if (paid <= 0n) continue
    payer.amount -= paid
    short -= paid
  }
  if (short > 0n) throw new Error("the devnet's reserve accounts cannot fund the genesis validators' allocations")
  return [...out, ...validators.map((v) => ({ address: v.address, amount: v.allocation }))]
}

/** Start (or connect to) the chain and deploy the contracts for a consensus network of `consensusChainId`. */
export const startDevnetChain = async (options: {
  readonly rpc?: string | undefined
  readonly params: Params
  readonly consensusChainId: number
  readonly env?: NodeJS.ProcessEnv
  /** The genesis validators, registered on Staking after the deployment (default: none). */
  readonly validators?: readonly DevnetValidator[]
  /** The constitution installed (default: the devnet's, whose governance periods may be seconds: constitution-profile.ts). */
  readonly constitution?: ConstitutionProfile
  /**
   * A resumed devnet's contracts on the --rpc node: used as they are (nothing deployed or
   * registered), once the node is seen to still hold them. Hardhat's in-process chain cannot take
   * one: EDR cannot dump or load its state, so it is new at every start.
   */
  readonly deployed?: Deployment
}): Promise<DevnetChain> => {
  const { defaultTreasury, deployContracts, devnetAllocations } = await import("../../contracts/deploy/deploy.ts")
  const constitution = options.constitution ?? (await import("../../contracts/deploy/constitution-profile.ts")).DEVNET_CONSTITUTION
  const validators = options.validators ?? []
  const deploy = async (deployer: Any, accounts: readonly string[], network: string, dryRun: boolean) => {
    // The operator set: the validators, else (no validator given) the chain's other accounts, else the deployer alone.
    const operators = validators.length > 0 ? validators.map((v) => v.address) : accounts.length > 1 ? accounts.slice(1) : accounts
    const deployment = await deployContracts({
      deployer, allocations: allocationsWith(devnetAllocations(accounts), validators), network, dryRun, params: options.params, consensusChainId: BigInt(options.consensusChainId),
      treasury: defaultTreasury(operators), constitution,
    })
    await registerValidators(deployer.provider, deployer, deployment, options.params, validators)
    return deployment
  }

  if (options.rpc === undefined) {
    if (options.deployed !== undefined) throw new Error("Hardhat's in-process chain keeps no state between runs: it cannot resume a deployment")
    const { connectInProcess } = await import("../../contracts/deploy/build.ts")
    // The chain's clock starts now (the tests' fixed genesis date would put it years ahead): votes
    // end and unbonding matures on the chain when the nodes' wall clocks say so.
    const connection: Any = await connectInProcess({ override: { initialDate: new Date().toISOString() } })
    try {
      // The chain's clock starts when Hardhat is created, seconds after that date was taken (loading
      // it): move it up to the wall clock, so a vote ends on the chain when the nodes' clocks say so.
      const pending = await connection.ethers.provider.send("eth_getBlockByNumber", ["pending", false])
      const lag = Math.floor(Date.now() / 1000) - Number(BigInt(pending.timestamp))
      if (lag > 0) await connection.ethers.provider.send("evm_increaseTime", [lag])
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
  const provider = new JsonRpcProvider(options.rpc, undefined, { pollingInterval: 250, cacheTimeout: -1 })
  try {
    if (options.deployed !== undefined) {
      const staking = options.deployed.contracts.Staking
      if ((await provider.getCode(staking)) === "0x") {
        throw new Error(`the chain at ${options.rpc} holds no contract at the devnet's Staking address ${staking}: it is not the chain this devnet deployed to (restarted without its state?); start a fresh --dir`)
      }
      return { provider, deployment: options.deployed, network: options.rpc, close: async () => provider.destroy() }
    }
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
