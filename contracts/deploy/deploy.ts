/**
 * Deploy the whole system and wire its roles, from one deployer signer (ethers v6):
 *
 *   DAIToken (genesis allocations) → Staking (the registry's economic parameters, ms → s)
 *   → Constitution (bounds and values generated from the registry: constitution-table.ts)
 *   → Treasury (M-of-N signers) → Governance → ContributionRegistry
 *   then: Staking PARAMS_ROLE → Governance; Staking DOWNTIME_REPORTER_ROLE → the reporter;
 *   Constitution, Treasury and token governance → Governance.
 *
 * The deployer keeps DEFAULT_ADMIN_ROLE of Staking and ContributionRegistry (it grants the
 * operational roles — a reporter, the scorers — on a devnet; Governance cannot call grantRole, so
 * handing it the admin role would freeze the roles). Everything is recorded in the `Deployment`.
 * Bytecode comes from Hardhat's artifacts, built first (incremental) so they match the sources.
 */
import { readFile } from "node:fs/promises"
import { ContractFactory, getAddress, ZeroAddress, type Signer, type TransactionReceipt } from "ethers"
import { keccak256, toHex, utf8ToBytes } from "../../runtime/core/crypto.ts"
import type { Params } from "../../runtime/core/params.ts"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../runtime/core/units.ts"
import { DEPLOYMENT_FORMAT, paramRegistryHash, type ContractName, type Deployment } from "../../runtime/adapters/evm/deployment.ts"
import { encodeStakingParams } from "../../runtime/adapters/evm/staking-params.ts"
import { ensureBuilt } from "./build.ts"
import { constitutionArgs, constitutionTable } from "./constitution-table.ts"

type Any = any // ethers contracts without typechain

export interface Allocation {
  readonly address: string
  readonly amount: bigint
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
  /** Holder of DOWNTIME_REPORTER_ROLE (default: the deployer, standing in for the operator multisig). */
  readonly downtimeReporter?: string
  /** The token's emergency pauser and when its power ends (unix s, ≤ 180 days on). Default: none. */
  readonly guardian?: { readonly address: string; readonly expiry: number }
  /** Treasury multisig (default: the deployer alone, 1 of 1). */
  readonly treasury?: { readonly signers: readonly string[]; readonly threshold: number }
  /** Contribution-score epochs in seconds (default: consensus.epochLength blocks of ~timeoutCommit, half for commits). */
  readonly contributionSchedule?: { readonly epochLength: number; readonly commitWindow: number }
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

/** Every account but the first gets `each` (default 1,000,000 tokens); the first (the reserve) gets the rest. */
export const devnetAllocations = (accounts: readonly string[], each: bigint = 1_000_000n * TOKEN): Allocation[] => {
  const [reserve, ...others] = accounts
  if (reserve === undefined) throw new Error("devnetAllocations: no accounts")
  return [{ address: reserve, amount: TOTAL_SUPPLY - each * BigInt(others.length) }, ...others.map((address) => ({ address, amount: each }))]
}

/** keccak256 of the Constitution table installed (name, key, bounds, value per row). */
export const constitutionHash = (params: Params): string =>
  toHex(keccak256(utf8ToBytes(JSON.stringify(constitutionTable(params).map((r) => [r.name, r.key, String(r.min), String(r.max), String(r.value)])))))

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
  const reporter = getAddress(config.downtimeReporter ?? from)
  const treasurySigners = (config.treasury?.signers ?? [from]).map((a) => getAddress(a))
  const threshold = config.treasury?.threshold ?? 1
  const guardian = config.guardian === undefined ? ZeroAddress : getAddress(config.guardian.address)
  const guardianExpiry = config.guardian?.expiry ?? 0
  const schedule = config.contributionSchedule ?? defaultSchedule(params)

  let firstBlock: number | undefined
  const note = (r: TransactionReceipt | null) => {
    if (r !== null && firstBlock === undefined) firstBlock = r.blockNumber
  }
  const deploy = async (name: ContractName, args: unknown[]): Promise<Any> => {
    const { abi, bytecode } = await loadArtifact(name)
    const c: Any = await new ContractFactory(abi as never, bytecode, deployer).deploy(...args)
    note(await c.deploymentTransaction().wait())
    return c
  }
  const send = async (p: Promise<Any>) => note(await (await p).wait())

  const token = await deploy("DAIToken", [config.allocations.map((a) => a.address), config.allocations.map((a) => a.amount), guardian, guardianExpiry, from])
  const tokenAt = await token.getAddress()
  const staking = await deploy("Staking", [tokenAt, encodeStakingParams(params), consensusChainId, from])
  const constitution = await deploy("Constitution", constitutionArgs(from, params))
  const treasury = await deploy("Treasury", [tokenAt, treasurySigners, threshold])
  const governance = await deploy("Governance", [await constitution.getAddress(), await staking.getAddress(), await treasury.getAddress(), params["governance.quadratic"]])
  const governanceAt = getAddress(await governance.getAddress())
  const latest = await provider.getBlock("latest")
  const genesis = latest?.timestamp ?? Math.floor(Date.now() / 1000)
  const registry = await deploy("ContributionRegistry", [genesis, schedule.epochLength, schedule.commitWindow, from])

  await send(staking.grantRole(await staking.PARAMS_ROLE(), governanceAt))
  await send(staking.grantRole(await staking.DOWNTIME_REPORTER_ROLE(), reporter))
  await send(constitution.transferGovernance(governanceAt))
  await send(treasury.setGovernance(governanceAt))
  await send(token.transferGovernance(governanceAt))

  const last = await provider.getBlock("latest")
  const network = await provider.getNetwork()
  const at = async (c: Any) => getAddress(await c.getAddress())
  return {
    format: DEPLOYMENT_FORMAT,
    chainId: network.chainId.toString(),
    network: config.network,
    dryRun: config.dryRun,
    deployer: from,
    deploymentBlock: firstBlock ?? 0,
    deployedAt: last?.timestamp ?? genesis,
    contracts: {
      DAIToken: await at(token), Staking: await at(staking), Constitution: await at(constitution), Governance: governanceAt,
      Treasury: await at(treasury), ContributionRegistry: await at(registry),
    },
    paramRegistryHash: paramRegistryHash(),
    constitutionHash: constitutionHash(params),
    consensusChainId: consensusChainId.toString(),
    roles: { admin: from, downtimeReporter: reporter, governance: governanceAt, guardian, guardianExpiry },
    treasury: { signers: treasurySigners, threshold },
    contributionRegistry: { genesis, epochLength: schedule.epochLength, commitWindow: schedule.commitWindow },
    genesis: config.allocations.map((a) => ({ address: getAddress(a.address), amount: a.amount.toString() })),
  }
}
