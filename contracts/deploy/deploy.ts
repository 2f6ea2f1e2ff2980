/**
 * Deploy the whole system and hand every role to Governance, from one deployer signer (ethers v6):
 *
 *   DAIToken (genesis allocations; the "treasury" one to the Treasury's address and the "reserve" one
 *   to the Committee's, both known in advance) → Treasury (M-of-N named signers) → Constitution
 *   (bounds and values generated from the registry: constitution-table.ts) → Staking (the registry's
 *   economic parameters, ms → s, within the Constitution's bounds) → Committee (snapshots, epoch
 *   reports, fee deposits; holds the reward reserve) → Governance → ContributionRegistry (admin: Governance)
 *   → ComputeMarket (bonds and job escrows; fees to Staking; parameters from the Constitution)
 *   then: Staking COMMITTEE_ROLE → the Committee; PARAMS_ROLE and DEFAULT_ADMIN_ROLE → Governance; the
 *   ComputeMarket's COMMITTEE_ROLE (disputes; verdicts need 2/3 of a Committee snapshot's signatures, checked by the
 *   Committee it is built over) → the Committee and its DEFAULT_ADMIN_ROLE → Governance;
 *   the deployer renounces its admin roles; Constitution, Treasury and token governance → Governance.
 *
 * The deployer keeps nothing and no account holds a role: downtime and rewards settle through epoch
 * reports signed by 2/3 of the voting power and verified by the Committee; every later change of a
 * role (a scorer, the guardian) is a Governance proposal, voted and timelocked. The roles are then
 * read back from the chain (roles.ts) into the `Deployment`, and a role left with the deployer fails
 * the deploy.
 * Bytecode comes from Hardhat's artifacts, built first (incremental) so they match the sources.
 */
import { readFile } from "node:fs/promises"
import { ContractFactory, getAddress, getCreateAddress, isAddress, ZeroAddress, type Signer, type TransactionReceipt } from "ethers"
import { keccak256, toHex, utf8ToBytes } from "../../runtime/core/crypto.ts"
import type { Params } from "../../runtime/core/params.ts"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../runtime/core/units.ts"
import { REWARD_RESERVE_ACCOUNT, REWARD_RESERVE_TOKENS } from "../../runtime/core/app/genesis.ts"
import { DEPLOYMENT_FORMAT, paramRegistryHash, type ContractName, type Deployment } from "../../runtime/adapters/evm/deployment.ts"
import { encodeStakingParams } from "../../runtime/adapters/evm/staking-params.ts"
import { ensureBuilt } from "./build.ts"
import { constitutionArgs, constitutionTable } from "./constitution-table.ts"
import { PRODUCTION_CONSTITUTION, type ConstitutionProfile } from "./constitution-profile.ts"
import { readRoles, rolesHeldByAccounts } from "./roles.ts"

type Any = any // ethers contracts without typechain

export interface Allocation {
  /** A 0x address, or TREASURY_ALLOCATION for the Treasury contract (its address is known only at deploy). */
  readonly address: string
  readonly amount: bigint
}

/** The allocation address that stands for the Treasury contract. */
export const TREASURY_ALLOCATION = "treasury"

/** The allocation address that stands for the Committee contract, which holds the reward reserve (the TS genesis's "reserve" account). */
export const RESERVE_ALLOCATION = REWARD_RESERVE_ACCOUNT

/**
 * The community share of the genesis, minted to the Treasury (spent by governance or its M-of-N
 * signers): 40 % of the supply, the share the TypeScript genesis gives its `community` account.
 */
export const COMMUNITY_SHARE = 400_000_000n * TOKEN

/** A Treasury multisig: M of N distinct named signers. */
export interface TreasuryConfig {
  readonly signers: readonly string[]
  readonly threshold: number
}

export interface DeployConfig {
  /** Sends every deployment transaction (connected to the target chain). */
  readonly deployer: Signer
  /** Genesis: distinct addresses, positive amounts summing to exactly TOTAL_SUPPLY. */
  readonly allocations: ReadonlyArray<Allocation>
  /** Where it went, for the file: "in-process" or the RPC URL. */
  readonly network: string
  /** True for a throw-away in-process chain. */
  readonly dryRun: boolean
  /** Parameters installed in Staking and the Constitution (default: the registry's defaults). */
  readonly params?: Params
  /** Consensus chain id whose signed votes are double-sign evidence (default DEFAULT_CONSENSUS_CHAIN_ID). */
  readonly consensusChainId?: bigint
  /** The token's emergency pauser and when its power ends (unix s, ≤ 180 days on). Default: none. */
  readonly guardian?: { readonly address: string; readonly expiry: number }
  /** The Treasury's M-of-N signers (named: see `treasuryProblem`; `defaultTreasury` for M = ⌈2N/3⌉). */
  readonly treasury: TreasuryConfig
  /** Contribution-score epochs in seconds (default: consensus.epochLength blocks of ~timeoutCommit, half for commits). */
  readonly contributionSchedule?: { readonly epochLength: number; readonly commitWindow: number }
  /** The constitution installed (default production: the registry's bounds); `devnet` lowers the governance periods' floors (constitution-profile.ts). */
  readonly constitution?: ConstitutionProfile
}

/**
 * The consensus chain id a deployment accepts votes of when the caller names none: the chain id of a
 * network made by `dai node init` without a genesis and of the devnet, so that `dai chain deploy`'s
 * contracts take those networks' signed votes as double-sign evidence.
 */
export const DEFAULT_CONSENSUS_CHAIN_ID = 7n

const ARTIFACTS = new URL("../../artifacts/contracts/", import.meta.url)

/** ABI and bytecode of a compiled contract. */
export const loadArtifact = async (name: ContractName): Promise<{ abi: unknown[]; bytecode: string }> => {
  const path = new URL(`${name}.sol/${name}.json`, ARTIFACTS)
  const json = JSON.parse(await readFile(path, "utf8")) as { abi: unknown[]; bytecode: string }
  return { abi: json.abi, bytecode: json.bytecode }
}

/**
 * Every account but the first gets `each` (default 1,000,000 tokens), the Treasury the community
 * share, the Committee the reward reserve (REWARD_RESERVE_TOKENS, 30 %), the first account the rest.
 */
export const devnetAllocations = (accounts: readonly string[], each: bigint = 1_000_000n * TOKEN): Allocation[] => {
  const [first, ...others] = accounts
  if (first === undefined) throw new Error("devnetAllocations: no accounts")
  return [
    { address: first, amount: TOTAL_SUPPLY - COMMUNITY_SHARE - REWARD_RESERVE_TOKENS - each * BigInt(others.length) },
    ...others.map((address) => ({ address, amount: each })),
    { address: TREASURY_ALLOCATION, amount: COMMUNITY_SHARE },
    { address: RESERVE_ALLOCATION, amount: REWARD_RESERVE_TOKENS },
  ]
}

/** The multisig of `signers` with M = ⌈2N/3⌉ (the devnet's: its validators). */
export const defaultTreasury = (signers: readonly string[]): TreasuryConfig => ({ signers, threshold: Math.ceil((2 * signers.length) / 3) })

/** Why a Treasury multisig is refused (undefined: it is valid): M ≥ 1, M ≤ N, distinct 0x addresses, none zero. */
export const treasuryProblem = (t: TreasuryConfig): string | undefined => {
  if (t.signers.length === 0) return "the Treasury needs at least one signer"
  for (const a of t.signers) if (!isAddress(a) || getAddress(a) === ZeroAddress) return `signer "${a}" is not a non-zero 0x address`
  if (new Set(t.signers.map((a) => getAddress(a))).size !== t.signers.length) return "a signer is named twice"
  if (!Number.isSafeInteger(t.threshold) || t.threshold < 1) return `threshold ${t.threshold} must be a whole number >= 1`
  if (t.threshold > t.signers.length) return `threshold ${t.threshold} exceeds the ${t.signers.length} signer(s)`
  return undefined
}

/** keccak256 of the Constitution table installed (name, key, bounds, value per row). */
export const constitutionHash = (params: Params, constitution: ConstitutionProfile = PRODUCTION_CONSTITUTION): string =>
  toHex(keccak256(utf8ToBytes(JSON.stringify(constitutionTable(params, constitution).map((r) => [r.name, r.key, String(r.min), String(r.max), String(r.value)])))))

/** Contribution-score epochs: consensus.epochLength blocks at ~one block per timeoutCommit (≥ 1 s), half of it for commits. */
export const defaultSchedule = (p: Params): { epochLength: number; commitWindow: number } => {
  const epochLength = Math.max(2, p["consensus.epochLength"] * Math.max(1, Math.ceil(p["consensus.timeoutCommit"] / 1000)))
  return { epochLength, commitWindow: Math.floor(epochLength / 2) }
}

/** Deploy and wire everything; returns the deployment record (the caller writes it). */
export const deployContracts = async (config: DeployConfig): Promise<Deployment> => {
  await ensureBuilt()
  const params = config.params ?? DEFAULT_PARAMS
  const deployer = config.deployer
  const provider = deployer.provider
  if (provider === null) throw new Error("deployContracts: the deployer signer has no provider")
  const from = getAddress(await deployer.getAddress())
  const consensusChainId = config.consensusChainId ?? DEFAULT_CONSENSUS_CHAIN_ID
  const problem = treasuryProblem(config.treasury)
  if (problem !== undefined) throw new Error(`deployContracts: ${problem}`)
  const treasurySigners = config.treasury.signers.map((a) => getAddress(a))
  const threshold = config.treasury.threshold
  const guardian = config.guardian === undefined ? ZeroAddress : getAddress(config.guardian.address)
  const guardianExpiry = config.guardian?.expiry ?? 0
  const schedule = config.contributionSchedule ?? defaultSchedule(params)

  let firstBlock: number | undefined
  const note = (r: TransactionReceipt | null) => {
    if (r !== null && firstBlock === undefined) firstBlock = r.blockNumber
  }
  // Explicit nonces: the Treasury's address is computed before the token mints its share to it.
  let nonce = await provider.getTransactionCount(from, "pending")
  const deploy = async (name: ContractName, args: unknown[]): Promise<Any> => {
    const { abi, bytecode } = await loadArtifact(name)
    const c: Any = await new ContractFactory(abi as never, bytecode, deployer).deploy(...args, { nonce: nonce++ })
    note(await c.deploymentTransaction().wait())
    return c
  }
  const send = async (call: (overrides: { nonce: number }) => Promise<Any>) => note(await (await call({ nonce: nonce++ })).wait())

  // The token first, then the Treasury, the Constitution, Staking and the Committee.
  const treasuryPredicted = getCreateAddress({ from, nonce: nonce + 1 })
  const committeePredicted = getCreateAddress({ from, nonce: nonce + 4 })
  const placeOf = (a: string) => (a === TREASURY_ALLOCATION ? treasuryPredicted : a === RESERVE_ALLOCATION ? committeePredicted : getAddress(a))
  const allocations = config.allocations.map((a) => ({ address: placeOf(a.address), amount: a.amount }))
  const funded = allocations.filter((a) => a.address === treasuryPredicted).reduce((s, a) => s + a.amount, 0n)
  const rewardReserve = allocations.filter((a) => a.address === committeePredicted).reduce((s, a) => s + a.amount, 0n)
  const token = await deploy("DAIToken", [allocations.map((a) => a.address), allocations.map((a) => a.amount), guardian, guardianExpiry, from])
  const tokenAt = await token.getAddress()
  const treasury = await deploy("Treasury", [tokenAt, treasurySigners, threshold])
  if (getAddress(await treasury.getAddress()) !== treasuryPredicted) {
    throw new Error(`deployContracts: the Treasury landed at ${await treasury.getAddress()}, not ${treasuryPredicted}: another transaction from ${from} interleaved; deploy again`)
  }
  const constitution = await deploy("Constitution", constitutionArgs(from, params, config.constitution))
  const staking = await deploy("Staking", [tokenAt, encodeStakingParams(params), consensusChainId, await constitution.getAddress(), from])
  const committee = await deploy("Committee", [await staking.getAddress(), await constitution.getAddress()])
  if (getAddress(await committee.getAddress()) !== committeePredicted) {
    throw new Error(`deployContracts: the Committee landed at ${await committee.getAddress()}, not ${committeePredicted}: another transaction from ${from} interleaved; deploy again`)
  }
  const governance = await deploy("Governance", [await constitution.getAddress(), await staking.getAddress(), await treasury.getAddress(), params["governance.quadratic"]])
  const governanceAt = getAddress(await governance.getAddress())
  const latest = await provider.getBlock("latest")
  const genesis = latest?.timestamp ?? Math.floor(Date.now() / 1000)
  const registry = await deploy("ContributionRegistry", [genesis, schedule.epochLength, schedule.commitWindow, governanceAt])
  const market = await deploy("ComputeMarket", [await staking.getAddress(), await constitution.getAddress(), committeePredicted, from])

  const admin: string = await staking.DEFAULT_ADMIN_ROLE()
  const paramsRole: string = await staking.PARAMS_ROLE()
  const committeeRole: string = await staking.COMMITTEE_ROLE()
  await send((o) => staking.grantRole(committeeRole, committeePredicted, o))
  await send((o) => staking.grantRole(paramsRole, governanceAt, o))
  await send((o) => staking.grantRole(admin, governanceAt, o))
  await send((o) => staking.renounceRole(admin, from, o))
  const marketCommittee: string = await market.COMMITTEE_ROLE()
  await send((o) => market.grantRole(marketCommittee, committeePredicted, o))
  await send((o) => market.grantRole(admin, governanceAt, o))
  await send((o) => market.renounceRole(admin, from, o))
  await send((o) => constitution.transferGovernance(governanceAt, o))
  await send((o) => treasury.setGovernance(governanceAt, o))
  await send((o) => token.transferGovernance(governanceAt, o))

  const last = await provider.getBlock("latest")
  const network = await provider.getNetwork()
  const at = async (c: Any) => getAddress(await c.getAddress())
  const contracts = {
    DAIToken: await at(token), Staking: await at(staking), Constitution: await at(constitution), Governance: governanceAt,
    Treasury: await at(treasury), ContributionRegistry: await at(registry), Committee: committeePredicted, ComputeMarket: await at(market),
  }
  const holders = await readRoles(provider, { contracts, deploymentBlock: firstBlock ?? 0 })
  // The deployer must keep nothing it was not named for (the guardian).
  const kept = rolesHeldByAccounts(holders).filter((h) => h.holder === from && !(h.contract === "DAIToken" && h.role === "guardian"))
  if (kept.length > 0) throw new Error(`deployContracts: the deployer still holds ${kept.map((h) => `${h.contract}.${h.role}`).join(", ")}`)
  return {
    format: DEPLOYMENT_FORMAT,
    chainId: network.chainId.toString(),
    network: config.network,
    dryRun: config.dryRun,
    deployer: from,
    deploymentBlock: firstBlock ?? 0,
    deployedAt: last?.timestamp ?? genesis,
    contracts,
    paramRegistryHash: paramRegistryHash(),
    constitutionHash: constitutionHash(params, config.constitution),
    consensusChainId: consensusChainId.toString(),
    roles: { governance: governanceAt, guardian, guardianExpiry, holders },
    treasury: { signers: treasurySigners, threshold, funded: funded.toString() },
    committee: { rewardReserve: rewardReserve.toString() },
    contributionRegistry: { genesis, epochLength: schedule.epochLength, commitWindow: schedule.commitWindow },
    genesis: allocations.map((a) => ({ address: a.address, amount: a.amount.toString() })),
  }
}
