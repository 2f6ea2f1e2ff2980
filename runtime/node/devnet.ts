/**
 * A local network in one process: N validators over real libp2p on 127.0.0.1, each from its own
 * data dir (made by the same `initDataDir` as `dai node init`, started by the same
 * `startNodeFromDataDir` as `dai node start`), with the contracts deployed on Hardhat's in-process
 * chain or a given RPC, where the genesis validators are registered on Staking with their genesis stake.
 *
 *   <dir>/devnet.json        what this devnet is (node count, chain id)
 *   <dir>/deployment.json    the contracts of the last start
 *   <dir>/node<i>/           node i's data dir; its `password` file unlocks it
 *   <dir>/api.json           while it runs: node0's API URL and token file (`dai chat --devnet-dir <dir>`)
 *
 * The data dirs are complete: `dai node start --data-dir <dir>/node1 --password-file <dir>/node1/password`
 * runs one node on its own (its config lists its fixed loopback port and the other nodes' addresses).
 * A dir that holds a devnet already is resumed: every node continues from its store.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import type { PrivateKey } from "@libp2p/interface"
import { type Cause, Effect, Exit, Result, Scope } from "effect"
import { newPeerKey, peerIdOf } from "../adapters/libp2p/node.ts"
import { newPrivateKey, unlockKeystoreFile } from "../adapters/keystore.ts"
import { addressOfPrivateKey } from "../core/crypto.ts"
import { equalStakeGenesis } from "./genesis-file.ts"
import { freePort } from "./free-port.ts"
import { initDataDir } from "./data-dir.ts"
import { describeStartError, readDataDir, startNodeFromDataDir, type RunningNode } from "./run-node.ts"
import { startDevnetChain, type DevnetChain, type DevnetValidator } from "./devnet-chain.ts"
import { readDeployment } from "../adapters/evm/deployment.ts"
import { resolvePath } from "./config.ts"
import { formatTokens, TOKEN, tokens } from "../core/units.ts"
import { lmBlocksKey } from "../core/lm/wire.ts"
import type { NodeTrainingOptions } from "./training/start.ts"
import type { NodeMarketOptions } from "./market.ts"
import { DEVNET_CONSTITUTION, describeConstitution, withValues, type ConstitutionProfile } from "../../contracts/deploy/constitution-profile.ts"

export const DEVNET_FILE = "devnet.json"
/**
 * Devnet keys are throwaway: a known password and a cheap scrypt, so N nodes unlock in moments. The
 * password is long enough for the keystore's minimum; a devnet resumes with each node's `password`
 * file, so dirs made with an older constant still start.
 */
export const DEVNET_PASSWORD = "devnet-throwaway"
const DEVNET_SCRYPT_N = 1_024
/** Consensus chain id of devnets (the contracts' default evidence chain id). */
export const DEVNET_CHAIN_ID = 7

/**
 * Consensus timeouts for a loopback network: a block about every half second. Every node trains in
 * every round (cohort 1), and a round that waits for a stuck trainer gives up after 20 s.
 */
export const DEVNET_PARAMS: Readonly<Record<string, string>> = {
  "consensus.timeoutCommit": "500ms",
  "consensus.timeoutPropose": "1s",
  "consensus.timeoutPrevote": "500ms",
  "consensus.timeoutPrecommit": "500ms",
  "consensus.timeoutDelta": "200ms",
  "training.cohort": "1",
  "training.roundDeadline": "20s",
  // The market: a provider's bond within a node's free genesis balance (1000 DAI), deliveries a
  // requester leaves unconfirmed settled by their provider 10 s later (the minimum is 5 s), and a
  // provider given a minute to deliver (each delivery is a transaction on a chain a loaded machine slows).
  "market.minProviderBond": "100",
  "market.disputeWindow": "10s",
  "market.noShowTimeout": "60s",
}

/**
 * The devnet's market (on unless turned off, and only with a chain: without one each node's ledger
 * is its own): nodes 1.. register as providers of `infer:<dataset>` (node 0 too when it is alone),
 * and node 0's account — funded at genesis — is the built-in requester posting a small job every
 * few seconds.
 */
export const DEVNET_MARKET = {
  /** Provider bond (DAI, at least market.minProviderBond), price per unit (DAI), jobs at once, units per debit note. */
  bond: 100, price: "0.05", capacity: 2, chunk: 20,
  /** Units per job, most paid per unit (DAI), a job every `interval` ms, each due within `deadline` ms. */
  units: 20, maxPrice: "0.1", interval: 5_000, deadline: 180_000,
} as const

/**
 * The devnet's language model (`--lm`): stage i's price per token is (i + 1) × `price` DAI (so a route's
 * stages are told apart by what they charge), each stage node's provider bond and sessions at once.
 */
export const DEVNET_LM = { stages: 2, price: "0.001", bond: 100, capacity: 4 } as const

/**
 * Written in a running devnet's dir while it runs (removed at its stop): node0's API URL and token
 * file, so `dai chat --devnet-dir DIR` finds the node (its port is the OS's choice at every start).
 */
export const DEVNET_API_FILE = "api.json"

interface DevnetFile {
  readonly format: "dai-devnet/1"
  readonly nodes: number
  readonly chainId: number
  /** The chain it was created on (absent in older files): an in-process chain is gone after its run, so such a devnet cannot resume. */
  readonly chain?: "in-process" | "rpc" | "none"
  /**
   * The constitution the devnet's contracts get at every start: the devnet's (lowered governance
   * floors, its periods), written here so a reader of the dir sees it and a resume keeps the periods.
   */
  readonly constitution?: {
    readonly name: string
    readonly warning: string
    readonly floors: Readonly<Record<string, number>>
    readonly values: Readonly<Record<string, number>>
  }
}

/** What devnet.json says of its constitution (a warning to whoever reads the file). */
const CONSTITUTION_WARNING = "governance.votingPeriod and governance.timelock may be seconds here (production floor: 1h): for devnets and tests only"

export const nodeDir = (dir: string, i: number): string => join(dir, `node${i}`)

export interface CreateDevnetOptions {
  readonly dir: string
  readonly nodes: number
  /** Parameter overrides of the genesis (default DEVNET_PARAMS). */
  readonly params?: Readonly<Record<string, string | number | boolean>>
  /** Written into every node's config (chain.rpc + chain.deployment) when the chain is a JSON-RPC node. */
  readonly rpc?: string
  /** The constitution its contracts get (default: the devnet's), recorded in devnet.json. */
  readonly constitution?: ConstitutionProfile
  /** The chain it runs on, recorded in devnet.json (a resume checks it). */
  readonly chain?: "in-process" | "rpc" | "none"
}

/**
 * Create the data dirs of a devnet of `nodes` validators with equal stake. Node 0 is every other
 * node's bootstrap peer; node 0 bootstraps from node 1, so it too finds the network after a restart.
 */
export const createDevnetDirs = async (options: CreateDevnetOptions): Promise<void> => {
  const dir = resolve(options.dir)
  const n = options.nodes
  if (n < 1) throw new Error(`a devnet needs at least 1 node, got ${n}`)
  const keys = Array.from({ length: n }, () => newPrivateKey())
  const peerKeys: PrivateKey[] = await Promise.all(Array.from({ length: n }, () => newPeerKey()))
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()))
  const addr = (i: number) => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${peerIdOf(peerKeys[i]!)}`
  const overrides = options.params ?? DEVNET_PARAMS
  const { genesis } = equalStakeGenesis({
    chainId: DEVNET_CHAIN_ID, time: Date.now(), overrides,
    validators: keys.map((k, i) => ({ operator: `node${i}`, address: addressOfPrivateKey(k) })),
  })
  for (let i = 0; i < n; i++) {
    const bootstrap = n === 1 ? [] : i === 0 ? [addr(1)] : [addr(0)]
    await Effect.runPromise(initDataDir({
      dataDir: nodeDir(dir, i),
      password: DEVNET_PASSWORD,
      name: `node${i}`,
      scryptN: DEVNET_SCRYPT_N,
      privateKey: keys[i]!,
      peerKey: peerKeys[i]!,
      genesis: { genesis, overrides },
      writePasswordFile: true,
      configure: (c) => ({
        ...c,
        network: { ...c.network, listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`], bootstrap },
        chain: options.rpc === undefined ? c.chain : { rpc: options.rpc, deployment: join(dir, "deployment.json") },
        api: { ...c.api, port: 0 },
      }),
    }))
  }
  const c = options.constitution ?? DEVNET_CONSTITUTION
  const file: DevnetFile = {
    format: "dai-devnet/1", nodes: n, chainId: DEVNET_CHAIN_ID, ...(options.chain === undefined ? {} : { chain: options.chain }),
    constitution: { name: c.name, warning: CONSTITUTION_WARNING, floors: { ...c.floors }, values: { ...c.values } },
  }
  writeFileSync(join(dir, DEVNET_FILE), `${JSON.stringify(file, null, 2)}\n`)
}

/** The devnet file in `dir`, or undefined when `dir` holds none. */
const readDevnetFile = (dir: string): DevnetFile | undefined => {
  const path = join(dir, DEVNET_FILE)
  if (!existsSync(path)) return undefined
  const file = JSON.parse(readFileSync(path, "utf8")) as Partial<DevnetFile>
  if (file.format !== "dai-devnet/1" || typeof file.nodes !== "number") throw new Error(`${path}: not a devnet file (format dai-devnet/1)`)
  return file as DevnetFile
}

/** The node count of the devnet in `dir`, or undefined when `dir` holds none. */
export const readDevnet = (dir: string): number | undefined => readDevnetFile(dir)?.nodes

/** The devnet constitution with a devnet file's values (a file without one: the devnet's defaults). */
const constitutionOf = (file: DevnetFile | undefined): ConstitutionProfile =>
  file?.constitution === undefined ? DEVNET_CONSTITUTION : withValues(DEVNET_CONSTITUTION, file.constitution.values)

export interface DevnetOptions {
  readonly dir: string
  /** Node count of a new devnet (a resumed one keeps its own; a different count is an error). */
  readonly nodes?: number
  readonly params?: Readonly<Record<string, string | number | boolean>>
  /**
   * Governance periods below production's floors, allowed by the devnet constitution (5 s at least):
   * `{ "governance.votingPeriod": "10s", "governance.timelock": "5s" }` (default: a 2-minute vote and
   * a 1-minute timelock). They go to the chain's Constitution, where governance reads them, not to the
   * genesis; a resumed devnet keeps its own unless given again.
   */
  readonly governance?: Readonly<Record<string, string | number>>
  /** The EVM chain: Hardhat in process (default), a JSON-RPC URL, or none at all. */
  readonly chain?: { readonly kind: "in-process" } | { readonly kind: "rpc"; readonly url: string } | { readonly kind: "none" }
  readonly onFailure?: (cause: Cause.Cause<unknown>) => void
  /** Progress of the start, one line at a time. */
  readonly log?: (line: string) => void
  /** How every node trains (default: on, DEFAULT_TRAIN_SAMPLES each). */
  readonly training?: NodeTrainingOptions
  /** Providers and a built-in requester (DEVNET_MARKET; default off here, on in `dai devnet`): needs a chain. */
  readonly market?: boolean
  /**
   * The language model served by the devnet (`dai devnet --lm`; needs a chain, whose ledger every node
   * shares): node1..node<stages> each serve one range of the checkpoint's blocks as paid stage servers
   * (instead of `infer:<dataset>`: an account registers once), and node0's API answers `POST /generate`.
   */
  readonly lm?: { readonly stages?: number }
}

/** One stage of the devnet's language model: the node serving it, its blocks, its price per token. */
export interface DevnetLmStage {
  readonly node: string
  readonly from: number
  readonly to: number
  readonly pricePerToken: bigint
}

export interface Devnet {
  readonly dir: string
  readonly nodes: readonly RunningNode[]
  readonly chain: DevnetChain | undefined
  /** The constitution of its contracts: the devnet's, with its governance periods. */
  readonly constitution: ConstitutionProfile
  /** True when the dir held a devnet already (its nodes resumed from their stores). */
  readonly resumed: boolean
  /** Whether its market runs (providers and the built-in requester). */
  readonly market: boolean
  /** The language model's stages, when the devnet serves it (node0 generates through them). */
  readonly lm: readonly DevnetLmStage[] | undefined
  /** Stop every node, then the chain. */
  close(): Promise<void>
}

/**
 * The genesis of the devnet in `dir` and its validators as the chain registers them: each with its
 * genesis allocation and its key, unlocked from node i's keystore with node i's password file.
 */
const genesisValidators = (dir: string, n: number) =>
  Effect.gen(function*() {
    const { genesis } = yield* readDataDir(nodeDir(dir, 0))
    const keys = new Map<string, Uint8Array>()
    for (let i = 0; i < n; i++) {
      const { config } = yield* readDataDir(nodeDir(dir, i))
      const password = readFileSync(join(nodeDir(dir, i), "password"), "utf8").split("\n")[0]!
      const key = yield* unlockKeystoreFile(resolvePath(nodeDir(dir, i), config.paths.keystore), password)
      keys.set(addressOfPrivateKey(key).toLowerCase(), key)
    }
    const validators: DevnetValidator[] = []
    for (const v of genesis.validators) {
      const privateKey = keys.get(v.address.toLowerCase())
      if (privateKey === undefined) continue // a validator run outside this devnet registers itself
      const allocation = genesis.allocations.find((a) => a.address === v.operator)?.amount ?? v.amount
      validators.push({ ...v, allocation, privateKey })
    }
    return { genesis, validators }
  })

/**
 * Why the devnet in `dir`, created on chain `was` (undefined: a file older than the record), cannot
 * resume on chain `now`, or undefined when it can. Hardhat's in-process chain keeps no state between
 * runs (EDR has no state dump or load: NomicFoundation/edr#409): a resume would deploy empty contracts
 * under the blocks the stores hold, whose committee snapshots they lack; and a chain-less devnet's
 * blocks name its nodes' own ledgers' snapshots, which no chain has.
 */
export const resumeRefusal = (dir: string, was: DevnetFile["chain"], now: "in-process" | "rpc" | "none"): string | undefined => {
  const gone = "Hardhat's in-process chain keeps no state between runs (its contracts and committee snapshots are gone with it)"
  if (was === "in-process") {
    return `${dir} holds a devnet whose chain ran in process, and ${gone}, so it cannot resume: start a fresh --dir, with --rpc URL to a persistent chain node to keep the chain, or --no-chain`
  }
  if (was === undefined && now === "in-process") {
    return `${dir} holds a devnet that does not record its chain, and ${gone}: resume it with --no-chain or --rpc URL as it ran, or start a fresh --dir`
  }
  if (was === "none" && now !== "none") return `${dir} holds a devnet that ran without a chain (each node's ledger is its own, kept in its store): resume it with --no-chain`
  if (was === "rpc" && now !== "rpc") return `${dir} holds a devnet whose ledger is its chain node: resume it with --rpc URL (the same node)`
  return undefined
}

/** Create (or resume) the devnet in `options.dir` and start it. */
export const startDevnet = async (options: DevnetOptions): Promise<Devnet> => {
  const dir = resolve(options.dir)
  const log = options.log ?? (() => {})
  const existingFile = readDevnetFile(dir)
  const existing = existingFile?.nodes
  if (existing !== undefined && options.nodes !== undefined && options.nodes !== existing) {
    throw new Error(`${dir} holds a devnet of ${existing} nodes, not ${options.nodes}; leave out --nodes to resume it, or choose another --dir`)
  }
  if (existing === undefined && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new Error(`${dir} exists, is not empty and holds no devnet (${DEVNET_FILE}); choose an empty or new --dir`)
  }
  const chainKind = options.chain ?? { kind: "in-process" }
  if (existing !== undefined) {
    const refusal = resumeRefusal(dir, existingFile!.chain, chainKind.kind)
    if (refusal !== undefined) throw new Error(refusal)
  }
  const n = existing ?? options.nodes ?? 4
  const constitution = withValues(constitutionOf(existingFile), options.governance ?? {})
  if (existing === undefined) {
    await createDevnetDirs({
      dir, nodes: n, constitution, chain: chainKind.kind, ...(options.params === undefined ? {} : { params: options.params }), ...(chainKind.kind === "rpc" ? { rpc: chainKind.url } : {}),
    })
    log(`created ${n} node data dirs in ${dir}`)
  } else {
    log(`resuming the devnet of ${n} nodes in ${dir}`)
  }

  let chain: DevnetChain | undefined
  if (chainKind.kind !== "none") {
    // The contracts take the network's parameters, chain id and validators from its genesis.
    const validators = await Effect.runPromise(Effect.result(genesisValidators(dir, n)))
    if (Result.isFailure(validators)) throw new Error(describeStartError(validators.failure))
    const { genesis } = validators.success
    // A resumed devnet on a chain node keeps the contracts it deployed there (deploying again would put empty ones under its blocks).
    const deployed = existing !== undefined && chainKind.kind === "rpc" ? await readDeployment(join(dir, "deployment.json")) : undefined
    if (deployed !== undefined && Result.isFailure(deployed)) throw new Error(`${join(dir, "deployment.json")}: ${deployed.failure.message}; the devnet cannot resume without the contracts it deployed`)
    log(deployed !== undefined ? `using the devnet's contracts on ${chainKind.kind === "rpc" ? chainKind.url : ""}` : chainKind.kind === "rpc" ? `deploying the contracts to ${chainKind.url}` : "starting Hardhat's in-process chain and deploying the contracts")
    chain = await startDevnetChain({
      ...(chainKind.kind === "rpc" ? { rpc: chainKind.url } : {}), params: genesis.params, consensusChainId: genesis.chainId, validators: validators.success.validators,
      constitution, ...(deployed === undefined ? {} : { deployed: deployed.success }),
    })
    for (const v of validators.success.validators) v.privateKey.fill(0)
    writeFileSync(join(dir, "deployment.json"), `${JSON.stringify(chain.deployment, null, 2)}\n`)
    log(`contracts deployed (${chain.network}): token ${chain.deployment.contracts.DAIToken}, staking ${chain.deployment.contracts.Staking}`)
    for (const line of describeConstitution(constitution)) log(line)
    log(`validators registered on Staking: ${genesis.validators.map((v) => `${v.operator} ${formatTokens(v.amount, 0)} DAI`).join(", ")}`)
  }

  // The language model's stages on node1..node<stages> (they register for a block range, not infer:<dataset>).
  let lmStages: DevnetLmStage[] | undefined
  if (options.lm !== undefined && chain === undefined) log("language model off: without a chain every node's ledger is its own (the stages' escrow needs one ledger)")
  else if (options.lm !== undefined && n < 2) log("language model off: node0 generates, so the stages need node1 at least (--nodes 2 or more)")
  else if (options.lm !== undefined) {
    const { DEFAULT_CHECKPOINT_DIR, readCheckpointConfig } = await import("../adapters/tfjs/lm/checkpoint.ts")
    const { splitBlocks } = await import("./lm-devnet.ts")
    const blocks = readCheckpointConfig(DEFAULT_CHECKPOINT_DIR).model.blocks
    const stages = Math.max(1, Math.min(options.lm.stages ?? DEVNET_LM.stages, blocks, n - 1))
    lmStages = splitBlocks(blocks, stages).map(([from, to], i) => ({ node: `node${i + 1}`, from, to, pricePerToken: BigInt(i + 1) * tokens(DEVNET_LM.price) }))
    log(`language model: ${lmStages.map((s) => `${s.node} serves blocks ${s.from}-${s.to} at ${formatTokens(s.pricePerToken, 4)} DAI per token`).join(", ")}; node0's API generates (POST /generate)`)
  }
  const lmServe = async (i: number) => {
    const s = lmStages?.[i - 1]
    if (s === undefined) return undefined
    const { genesis } = await Effect.runPromise(readDataDir(nodeDir(dir, 0)))
    const minimum = BigInt(Math.ceil(Number(genesis.params["market.minProviderBond"]))) * TOKEN
    const bond = tokens(String(DEVNET_LM.bond)) > minimum ? tokens(String(DEVNET_LM.bond)) : minimum
    return { from: s.from, to: s.to, bond, pricePerToken: s.pricePerToken, capacity: DEVNET_LM.capacity }
  }
  const serving = (i: number) => lmStages?.[i - 1] !== undefined

  // The market's roles: node 0 requests, the others provide (node 0 does both when alone), but not the language model's stage nodes.
  let market: ((i: number) => NodeMarketOptions) | undefined
  if (options.market === true && chain === undefined) log("market off: without a chain every node's ledger is its own")
  else if (options.market === true) {
    const { genesis } = await Effect.runPromise(readDataDir(nodeDir(dir, 0)))
    const minimum = BigInt(Math.ceil(Number(genesis.params["market.minProviderBond"]))) * TOKEN
    const bond = tokens(String(DEVNET_MARKET.bond)) > minimum ? tokens(String(DEVNET_MARKET.bond)) : minimum
    const m = DEVNET_MARKET
    // One job at a time: each is five transactions (approve, post, assign, deliver, confirm) on a chain a loaded machine makes slow.
    const requester = { units: m.units, maxPricePerUnit: tokens(m.maxPrice), interval: m.interval, deadline: m.deadline, maxRunning: 1 }
    // A bond of all a node holds beyond its stake (an older devnet's 1000 DAI minimum) leaves no provider.
    const provider = { bond, pricePerUnit: tokens(m.price), capacity: m.capacity, chunk: m.chunk }
    const providers = Array.from({ length: n }, (_, i) => i).filter((i) => bond <= 900n * TOKEN && (i > 0 || n === 1) && !serving(i))
    // With every other node serving the language model, jobs nobody can take would only wait for their deadline.
    const posting = providers.length > 0 || lmStages === undefined
    market = (i) => ({ ...(i === 0 && posting ? { requester } : {}), ...(providers.includes(i) ? { provider } : {}) })
    log(providers.length > 0
      ? `market: ${providers.length === 1 ? `node${providers[0]} provides` : `node${providers[0]}..node${providers.at(-1)} provide`} infer:${genesis.params["training.dataset"]} at ${m.price} DAI per unit (bond ${formatTokens(bond, 0)} DAI); node0 posts a job of ${m.units} units every ${m.interval / 1000}s`
      : bond > 900n * TOKEN
        ? `market: no provider (market.minProviderBond ${formatTokens(minimum, 0)} DAI is more than a devnet node holds beyond its stake); node0 posts jobs`
        : "market: no infer provider (every node but node0 serves the language model); node0 posts no job")
  }

  const scopes = Array.from({ length: n }, () => Scope.makeUnsafe())
  const closeAll = async () => {
    // Nodes in parallel (each stops consensus, then its store, then libp2p), then the chain they read.
    await Promise.all(scopes.map((s) => Effect.runPromise(Scope.close(s, Exit.void))))
    await chain?.close()
  }
  const serves = await Promise.all(scopes.map((_, i) => lmServe(i)))
  const started = await Promise.all(scopes.map((scope, i) =>
    Effect.runPromise(Effect.result(startNodeFromDataDir({
      dataDir: nodeDir(dir, i),
      password: readFileSync(join(nodeDir(dir, i), "password"), "utf8").split("\n")[0]!,
      ...(chainKind.kind === "in-process" && chain !== undefined ? { chain: { provider: chain.provider, deployment: chain.deployment } } : {}),
      ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
      awaitPeers: n - 1,
      ...(options.training === undefined ? {} : { training: options.training }),
      ...(market === undefined ? {} : { market: market(i) }),
      ...(serves[i] === undefined ? {} : { lm: { serve: serves[i] } }),
      awaitPeersMs: 20_000,
    }).pipe(Scope.provide(scope))))))
  const failed = started.findIndex((r) => Result.isFailure(r))
  if (failed >= 0) {
    await closeAll()
    const r = started[failed]!
    throw new Error(`node${failed}: ${Result.isFailure(r) ? describeStartError(r.failure) : ""}`)
  }
  const nodes = started.map((r) => (r as Result.Success<RunningNode, never>).success)
  log(`${n} nodes running on 127.0.0.1 (node0 ${nodes[0]!.peerId})`)
  const training = nodes[0]!.training
  log(training === undefined ? "training off" : `training: every node on its own ${training.description.replace(/ shard 1\//, " shard of ")}`)
  if (lmStages !== undefined) log(await awaitLmStages(nodes, lmStages))
  const api = nodes[0]!.apiServer
  const apiFile = join(dir, DEVNET_API_FILE)
  if (api !== undefined) writeFileSync(apiFile, `${JSON.stringify({ url: api.url, tokenFile: resolvePath(nodes[0]!.dataDir, nodes[0]!.config.api.tokenFile) }, null, 2)}\n`)
  const close = async () => {
    rmSync(apiFile, { force: true })
    await closeAll()
  }
  return { dir, nodes, chain, constitution, resumed: existing !== undefined, market: market !== undefined, lm: lmStages, close }
}

/**
 * Wait (at most LM_READY_MS) until every stage node serves its range — its registration is a
 * transaction — and node0 finds each range's announcement; says which, or what is missing.
 */
const awaitLmStages = async (nodes: readonly RunningNode[], stages: readonly DevnetLmStage[]): Promise<string> => {
  const LM_READY_MS = 90_000
  const until = Date.now() + LM_READY_MS
  const client = nodes[0]!.transport.network
  const missing = async () => {
    const out: string[] = []
    for (const [i, s] of stages.entries()) {
      const server = nodes[i + 1]?.lm
      if (server === undefined || !server.served().some((r) => r.from === s.from && r.to === s.to)) {
        out.push(`${s.node} does not serve blocks ${s.from}-${s.to}`)
        continue
      }
      const found = await Effect.runPromise(Effect.orElseSucceed(client.findProviders(lmBlocksKey(s.from, s.to)), () => []))
      if (found.length === 0) out.push(`node0 does not find blocks ${s.from}-${s.to}`)
    }
    return out
  }
  for (;;) {
    const left = await missing()
    if (left.length === 0) return `language model ready: ${stages.map((s) => `blocks ${s.from}-${s.to} on ${s.node}`).join(", ")}`
    if (Date.now() > until) return `language model not ready after ${LM_READY_MS / 1000}s (${left.join("; ")}): generations fail until it is (a stage node registered for another kind serves none)`
    await new Promise((r) => setTimeout(r, 500))
  }
}
