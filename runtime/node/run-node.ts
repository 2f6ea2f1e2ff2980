/**
 * `dai node start`, as a function: open a data dir and run its node — the keystore unlocked, the
 * libp2p node with its persisted identity (bootstrap peers + DHT discovery), the sqlite store with
 * slashing protection, consensus over them (with a staking machine per position of the operator),
 * the EVM chain when configured (with a governance machine per proposal, and the double-sign evidence
 * the node holds settled on Staking), training, telemetry to a hub.
 * The devnet starts its nodes through the same function, so what it tests is what operators run.
 *
 * Everything belongs to the caller's scope; closing it shuts the node down in reverse order:
 * consensus stops, its effects are interrupted, the store commits and closes, libp2p stops.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { type Cause, Context, Effect, Layer, Result, Schema, type Scope } from "effect"
import type { Provider } from "ethers"
import { decodePeerKey, layerLibp2pNetwork, Libp2pTransport, type Libp2pNetwork } from "../adapters/libp2p/index.ts"
import { unlockKeystoreFile, type KeystoreError } from "../adapters/keystore.ts"
import type { EvmChain } from "../adapters/evm/chain.ts"
import type { Deployment } from "../adapters/evm/deployment.ts"
import type { AppGenesis } from "../core/app/app.ts"
import { addressOfPrivateKey } from "../core/crypto.ts"
import { ChainUnavailable } from "../services/chain.ts"
import type { SnapshotAbsent } from "../services/committee-cache.ts"
import type { LedgerLogInvalid } from "../services/ledger-log.ts"
import type { KeysError } from "../services/keys.ts"
import { Network, type NetworkError } from "../services/network.ts"
import type { StoreError } from "../services/store.ts"
import { Telemetry } from "../services/telemetry.ts"
import { CONFIG_FILE, readConfig, resolvePath, type ConfigInvalid, type NodeConfig } from "./config.ts"
import { DataDirError } from "./data-dir.ts"
import { readGenesis, type GenesisInvalid } from "./genesis-file.ts"
import type { ProposalCheck } from "../actors/consensus/consensus-node.ts"
import { startRealNode, type GenesisError, type RealNode } from "./real-world.ts"
import { connectNodeChain, type NodeChainError } from "./node-chain.ts"
import { ensureGenesisRegistration, type GenesisRegistrationError } from "./genesis-registration.ts"
import { startGovernance, type GovernanceFollower } from "../actors/governance/governance-report.ts"
import type { EvidenceReporter } from "../actors/evidence/evidence-reporter.ts"
import { wallNow } from "../adapters/clock.ts"
import { makeAppNodeApi } from "../api/app-node-api.ts"
import { governanceOverChain, reportingVotes } from "../api/governance-port.ts"
import type { NodeApi } from "../api/node-api.ts"
import { startApiServer, type ApiServer } from "../api/server.ts"
import { makeTelemetryHub, type TelemetryHub } from "../api/telemetry-hub.ts"
import { TrainerError } from "../services/trainer.ts"
import { startNodeTraining, type NodeTrainingOptions, type StartedTraining } from "./training/start.ts"
import { startNodeMarket, type NodeMarket, type NodeMarketOptions } from "./market.ts"
import { startNodeLm, type NodeLmOptions } from "./lm.ts"
import type { LmService } from "../actors/lm/service.ts"
import { withGenerate } from "../api/generate-api.ts"

export interface NodeStartOptions {
  readonly dataDir: string
  readonly password: string
  /** Extra bootstrap peers besides the config's (the devnet passes node 0's address). */
  readonly bootstrap?: readonly string[]
  /** Replace the config's listen addresses (the devnet: loopback, OS-chosen ports). */
  readonly listen?: readonly string[]
  /** The EVM chain as a provider and deployment, instead of the config's rpc (the devnet's in-process chain). */
  readonly chain?: { readonly provider: Provider; readonly deployment: Deployment }
  /** Sees every failure of a node effect (default: logged). */
  readonly onFailure?: (cause: Cause.Cause<unknown>) => void
  /** Before consensus starts: wait until this many peers subscribe to the consensus topic (default 0). */
  readonly awaitPeers?: number
  /** How long to wait for them (default 30 s): past it, start anyway (the node re-sends its votes). */
  readonly awaitPeersMs?: number
  /** Serve the API (default: config.yaml's api.enabled). */
  readonly api?: boolean
  /** Federated training on the node's shard (default: on; runtime/node/training/start.ts). */
  readonly training?: NodeTrainingOptions
  /**
   * The compute market (runtime/node/market.ts; default on): a validator referees, a registered
   * provider serves; `provider` / `requester` register and post from the node's account (the devnet).
   */
  readonly market?: NodeMarketOptions & { readonly enabled?: boolean }
  /** The language model (runtime/node/lm.ts; default on with the market): serves the ranges its account is registered for, and POST /generate. */
  readonly lm?: NodeLmOptions & { readonly enabled?: boolean }
  /** Stops the wait for the genesis validators' registration (default: this process's SIGINT/SIGTERM during the wait). */
  readonly stop?: AbortSignal
}

/** A node running from its data dir. */
export interface RunningNode {
  readonly name: string
  readonly dataDir: string
  readonly config: NodeConfig
  readonly genesis: AppGenesis
  /** The validator's signing address. */
  readonly address: string
  readonly peerId: string
  readonly node: RealNode
  readonly transport: Libp2pNetwork
  readonly telemetry: TelemetryHub
  /** The EVM chain, when configured. */
  readonly chain: EvmChain | undefined
  /** The node's API (what the REST server serves, and what the TUI's actions call). */
  readonly api: NodeApi
  /** The REST + WebSocket server, when enabled. */
  readonly apiServer: ApiServer | undefined
  /** Height, consensus round and connected peers now. */
  status(): Effect.Effect<NodeStatus>
  /** Training rounds, unless turned off. */
  readonly training: StartedTraining | undefined
  /** The chain's proposals, each followed by a governance machine (when the node has a chain). */
  readonly governance: GovernanceFollower | undefined
  /** Double-sign evidence this node holds, settled on the ledger (Staking when the node has a chain). */
  readonly evidence: EvidenceReporter
  /** The node's market actors (referee, provider, requester), unless turned off. */
  readonly market: NodeMarket | undefined
  /** The language-model service (stage servers, paid generations), unless turned off. */
  readonly lm: LmService | undefined
  /**
   * Settles with the reason if consensus halts (a decided block did not execute; the reason names
   * the height); never settles while the node runs. The node's owner stops it and exits non-zero.
   */
  readonly halted: Promise<string>
}

export interface NodeStatus {
  readonly height: number
  readonly round: number
  readonly peers: number
}

export type NodeStartError = SnapshotAbsent | LedgerLogInvalid | GenesisRegistrationError | TrainerError | ConfigInvalid | GenesisInvalid | KeystoreError | DataDirError | NetworkError | StoreError | KeysError | GenesisError | NodeChainError | ChainUnavailable

/** The API server could not start (port taken, token file missing). */
export class ApiStartError extends Schema.TaggedError<ApiStartError>()("ApiStartError", {
  reason: Schema.String,
}) {
  override get message() {
    return `api: ${this.reason}`
  }
}

const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> => (Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure))

/** An AbortSignal aborted by this process's SIGINT or SIGTERM, until released (the listeners removed). */
const stopOnSignals = (): { readonly signal: AbortSignal; readonly release: () => void } => {
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal)
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  return {
    signal: controller.signal,
    release: () => {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
    },
  }
}

const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || host.startsWith("127.")

/** Read the data dir's identity (config, genesis, peer key); no key is unlocked, nothing is started. */
export const readDataDir = (dataDir: string) =>
  Effect.gen(function*() {
    const config = yield* fromResult(readConfig(join(dataDir, CONFIG_FILE)))
    const genesis = yield* fromResult(readGenesis(resolvePath(dataDir, config.paths.genesis)))
    const peerKeyPath = resolvePath(dataDir, config.paths.peerKey)
    const peerKey = yield* Effect.try({
      try: () => decodePeerKey(readFileSync(peerKeyPath)),
      catch: (e) => new DataDirError({ path: peerKeyPath, reason: `not a libp2p key file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }),
    })
    return { config, genesis, peerKey }
  })

/** Open the data dir and run its node in the caller's scope. */
export const startNodeFromDataDir = Effect.fn("startNodeFromDataDir")(function*(
  options: NodeStartOptions,
): Effect.fn.Return<RunningNode, NodeStartError | ApiStartError, Scope.Scope> {
  const { dataDir } = options
  const { config, genesis, peerKey } = yield* readDataDir(dataDir)
  const privateKey = yield* unlockKeystoreFile(resolvePath(dataDir, config.paths.keystore), options.password)
  const hub = makeTelemetryHub()
  const name = config.name
  const emit = (kind: string, data: Record<string, unknown>) => Effect.runFork(hub.telemetry.emit({ at: Date.now(), node: name, kind, data }))

  // The Network port over libp2p, from the adapter's layer, held (started, then stopped) by this scope.
  const transport = Context.get(yield* Layer.build(layerLibp2pNetwork({
    listen: options.listen ?? config.network.listen,
    bootstrap: [...config.network.bootstrap, ...(options.bootstrap ?? [])],
    privateKey: peerKey,
    protocolPrefix: config.network.protocolPrefix,
    dhtAddresses: config.network.dhtAddresses,
    onDrop: (reason, from, detail) => void emit("net.dropped", { reason, from, detail }),
  })), Libp2pTransport)
  const chain = yield* connectNodeChain({ config, dataDir, genesis, privateKey, ...(options.chain === undefined ? {} : { given: options.chain }) })

  if ((options.awaitPeers ?? 0) > 0) {
    // Subscribe first (gossipsub announces subscriptions), then wait for the peers to do the same,
    // so that the first round's messages reach everyone. Past the wait, consensus starts anyway.
    const unsubscribe = yield* transport.network.subscribe("consensus", () => {})
    yield* Effect.ignore(transport.ready("consensus", options.awaitPeers!, options.awaitPeersMs ?? 30_000))
    yield* Effect.addFinalizer(() => unsubscribe)
  }
  let onHalt: (reason: string) => void = () => {}
  const halted = new Promise<string>((resolve) => (onHalt = resolve))
  // Training starts after consensus (it needs the node), but its accuracy re-check judges proposals:
  // consensus gets a check that forwards to training's once it exists, and admits everything before.
  let resultCheck: ProposalCheck | undefined
  const precheck: ProposalCheck = {
    judge: (block, verdict) => (resultCheck === undefined ? verdict(undefined) : resultCheck.judge(block, verdict)),
    admits: (tx) => resultCheck?.admits(tx) ?? true,
  }
  // The Committee's snapshot 1 is the genesis epoch's set, taken once every genesis validator is
  // registered on Staking: the devnet does it after its deploy; on a hand-made network each node does
  // it at its first start (genesis-registration.ts): registers itself, waits for the others, takes the
  // snapshot. With a chain, the committee always runs on the chain (the contracts are the one ledger).
  if (chain !== undefined) {
    const stop = options.stop === undefined ? stopOnSignals() : { signal: options.stop, release: () => {} }
    const say = (level: "info" | "warn", message: string) => {
      emit("log", { level, message })
      process.stderr.write(`${name} ${message}\n`)
    }
    const deploymentFile = config.chain.deployment === "" ? "FILE" : resolvePath(dataDir, config.chain.deployment)
    yield* ensureGenesisRegistration({
      chain, validators: genesis.validators, self: addressOfPrivateKey(privateKey), log: say, stop: stop.signal,
      gasBalance: (address) => Effect.tryPromise({
        try: () => chain.provider.getBalance(address),
        catch: (e) => new ChainUnavailable({ operation: "getBalance", reason: (e as Error).message }),
      }),
      fundHint: `dai chain fund --rpc ${config.chain.rpc === "" ? "URL" : config.chain.rpc} --deployment ${deploymentFile} --to ${dataDir}`,
    }).pipe(Effect.ensuring(Effect.sync(stop.release)))
  }
  const node = yield* startRealNode({
    name,
    precheck,
    onHalt: (reason) => onHalt(reason),
    genesis,
    privateKey,
    storePath: resolvePath(dataDir, config.paths.store),
    // With a chain, the committee runs on its contracts (Committee.sol's snapshots and reports,
    // Staking's slashes); without one, on the node's own in-memory ledger.
    ...(chain === undefined ? {} : { ledger: chain }),
    ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
  }).pipe(Effect.provideService(Network, transport.network), Effect.provideService(Telemetry, hub.telemetry))
  privateKey.fill(0) // the Keys port holds its own copy
  // Every double sign this node holds goes to the ledger's slashDoubleSign (Staking's on a chain): real-world.ts.
  const evidenceReporter: EvidenceReporter = node.evidence
  const training = options.training?.enabled === false
    ? undefined
    : yield* startNodeTraining({ name, genesis, node, emit, options: options.training ?? {} })
  resultCheck = training?.check
  // The market after training (its inference runs on the backend training selected), stopped before consensus and the store.
  const market = options.market?.enabled === false ? undefined : yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startNodeMarket({
        node, genesis, ...(options.market === undefined ? {} : { options: options.market }),
        // A validator referees the language model's paid stages on the checkpoint its LM serves (none when the LM is off).
        lm: options.lm?.enabled === false ? false : options.lm?.checkpoint === undefined ? {} : { checkpoint: options.lm.checkpoint },
      }),
      catch: (e) => new TrainerError({ operation: "market", reason: e instanceof Error ? e.message : String(e) }),
    }),
    (m) => Effect.sync(() => m.stop()),
  )

  const lm = market === undefined || options.lm?.enabled === false ? undefined : yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startNodeLm({ node, directory: market.directory, ...(options.lm === undefined ? {} : { options: options.lm }) }),
      catch: (e) => new TrainerError({ operation: "lm", reason: e instanceof Error ? e.message : String(e) }),
    }),
    (s) => Effect.sync(() => s.stop()),
  )

  const address = node.keys.address.toLowerCase()
  // Governance lives on the chain: the node's votes are reported, and every proposal is followed by
  // a governance machine on the wall clock (governance-report.ts).
  const governance = chain === undefined ? undefined : reportingVotes(governanceOverChain(chain), { name, address }, chain, emit)
  // Stake goes to the one ledger: the contracts when the node has a chain (so a stake made through the
  // API counts in the next governance vote), else the node's own in-memory ledger — the node's ledger
  // either way, whose receipts its staking followers hear.
  const appApi = makeAppNodeApi({
    name, app: node.app, consensus: node.consensus, keys: node.keys, store: node.store, network: transport.network, hub, ledger: node.ledger,
    // A job's deadline ("60s") counts from now, not from the last block (a stalled chain would make it past already).
    now: wallNow,
    ...(governance === undefined ? {} : { governance }),
    // Jobs posted through the API run through the node's requester (routed, checked, paid, settled).
    ...(market === undefined ? {} : { marketRequester: market.requester }),
  })
  // POST /generate runs on the node's LM service, paid from its account.
  const api = lm === undefined ? appApi : withGenerate(appApi, lm, node.app.accountOf(address))
  let governanceFollower: GovernanceFollower | undefined
  if (chain !== undefined) {
    const follower = governanceFollower = startGovernance(node.ctx, { chain })
    yield* Effect.addFinalizer(() => Effect.sync(() => follower.stop()))
  }
  let apiServer: ApiServer | undefined
  if (options.api ?? config.api.enabled) {
    const tokenPath = resolvePath(dataDir, config.api.tokenFile)
    const token = yield* Effect.try({
      try: () => readFileSync(tokenPath, "utf8").trim(),
      catch: (e) => new ApiStartError({ reason: `cannot read the token file ${tokenPath} (${(e as NodeJS.ErrnoException).code ?? String(e)})` }),
    })
    // Acquired last, so closed first: no request reaches a node whose consensus or store has stopped.
    apiServer = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => startApiServer({ api, token, host: config.api.host, port: config.api.port, protectReads: !isLoopback(config.api.host), allowedHosts: config.api.allowedHosts, maxConnections: config.api.maxConnections }),
        catch: (e) => new ApiStartError({ reason: `cannot listen on ${config.api.host}:${config.api.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }),
      }),
      (server) => Effect.promise(() => server.close().catch(() => undefined)),
    )
  }

  return {
    name, dataDir, config, genesis, chain, node, transport, api, apiServer, halted, training, governance: governanceFollower, evidence: evidenceReporter, market, lm,
    address,
    peerId: transport.network.self,
    telemetry: hub,
    status: () =>
      Effect.map(transport.network.peers, (peers) => ({
        height: node.app.height,
        round: node.consensus.actor.getSnapshot().context.round,
        peers: peers.length,
      })),
  }
})

/** The failure of a node start as one line for a person. */
export const describeStartError = (e: NodeStartError | ApiStartError): string => {
  switch (e._tag) {
    // Every network failure here happened while starting: `network: cannot listen on …: address in use`.
    case "NetworkError": return `network${e.operation === "start" ? "" : ` (${e.operation})`}: ${e.reason}`
    case "StoreError": return `store (${e.operation}${e.key === "" ? "" : ` ${e.key}`}): ${e.reason}`
    case "KeysError": return `signing key (${e.operation}): ${e.reason}`
    case "ChainUnavailable": return `EVM chain (${e.operation}): ${e.reason}`
    case "GenesisError": return `genesis: ${e.reason}`
    case "TrainerError": return `training (${e.operation}): ${e.reason}`
    default: return e.message
  }
}
