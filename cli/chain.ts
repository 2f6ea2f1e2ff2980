/**
 * `dai chain …` commands: deploy the contracts and write the deployment file the node reads.
 * Hardhat and the deploy script are imported only when a deploy runs, so `--help` stays instant.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { Result, Schema, SchemaIssue } from "effect"
import { TOKEN, TOTAL_SUPPLY, tokens } from "../runtime/core/units.ts"
import { CONTRACT_NAMES, type Deployment } from "../runtime/adapters/evm/deployment.ts"
import { defineCommand, InputError, UsageError, type Command, type Io, parseParam } from "./command.ts"

/** Where a deployment is written when `--out` is not given (a dry run never overwrites a real one). */
export const DEFAULT_OUT = ".dai/deployment.json"
export const DEFAULT_DRY_RUN_OUT = ".dai/deployment.dry-run.json"
/** Environment variable holding the deployer's private key for `--rpc` (else the node's first unlocked account). */
export const DEPLOYER_KEY_ENV = "DAI_DEPLOYER_KEY"
const PROBE_TIMEOUT_MS = 5_000

const GenesisFile = Schema.Array(Schema.Struct({
  address: Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{40}$/.test(s) || s === "treasury" || s === "reserve" || "a 0x address of 40 hex digits, \"treasury\" (the Treasury contract) or \"reserve\" (the Committee contract's reward reserve)")),
  tokens: Schema.Union([Schema.String, Schema.Number]).check(Schema.makeFilter((v) => /^\d+(\.\d{1,18})?$/.test(String(v)) || "whole tokens, e.g. \"1000000\" or \"0.5\"")),
})).check(Schema.isMinLength(1))

/** Parse a `--genesis` file: `[{ "address": "0x…" | "treasury" | "reserve", "tokens": "1000000" }, …]` summing to the total supply. */
export const parseGenesis = (text: string, file: string): Array<{ address: string; amount: bigint }> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new UsageError({ reason: `--genesis ${file} is not JSON: ${(e as Error).message}` })
  }
  const r = Schema.decodeUnknownResult(GenesisFile)(json, { errors: "first", onExcessProperty: "error" })
  if (Result.isFailure(r)) {
    const issue = SchemaIssue.makeFormatterStandardSchemaV1()(r.failure.issue).issues[0]
    const path = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
    throw new UsageError({ reason: `--genesis ${file}: ${path === "" ? "expected a non-empty array of { address, tokens }" : path}: ${issue?.message ?? "invalid"}` })
  }
  const allocations = r.success.map((a) => ({ address: a.address, amount: tokens(String(a.tokens)) }))
  const sum = allocations.reduce((x, a) => x + a.amount, 0n)
  if (sum !== TOTAL_SUPPLY) {
    throw new UsageError({ reason: `--genesis ${file}: allocations sum to ${sum / TOKEN} tokens (+${sum % TOKEN} base units), not the total supply of ${TOTAL_SUPPLY / TOKEN}` })
  }
  return allocations
}

/** Ask an RPC for its chain id; throws an Error naming the URL when it does not answer like an Ethereum node. */
export const probeRpc = async (url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<bigint> => {
  let res: Response
  try {
    res = await fetch(url, {
      method: "POST", headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(timeoutMs),
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    })
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    const why = (e as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : cause?.code ?? cause?.message ?? (e as Error).message
    throw new Error(`cannot reach an Ethereum JSON-RPC node at ${url} (${why}); start one (e.g. \`npx hardhat node\`) or fix --rpc`)
  }
  const body = (await res.json().catch(() => undefined)) as { result?: unknown } | undefined
  if (!res.ok || typeof body?.result !== "string") {
    throw new Error(`${url} answered eth_chainId with HTTP ${res.status} and no chain id; is it an Ethereum JSON-RPC endpoint?`)
  }
  return BigInt(body.result)
}

const rpcFlag = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError({ reason: `--rpc must be an http(s) URL such as http://127.0.0.1:8545, got "${value}"` })
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError({ reason: `--rpc must be an http(s) URL, got "${value}" (${url.protocol.slice(0, -1)})` })
  return value
}

/** Parse `--treasury-signer` (repeatable) and `--treasury-threshold`; undefined when neither is given (the default multisig). */
export const treasuryFlags = (signers: readonly string[] | undefined, threshold: string | undefined): { signers: string[]; threshold: number | undefined } | undefined => {
  if ((signers === undefined || signers.length === 0) && threshold === undefined) return undefined
  if (signers === undefined || signers.length === 0) throw new UsageError({ reason: "--treasury-threshold needs the signers: give --treasury-signer ADDR once per signer" })
  for (const a of signers) if (!/^0x[0-9a-fA-F]{40}$/.test(a) || /^0x0{40}$/.test(a)) throw new UsageError({ reason: `--treasury-signer must be a non-zero 0x address of 40 hex digits, got "${a}"` })
  if (new Set(signers.map((a) => a.toLowerCase())).size !== signers.length) throw new UsageError({ reason: "--treasury-signer: a signer is named twice; the Treasury's signers must be distinct" })
  if (threshold === undefined) return { signers: [...signers], threshold: undefined }
  if (!/^\d+$/.test(threshold)) throw new UsageError({ reason: `--treasury-threshold must be a whole number M with 1 <= M <= ${signers.length}, got "${threshold}"` })
  const m = Number(threshold)
  if (m < 1 || m > signers.length) throw new UsageError({ reason: `--treasury-threshold ${m}: need 1 <= M <= N = ${signers.length} (the number of --treasury-signer)` })
  return { signers: [...signers], threshold: m }
}

const COMMITTEE_NOTE = "the Committee contract: it slashes only on epoch reports signed by 2/3 of the voting power"

const describeHolder = (h: Deployment["roles"]["holders"][number]): string =>
  h.kind === "none" ? "nobody" : h.kind === "account" ? `${h.holder} (an account)` : h.kind === "contract" ? `${h.holder} (a contract)` : `${h.kind} ${h.holder}`

/** The roles after the deploy, one line per role and holder, as read back from the chain. */
export const rolesSummary = (d: Deployment): string[] => {
  const width = Math.max(...d.roles.holders.map((h) => `${h.contract}.${h.role}`.length))
  const lines = d.roles.holders.map((h) => {
    let note = ""
    if (h.contract === "Staking" && h.role === "COMMITTEE_ROLE" && h.kind === "Committee") note = `  (${COMMITTEE_NOTE})`
    if (h.contract === "DAIToken" && h.role === "guardian" && h.kind !== "none") {
      note = `  (a pause lasts 7 days at most; until ${new Date(d.roles.guardianExpiry * 1000).toISOString()}; governance may revoke or replace it)`
    }
    return `  ${`${h.contract}.${h.role}`.padEnd(width)}  ${describeHolder(h)}${note}`
  })
  const deployerHolds = d.roles.holders.some((h) => h.holder.toLowerCase() === d.deployer.toLowerCase())
  return [
    "roles after the deploy (read back from the chain):",
    ...lines,
    deployerHolds ? `the deployer ${d.deployer} holds only the roles it was named for above` : `the deployer ${d.deployer} holds no role`,
  ]
}

const summary = (d: Deployment, out: string, overrides: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(...CONTRACT_NAMES.map((n) => n.length))
  const funded = BigInt(d.treasury.funded)
  const lines = [
    d.dryRun
      ? "DRY RUN on Hardhat's in-process network: this chain ends with this command, so these addresses exist nowhere else.\nUse --rpc URL to deploy to a running node (e.g. `npx hardhat node`)."
      : `Deployed to ${d.network} (chain id ${d.chainId}).`,
    "",
    ...CONTRACT_NAMES.map((n) => `  ${n.padEnd(width)}  ${d.contracts[n]}`),
    "",
    `chain id ${d.chainId}, from block ${d.deploymentBlock}, deployer ${d.deployer}`,
    `genesis: ${d.genesis.length} allocations`,
    "",
    ...rolesSummary(d),
    "",
    funded > 0n
      ? `treasury ${d.contracts.Treasury}: funded with ${funded / TOKEN} tokens, the community share of the genesis (${(funded * 100n) / TOTAL_SUPPLY} % of the supply)`
      : `treasury ${d.contracts.Treasury}: funded with nothing (the genesis names no "treasury" allocation)`,
    BigInt(d.committee.rewardReserve) > 0n
      ? `committee ${d.contracts.Committee}: holds the reward reserve, ${BigInt(d.committee.rewardReserve) / TOKEN} tokens, released by epoch reports signed by 2/3 of the voting power`
      : `committee ${d.contracts.Committee}: holds no reward reserve (the genesis names no "reserve" allocation), so epoch reports release no emission`,
    `  spent by a passed governance proposal, or by ${d.treasury.threshold} of its ${d.treasury.signers.length} signers: ${d.treasury.signers.join(", ")}`,
    "",
    overrides.length === 0
      ? "parameters: the registry's defaults (set others with --param NAME=VALUE, or later by governance)"
      : `parameters set at deploy: ${overrides.map(([k, v]) => `${k}=${v}`).join(", ")}`,
    `param registry ${d.paramRegistryHash}`,
    `wrote ${out}${d.dryRun ? " (a dry-run record: do not point a node at it)" : ""}`,
  ]
  return lines.join("\n")
}

type Any = any // ethers / hardhat-ethers objects, imported lazily

type TreasuryFlags = ReturnType<typeof treasuryFlags>

/**
 * The Treasury multisig: the named signers (M default ⌈2N/3⌉), else the network's other unlocked
 * accounts (a devnet's: every account but the deployer) with M = ⌈2N/3⌉.
 */
const treasuryOf = async (flags: TreasuryFlags, accounts: readonly string[]) => {
  const { defaultTreasury } = await import("../contracts/deploy/deploy.ts")
  if (flags !== undefined) return flags.threshold === undefined ? defaultTreasury(flags.signers) : { signers: flags.signers, threshold: flags.threshold }
  const others = accounts.slice(1)
  if (others.length === 0) throw new UsageError({ reason: "name the Treasury's signers: --treasury-signer ADDR (repeat it) and --treasury-threshold M; the deployer alone may not hold the treasury" })
  return defaultTreasury(others)
}

type Profile = import("../contracts/deploy/constitution-profile.ts").ConstitutionProfile
type Params = import("../runtime/core/params.ts").Params

/** What `--param` sets at deploy: the parameters installed, the constitution (its lowered-floor values too) and the overrides as given. */
export interface DeployParams {
  readonly params: Params
  readonly constitution: Profile
  readonly overrides: ReadonlyArray<readonly [string, string]>
}

/**
 * `--param name=value` (repeatable) for the Constitution and Staking: numeric registry parameters
 * only, each within the constitution's bounds (a floor the constitution lowers, such as the devnet's
 * governance periods, counts as lowered), the rules between parameters checked. A bad one is an
 * InputError naming it, before anything is deployed.
 */
export const deployParamFlags = async (raw: readonly string[] | undefined, constitution: Profile): Promise<DeployParams> => {
  const [{ isParamName, REGISTRY, resolveParams, ParamUnknown }, { lowers, withValues }] = await Promise.all([
    import("../runtime/core/params.ts"), import("../contracts/deploy/constitution-profile.ts"),
  ])
  const overrides = (raw ?? []).map(parseParam)
  const lowered: Record<string, string> = {}
  const plain: Record<string, string> = {}
  for (const [name, value] of overrides) {
    if (!isParamName(name)) throw new InputError({ reason: `--param: ${new ParamUnknown({ name }).message}` })
    if (!("min" in REGISTRY[name])) {
      throw new InputError({ reason: `--param: parameter ${name} is not numeric: the Constitution holds only numeric parameters; set it in the genesis (dai genesis new --param)` })
    }
    if (lowers(constitution, name)) lowered[name] = value
    else plain[name] = value
  }
  const params = resolveParams(plain)
  if (Result.isFailure(params)) throw new InputError({ reason: `--param: ${params.failure.message}` })
  let profile = constitution
  try {
    profile = Object.keys(lowered).length === 0 ? constitution : withValues(constitution, lowered)
  } catch (e) {
    throw new InputError({ reason: `--param: ${(e as Error).message}` })
  }
  return { params: params.success, constitution: profile, overrides }
}

/** `--constitution NAME` with `--voting-period` / `--timelock` (devnet only): the constitution to install, or a UsageError naming the problem. */
export const constitutionFlags = async (name: string | undefined, votingPeriod: string | undefined, timelock: string | undefined): Promise<Profile> => {
  const { CONSTITUTIONS, PRODUCTION_CONSTITUTION, constitutionNamed, withValues } = await import("../contracts/deploy/constitution-profile.ts")
  const profile = name === undefined ? PRODUCTION_CONSTITUTION : constitutionNamed(name)
  if (profile === undefined) throw new UsageError({ reason: `--constitution must be one of ${Object.keys(CONSTITUTIONS).join(", ")}, got "${name}"` })
  const periods = { ...(votingPeriod === undefined ? {} : { "governance.votingPeriod": votingPeriod }), ...(timelock === undefined ? {} : { "governance.timelock": timelock }) }
  if (Object.keys(periods).length > 0 && profile.name !== "devnet") {
    throw new UsageError({ reason: "--voting-period and --timelock below production's floors need --constitution devnet (production's periods are set in the genesis parameters)" })
  }
  try {
    return withValues(profile, periods)
  } catch (e) {
    throw new UsageError({ reason: (e as Error).message.replace(/^parameter governance\.votingPeriod/, "--voting-period").replace(/^parameter governance\.timelock/, "--timelock") })
  }
}

/** A deployment and the Constitution's floors below production's, read back from the chain (none for production). */
interface Deployed {
  readonly deployment: Deployment
  readonly lowered: readonly import("../contracts/deploy/constitution-profile.ts").LoweredFloor[]
}

/** A provider for `rpc` (probed first: an unreachable RPC is an Error naming the URL); the caller destroys it. */
const connectRpc = async (rpc: string): Promise<Any> => {
  const chainId = await probeRpc(rpc)
  const { JsonRpcProvider, Network } = await import("ethers")
  return new JsonRpcProvider(rpc, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1, pollingInterval: 250 })
}

/**
 * The deployer: the key in $DAI_DEPLOYER_KEY, else the node's first unlocked account; with the
 * accounts the node offers (the key's alone with a key), at most 10.
 */
const deployerOf = async (provider: Any, rpc: string, env: NodeJS.ProcessEnv): Promise<{ deployer: Any; accounts: string[] }> => {
  const key = env[DEPLOYER_KEY_ENV]
  if (key !== undefined && key !== "") {
    const { Wallet } = await import("ethers")
    let deployer: Any
    try {
      deployer = new Wallet(key, provider)
    } catch {
      throw new UsageError({ reason: `${DEPLOYER_KEY_ENV} is not a private key (0x + 64 hex digits)` })
    }
    return { deployer, accounts: [await deployer.getAddress()] }
  }
  const accounts = ((await provider.send("eth_accounts", [])) as string[]).slice(0, 10)
  if (accounts.length === 0) throw new Error(`the node at ${rpc} has no unlocked account to send from; set ${DEPLOYER_KEY_ENV} to the deployer's private key`)
  return { deployer: await provider.getSigner(accounts[0]), accounts }
}

/** Connect to the in-process network or the RPC, deploy, read back the floors, return the record; closes what it opened. */
const deploy = async (rpc: string | undefined, genesis: Array<{ address: string; amount: bigint }> | undefined, flags: TreasuryFlags, env: NodeJS.ProcessEnv, constitution: Profile, params: Params): Promise<Deployed> => {
  const { deployContracts, devnetAllocations } = await import("../contracts/deploy/deploy.ts")
  const { readLoweredFloors } = await import("../contracts/deploy/constitution-profile.ts")
  const withFloors = async (provider: Any, deployment: Deployment): Promise<Deployed> => ({ deployment, lowered: await readLoweredFloors(provider, deployment.contracts.Constitution) })
  if (rpc === undefined) {
    const { connectInProcess } = await import("../contracts/deploy/build.ts")
    const connection: Any = await connectInProcess()
    try {
      const signers: Any[] = await connection.ethers.getSigners()
      const accounts: string[] = await Promise.all(signers.slice(0, 10).map((s) => s.getAddress()))
      const treasury = await treasuryOf(flags, accounts)
      return await withFloors(connection.ethers.provider, await deployContracts({ deployer: signers[0], allocations: genesis ?? devnetAllocations(accounts), network: "in-process", dryRun: true, treasury, constitution, params }))
    } finally {
      await connection.close()
    }
  }
  const provider = await connectRpc(rpc)
  try {
    const { deployer, accounts } = await deployerOf(provider, rpc, env)
    const treasury = await treasuryOf(flags, accounts)
    return await withFloors(provider, await deployContracts({ deployer, allocations: genesis ?? devnetAllocations(accounts), network: rpc, dryRun: false, treasury, constitution, params }))
  } finally {
    provider.destroy()
  }
}

const deployCommand = defineCommand({
  name: "deploy",
  summary: "Deploy DAIToken, Staking, Constitution, Governance, Treasury and ContributionRegistry, hand every role to Governance, fund the Treasury, print the roles and write the deployment file.",
  options: {
    rpc: { type: "string" },
    out: { type: "string" },
    genesis: { type: "string" },
    "treasury-signer": { type: "string", multiple: true },
    "treasury-threshold": { type: "string" },
    constitution: { type: "string" },
    "voting-period": { type: "string" },
    timelock: { type: "string" },
    param: { type: "string", multiple: true },
    json: { type: "boolean" },
  },
  help: {
    "--rpc URL": "JSON-RPC endpoint to deploy to (default: Hardhat's in-process network, a dry run). Deploys from the node's first unlocked account, or from the private key in $DAI_DEPLOYER_KEY",
    "--out FILE": `where to write the deployment (default ${DEFAULT_OUT}; a dry run: ${DEFAULT_DRY_RUN_OUT})`,
    "--genesis FILE": "genesis allocations, JSON [{ \"address\": \"0x…\", \"tokens\": \"1000000\" }, …] summing to 1,000,000,000 tokens; the address \"treasury\" stands for the Treasury contract, \"reserve\" for the Committee contract's reward reserve (default: 400,000,000 to the Treasury as the community share, 300,000,000 to the Committee as the reward reserve, 1,000,000 to each of the first 10 accounts but the deployer, the rest to the deployer)",
    "--treasury-signer ADDR": "a signer of the Treasury's M-of-N multisig (repeat it once per signer; distinct). Default: the node's other unlocked accounts (a devnet's)",
    "--treasury-threshold M": "approvals a multisig spend needs, 1 <= M <= N (default ⌈2N/3⌉)",
    "--constitution NAME": "production (default: the parameter registry's bounds) or devnet: governance.votingPeriod and governance.timelock may be as short as 5s (production floor 1h), a 2m vote and a 1m timelock installed; for devnets and tests only, printed loudly",
    "--voting-period D": "with --constitution devnet: the voting period installed (at least 5s), e.g. 30s",
    "--timelock D": "with --constitution devnet: the timelock installed (at least 5s), e.g. 10s",
    "--param NAME=VALUE": "a numeric parameter installed in the Constitution (and Staking) instead of its default, within the constitution's bounds (repeatable), e.g. consensus.timeoutCommit=500ms; see `dai params`. Governance changes it later",
    "--json": "print the deployment record as JSON on stdout",
  },
  examples: [
    "dai chain deploy", "dai chain deploy --rpc http://127.0.0.1:8545 --out .dai/deployment.json", "dai chain deploy --rpc http://127.0.0.1:8545 --genesis genesis.json --json",
    "dai chain deploy --rpc http://127.0.0.1:8545 --treasury-signer 0xA… --treasury-signer 0xB… --treasury-signer 0xC… --treasury-threshold 2",
  ],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const rpc = rpcFlag(values.rpc)
    const flags = treasuryFlags(values["treasury-signer"], values["treasury-threshold"])
    const { params, constitution, overrides } = await deployParamFlags(values.param, await constitutionFlags(values.constitution, values["voting-period"], values.timelock))
    let genesis: Array<{ address: string; amount: bigint }> | undefined
    if (values.genesis !== undefined) {
      const text = await readFile(values.genesis, "utf8").catch((e: NodeJS.ErrnoException) => {
        throw new UsageError({ reason: `cannot read --genesis ${values.genesis}: ${e.code ?? e.message}` })
      })
      genesis = parseGenesis(text, values.genesis)
    }
    let deployment: Deployment
    let lowered: Deployed["lowered"]
    try {
      ;({ deployment, lowered } = await deploy(rpc, genesis, flags, process.env, constitution, params))
    } catch (e) {
      if (e instanceof UsageError) throw e
      io.err(`dai chain deploy: ${(e as { shortMessage?: string }).shortMessage ?? (e as Error).message}`)
      return 1
    }
    const out = values.out ?? (deployment.dryRun ? DEFAULT_DRY_RUN_OUT : DEFAULT_OUT)
    try {
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, `${JSON.stringify(deployment, null, 2)}\n`)
    } catch (e) {
      io.err(`dai chain deploy: deployed, but cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n${JSON.stringify(deployment)}`)
      return 1
    }
    // Floors below production's, read back from the chain: said first, and again last, never silently.
    const loud = (await import("../contracts/deploy/constitution-profile.ts")).describeLoweredFloors(lowered)
    if (values.json === true) {
      io.out(JSON.stringify(deployment, null, 2))
      if (deployment.dryRun) io.err(`dai chain deploy: DRY RUN on the in-process network (wrote ${out}); use --rpc URL to deploy to a running node`)
      if (loud.length > 0) io.err(loud.join("\n"))
    } else {
      io.out([...loud, ...(loud.length > 0 ? [""] : []), summary(deployment, out, overrides), ...(loud.length > 0 ? ["", loud[0]!] : [])].join("\n"))
    }
    return 0
  },
})

/** Whole or decimal amount (`1`, `0.5`, `10100`) in base units (18 decimals); the flag named in the error. */
const amountFlag = (flag: string, value: string | undefined, fallback: bigint): bigint => {
  if (value === undefined) return fallback
  if (!/^\d+(\.\d{1,18})?$/.test(value)) throw new InputError({ reason: `--${flag} must be an amount such as 1, 0.5 or 10100, got "${value}"` })
  return tokens(value)
}

/**
 * `--to`: a 0x address, an identity.json (`dai node init` writes it) or a data dir holding one.
 * Returns the address and where it came from.
 */
export const recipientFlag = async (value: string | undefined): Promise<{ address: string; name: string | undefined }> => {
  if (value === undefined || value === "") throw new UsageError({ reason: "--to is required: a 0x address, an identity.json file or a node's data dir" })
  const { getAddress } = await import("ethers")
  if (/^0x[0-9a-fA-F]*$/.test(value)) {
    try {
      if (value.length !== 42) throw new Error("length")
      return { address: getAddress(value), name: undefined }
    } catch {
      throw new InputError({ reason: `--to ${value}: not an address (0x and 40 hex digits, a mixed-case one with a valid checksum)` })
    }
  }
  const { existsSync, statSync } = await import("node:fs")
  const { join } = await import("node:path")
  const { IDENTITY_FILE, decodeIdentity } = await import("../runtime/node/genesis-draft.ts")
  if (!existsSync(value)) throw new InputError({ reason: `--to ${value}: not a 0x address, and no such file or data dir` })
  const file = statSync(value).isDirectory() ? join(value, IDENTITY_FILE) : value
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, "utf8"))
  } catch (e) {
    throw new InputError({ reason: `--to ${file}: cannot read an identity (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  const r = decodeIdentity(json, file)
  if (Result.isFailure(r)) throw new InputError({ reason: `--to ${r.failure.message}` })
  return { address: getAddress(r.success.address), name: r.success.name }
}

const fundCommand = defineCommand({
  name: "fund",
  summary: "Send gas (ETH) and DAI from the deployer to an account: a validator before its node's first start (its genesis stake and fee deposit), a node before `dai validator register`.",
  options: {
    rpc: { type: "string" },
    deployment: { type: "string" },
    to: { type: "string" },
    dai: { type: "string" },
    eth: { type: "string" },
  },
  help: {
    "--rpc URL": "the chain's JSON-RPC endpoint (required). Sends from the node's first unlocked account, or from the private key in $DAI_DEPLOYER_KEY",
    "--deployment FILE": "the deployment file of `dai chain deploy --rpc URL --out FILE` (required): the DAI token's address",
    "--to WHO": "the recipient: a 0x address, a node's identity.json or its data dir (required)",
    "--dai N": "DAI to send (default 0)",
    "--eth N": "ETH to send for gas (default 1)",
  },
  examples: [
    "dai chain fund --rpc http://127.0.0.1:8545 --deployment .dai/net/deployment.json --to .dai/net/node1 --dai 1000100",
    "dai chain fund --rpc http://127.0.0.1:8545 --deployment deployment.json --to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --eth 0.5",
  ],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const rpc = rpcFlag(values.rpc)
    if (rpc === undefined) throw new UsageError({ reason: "--rpc URL is required: the chain to send on" })
    if (values.deployment === undefined) throw new UsageError({ reason: "--deployment FILE is required: the deployment `dai chain deploy --rpc URL --out FILE` wrote" })
    const to = await recipientFlag(values.to)
    const dai = amountFlag("dai", values.dai, 0n)
    const eth = amountFlag("eth", values.eth, TOKEN)
    if (dai === 0n && eth === 0n) throw new InputError({ reason: "nothing to send: --dai and --eth are both 0" })
    const { readDeployment } = await import("../runtime/adapters/evm/deployment.ts")
    const d = await readDeployment(values.deployment)
    if (Result.isFailure(d)) throw new InputError({ reason: `--deployment ${d.failure.message}` })
    const deployment = d.success
    if (deployment.dryRun) throw new InputError({ reason: `--deployment ${values.deployment}: a dry run's record (its chain ended with the deploy); deploy with --rpc URL` })
    const { FundShort, fundAccount } = await import("../contracts/deploy/fund.ts")
    const { formatTokens } = await import("../runtime/core/units.ts")
    let provider: Any
    try {
      provider = await connectRpc(rpc)
      const chainId = (await provider.getNetwork()).chainId.toString()
      if (deployment.chainId !== undefined && chainId !== deployment.chainId) {
        throw new Error(`${rpc} is chain id ${chainId}, but ${values.deployment} was deployed to chain id ${deployment.chainId}`)
      }
      const { deployer } = await deployerOf(provider, rpc, process.env)
      const r = await fundAccount(deployer, deployment.contracts.DAIToken, to.address, { eth, dai })
      const who = to.name === undefined ? r.to : `${r.to} (${to.name})`
      io.out([
        `sent ${formatTokens(r.sentEth)} ETH and ${formatTokens(r.sentDai)} DAI from ${r.payer} to ${who}`,
        `  ${r.to} now holds ${formatTokens(r.eth)} ETH and ${formatTokens(r.dai)} DAI`,
      ].join("\n"))
      return 0
    } catch (e) {
      if (e instanceof UsageError || e instanceof InputError) throw e
      io.err(`dai chain fund: ${e instanceof FundShort ? `the deployer ${e.message}` : ((e as { shortMessage?: string }).shortMessage ?? (e as Error).message)}`)
      return 1
    } finally {
      provider?.destroy()
    }
  },
})

export const chainCommands: readonly Command[] = [deployCommand, fundCommand]
