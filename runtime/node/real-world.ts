/**
 * A real validator node, assembled: its keys from a private key, its durable state in a sqlite
 * file, the wall clock, effects run as fibers, and consensus over whatever Network it is given
 * (libp2p for a real node). The counterpart of the simulator's `ConsensusWorld.start`; integration
 * tests and the `dai node` command build nodes through it.
 *
 * Everything it opens belongs to the caller's scope. Closing the scope stops consensus, interrupts
 * the node's effects still running, then commits and closes the store — in that order, so nothing
 * writes to a closed store.
 */
import { type Cause, Effect, Schema, type Scope } from "effect"
import { makeFiberRunner, wallClock, wallNow } from "../adapters/clock.ts"
import { makeKeysFromPrivateKey } from "../adapters/keys.ts"
import { makeSqliteStore } from "../adapters/sqlite-store.ts"
import { App, type AppGenesis } from "../core/app/app.ts"
import { Keys, type KeysError } from "../services/keys.ts"
import { Network } from "../services/network.ts"
import { Store, type StoreError } from "../services/store.ts"
import { Telemetry } from "../services/telemetry.ts"
import { recoverApp, startConsensusNode, type ConsensusNode, type ConsensusNodeOptions } from "../actors/consensus/consensus-node.ts"

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
  readonly resendEvery?: ConsensusNodeOptions["resendEvery"]
  /** Consensus halted: a decided block did not execute (the reason names the height). */
  readonly onHalt?: (reason: string) => void
}

export interface RealNode {
  readonly consensus: ConsensusNode
  /** The node's application replica (rebuilt from its store at start). */
  readonly app: App
  readonly keys: Keys["Service"]
  readonly store: Store["Service"]
}

/**
 * Start a validator over the Network and Telemetry in context: open its store, rebuild its app from
 * the certificates stored there (a restart resumes where it stopped), run consensus.
 */
export const startRealNode = Effect.fn("startRealNode")(function*(
  options: RealNodeOptions,
): Effect.fn.Return<RealNode, StoreError | KeysError | GenesisError, Network | Telemetry | Scope.Scope> {
  const keys = yield* makeKeysFromPrivateKey(options.privateKey)
  const { store } = yield* makeSqliteStore(options.storePath)
  const runner = makeFiberRunner(options.onFailure)
  // Added after the store: runs before the store is closed.
  yield* Effect.addFinalizer(() => runner.interruptAll)
  const genesis = yield* Effect.try({
    try: () => App.genesis(options.genesis, keys.verify),
    catch: (e) => new GenesisError({ reason: e instanceof Error ? e.message : String(e) }),
  })
  const app = yield* recoverApp(genesis, store)
  const consensus = yield* Effect.acquireRelease(
    startConsensusNode({
      name: options.name,
      app,
      clock: wallClock,
      run: runner.run,
      now: wallNow,
      ...(options.resendEvery === undefined ? {} : { resendEvery: options.resendEvery }),
      ...(options.onHalt === undefined ? {} : { onHalt: options.onHalt }),
    }).pipe(Effect.provideService(Keys, keys), Effect.provideService(Store, store)),
    (node) => Effect.sync(() => node.stop()),
  )
  return { consensus, app, keys, store }
})
