/**
 * A real validator node, assembled: its keys from a private key, its durable state in a sqlite
 * file, the wall clock, effects run as fibers, and consensus over whatever Network it is given
 * (libp2p for a real node), and the ledger it is given (the Chain port: the contracts through the
 * EVM adapter) — or, without one, an in-memory ledger of its own built from the genesis (a network
 * of one, a test): runtime/services/memory-chain.ts, the simulator's ledger. Either way the App's
 * snapshots, the epoch reports, the double-sign evidence and the stake go through that one port.
 * The counterpart of the simulator's `ConsensusWorld.start`; integration
 * tests and the `dai node` command build nodes through it.
 *
 * Everything it opens belongs to the caller's scope. Closing the scope stops consensus, interrupts
 * the node's effects still running, then commits and closes the store — in that order, so nothing
 * writes to a closed store.
 */
import { type Cause, Context, Effect, Layer, Result, Schema, type Scope } from "effect"
import { makeFiberRunner, wallClock, wallNow } from "../adapters/clock.ts"
import { layerKeysFromPrivateKey } from "../adapters/keys.ts"
import { layerSqliteStore } from "../adapters/sqlite-store.ts"
import { App, GENESIS_SNAPSHOT, type AppGenesis } from "../core/app/app.ts"
import { ledgerAtGenesis } from "../core/app/ledger-genesis.ts"
import type { Chain } from "../services/chain.ts"
import { committeeCache, type SnapshotAbsent } from "../services/committee-cache.ts"
import { makeMemoryChain, type MemoryChain } from "../services/memory-chain.ts"
import { genesisTag, persistLedger, pinnableClock, type LedgerLogInvalid } from "../services/ledger-log.ts"
import { withReceipts } from "../services/receipt-feed.ts"
import { startEpochReports } from "../actors/committee/report.ts"
import { startEvidenceReporter, type EvidenceReporter } from "../actors/evidence/evidence-reporter.ts"
import { Keys, type KeysError } from "../services/keys.ts"
import { Network } from "../services/network.ts"
import { Store, type StoreError } from "../services/store.ts"
import { Telemetry } from "../services/telemetry.ts"
import { recoverApp, startConsensus, type ConsensusNode, type ConsensusOptions } from "../actors/consensus/consensus-node.ts"
import { makeNodeContext, type NodeContext } from "../actors/context.ts"
import { startStaking, type StakeActors } from "../actors/staking/stake-actors.ts"
import { startSync } from "../actors/sync/block-sync.ts"
import { cryptoRandom } from "../adapters/random.ts"

/** The genesis could not be turned into an application state. */
export class GenesisError extends Schema.TaggedError<GenesisError>()("GenesisError", {
  reason: Schema.String,
}) {}

export interface RealNodeOptions {
  /** Name in telemetry ("v0"). */
  readonly name: string
  readonly genesis: AppGenesis
  /** This validator's secp256k1 signing key (32 bytes). */
  readonly privateKey: Uint8Array
  /** The sqlite file of the node's durable state (created with its directory if missing). */
  readonly storePath: string
  /** Sees every failure of a node effect (default: logged). */
  readonly onFailure?: (cause: Cause.Cause<unknown>) => void
  /** Re-send own latest messages this often (default: consensus.timeoutPropose). */
  readonly resendEvery?: ConsensusOptions["resendEvery"]
  /** Consensus halted: a decided block did not execute (the reason names the height). */
  readonly onHalt?: (reason: string) => void
  /** This node's own judgement of proposals beyond the App's rules (training's accuracy re-check). */
  readonly precheck?: ConsensusOptions["precheck"]
  /**
   * The one ledger (default: an in-memory ledger of this node's own, from the genesis). Its
   * snapshot 1 must be the genesis's set (`GENESIS_SNAPSHOT`).
   */
  readonly ledger?: Chain["Service"]
}

export interface RealNode {
  /** What the node's actors run on (features started later, such as training, take it too). */
  readonly ctx: NodeContext
  readonly consensus: ConsensusNode
  /** The operator's stake positions, each followed by a staking machine. */
  readonly stake: StakeActors
  /** The node's application replica (rebuilt from its store at start). */
  readonly app: App
  readonly keys: Keys["Service"]
  readonly store: Store["Service"]
  /** The ledger the node reads and writes (told to its receipt feed). */
  readonly ledger: Chain["Service"]
  /** The in-memory ledger the node keeps when it was given none. */
  readonly ownLedger: MemoryChain | undefined
  /** Double-sign evidence this node holds, settled on the ledger (`slashDoubleSign`). */
  readonly evidence: EvidenceReporter
}

/**
 * Start a validator over the Network and Telemetry in context: open its store, rebuild its app from
 * the certificates stored there (a restart resumes where it stopped), build its NodeContext over the
 * real ports (wall clock, fibers, crypto randomness), and start its staking followers, block sync and consensus.
 */
export const startRealNode = Effect.fn("startRealNode")(function*(
  options: RealNodeOptions,
): Effect.fn.Return<RealNode, StoreError | KeysError | GenesisError | SnapshotAbsent | LedgerLogInvalid, Network | Telemetry | Scope.Scope> {
  // The real backends of the ports, composed from the adapters' layers and held by the caller's scope
  // (the store commits and closes when it ends).
  const backends = yield* Layer.build(Layer.mergeAll(layerKeysFromPrivateKey(options.privateKey), layerSqliteStore(options.storePath)))
  const keys = Context.get(backends, Keys)
  const store = Context.get(backends, Store)
  const runner = makeFiberRunner(options.onFailure)
  // Added after the store: runs before the store is closed.
  yield* Effect.addFinalizer(() => runner.interruptAll)
  let ledger: Chain["Service"]
  let receipts: NodeContext["receipts"]
  let ownLedger: MemoryChain | undefined
  if (options.ledger === undefined) {
    const own = ledgerAtGenesis(options.genesis)
    if (Result.isFailure(own)) return yield* new GenesisError({ reason: own.failure })
    const economy = own.success
    // The wall clock, never before the ledger's own (a genesis time ahead of this machine's clock, a
    // clock set back); pinned to each operation's recorded time while the stored log is replayed.
    const clock = pinnableClock(() => Math.max(wallNow(), economy.now))
    const fresh = makeMemoryChain(economy, clock.now, undefined, { consensusChainId: options.genesis.chainId, verify: keys.verify })
    // Kept in the store: rebuilt from the log of what it accepted before recoverApp replays the blocks that name its snapshots.
    const { chainId, params, allocations, validators, time, rewardReserve, contributors } = options.genesis
    ownLedger = yield* persistLedger(fresh, {
      store, file: options.storePath, clock, genesis: genesisTag({ chainId, params, allocations, validators, time, rewardReserve, contributors }),
    })
    ledger = ownLedger
    receipts = ownLedger.receipts
  } else {
    // A ledger this node only reads: it hears the receipts of what it submits itself.
    const told = withReceipts(options.ledger)
    ledger = told.chain
    receipts = told.receipts
  }
  const committees = committeeCache(ledger)
  const loaded = yield* Effect.orElseSucceed(committees.load(GENESIS_SNAPSHOT), () => false)
  if (!loaded) return yield* new GenesisError({ reason: `the ledger has no genesis snapshot (${GENESIS_SNAPSHOT}): take it (Committee.snapshot) once every genesis validator is registered on Staking` })
  // The ledger's snapshot 1 is the genesis's set: every genesis validator in it with its signing key.
  const first = committees.committee(GENESIS_SNAPSHOT)!
  const absent = options.genesis.validators.filter((v) => !first.validators.some((m) => m.signingKey === v.address.toLowerCase()))
  if (absent.length > 0) {
    return yield* new GenesisError({
      reason: `the ledger's genesis snapshot (${GENESIS_SNAPSHOT}) does not hold genesis validator${absent.length > 1 ? "s" : ""} ${absent.map((v) => `${v.operator} (${v.address})`).join(", ")}: it was taken before they registered on Staking, or for another network`,
    })
  }
  const genesis = yield* Effect.try({
    try: () => App.genesis(options.genesis, keys.verify, committees),
    catch: (e) => new GenesisError({ reason: e instanceof Error ? e.message : String(e) }),
  })
  const app = yield* recoverApp(genesis, store, committees)
  const ctx = makeNodeContext({
    name: options.name, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom,
    network: yield* Network, store, keys, telemetry: yield* Telemetry, ledger, receipts,
  }, app, committees)
  const stake = yield* Effect.acquireRelease(Effect.sync(() => startStaking(ctx)), (s) => Effect.sync(() => s.stop()))
  const sync = yield* Effect.acquireRelease(startSync(ctx), (s) => Effect.sync(() => s.stop()))
  yield* Effect.acquireRelease(startEpochReports(ctx), (r) => Effect.sync(() => r.stop()))
  // Every double sign this node holds goes to the ledger's slashDoubleSign, sent (and paid for on a
  // chain) from its own account; started with consensus, so that no executed block goes unread.
  const evidence = yield* Effect.acquireRelease(
    Effect.sync(() => startEvidenceReporter(ctx, { chain: ledger, submitter: keys.address.toLowerCase() })),
    (r) => Effect.sync(() => r.stop()),
  )
  // The ledger's slashes, in this node's telemetry (the TUI's validator table and log).
  yield* Effect.acquireRelease(Effect.sync(() => receipts((r) => {
    if (r.type === "slash") ctx.emit("stake.slashed", { pool: r.pool, infraction: r.infraction, amount: r.totalSlashed, tombstoned: r.tombstoned })
  })), (stop) => Effect.sync(stop))
  const consensus = yield* Effect.acquireRelease(
    startConsensus(ctx, {
      sync,
      ...(options.resendEvery === undefined ? {} : { resendEvery: options.resendEvery }),
      ...(options.onHalt === undefined ? {} : { onHalt: options.onHalt }),
      ...(options.precheck === undefined ? {} : { precheck: options.precheck }),
    }),
    (node) => Effect.sync(() => node.stop()),
  )
  return { ctx, consensus, stake, app, keys, store, ledger, ownLedger, evidence }
})
