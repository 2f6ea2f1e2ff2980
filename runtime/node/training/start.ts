/**
 * Training for a node started from its data dir (run-node.ts): TensorFlow.js on the node's shard,
 * the rounds wired to its consensus, store, network and telemetry, and stopped with the node's
 * scope (before consensus and the store close).
 */
import { Effect, type Scope } from "effect"
import { makeFiberRunner } from "../../adapters/clock.ts"
import type { AppGenesis } from "../../core/app/app.ts"
import { TrainerError } from "../../services/trainer.ts"
import type { RealNode } from "../real-world.ts"
import { prepareLocalTraining } from "./local-data.ts"
import type { TfBackend } from "../../adapters/tfjs/backend.ts"
import { makeTrainerPool, type TrainerPool } from "../../adapters/tfjs/pool.ts"
import { startTraining, type TrainingNode } from "../../actors/training/training-node.ts"

/** How a node trains (`dai node start` / `dai devnet` flags). */
export interface NodeTrainingOptions {
  /** Default true. */
  readonly enabled?: boolean
  /** TensorFlow.js backend (`--backend`, else `$DAI_TF_BACKEND`, else the best available). */
  readonly backend?: string
  /** Samples of the node's shard it trains on (default DEFAULT_TRAIN_SAMPLES); the language model: windows per round (default LM_WINDOWS_PER_ROUND, 64). */
  readonly samples?: number
  /** Local updates in worker threads (true) or on the event loop (false); default TRAIN_IN_WORKERS. */
  readonly workers?: boolean
}

/**
 * Whether a node trains in worker threads unless told otherwise: yes, so that consensus timers and
 * libp2p keep running while it trains and a machine's cores are used (updates are bit-identical to
 * the in-thread path: runtime/adapters/tfjs/pool.test.ts).
 */
export const TRAIN_IN_WORKERS = true

/** The process's training pool, shared by its nodes (a devnet's too), closed when the last of them stops. */
let shared: { readonly pool: TrainerPool; users: number } | undefined

const acquirePool = (backend: TfBackend): TrainerPool => {
  shared ??= { pool: makeTrainerPool({ backend }), users: 0 }
  shared.users++
  return shared.pool
}

const releasePool = (pool: TrainerPool): Effect.Effect<void> =>
  Effect.promise(async () => {
    if (shared === undefined || shared.pool !== pool || --shared.users > 0) return
    shared = undefined
    await pool.close()
  })

/** Samples per node by default: McMahan et al.'s 600 per client, so a round costs each node about a second. */
export const DEFAULT_TRAIN_SAMPLES = 600

export interface StartedTraining extends TrainingNode {
  /** One line for the operator: backend, data set, model, shard. */
  readonly description: string
}

/** A node that does not train: it reports the rounds its chain commits, and `description` says why. */
const following = (node: RealNode, description: string): StartedTraining => ({
  description,
  stop: () => {},
  get committed() {
    return node.app.rounds().size
  },
  get accuracy() {
    const r = node.app.rounds().get(node.app.lastRound)
    return r === undefined ? undefined : r.accuracy / 1_000_000
  },
})

/** Start training on a running node; TrainerError when TensorFlow.js or the data set cannot start. */
export const startNodeTraining = (o: {
  readonly name: string
  readonly genesis: AppGenesis
  readonly node: RealNode
  readonly emit: (kind: string, data: Record<string, unknown>) => void
  readonly options: NodeTrainingOptions
}): Effect.Effect<StartedTraining, TrainerError, Scope.Scope> =>
  Effect.gen(function*() {
    const { node } = o
    const operator = node.app.operatorOf(node.keys.address.toLowerCase()) ?? o.name
    if (!o.genesis.validators.some((v) => v.operator === operator)) {
      // The data set is cut among the genesis validators only (local-data.ts): a node outside the
      // genesis has no shard, and trainers must be validators (roster.ts). It says so and runs on
      // (consensus, the API, the rounds the chain commits) instead of refusing to start.
      const dataset = o.genesis.params["training.dataset"]
      return following(node, `none: ${o.name} is not a genesis validator, so it holds no shard of ${dataset}; it follows the rounds the network commits`)
    }
    let pool: TrainerPool | undefined
    // Released with the node's scope, after training stops (finalizers run in reverse order).
    yield* Effect.addFinalizer(() => (pool === undefined ? Effect.void : releasePool(pool)))
    const local = yield* Effect.tryPromise({
      try: () => prepareLocalTraining({
        genesis: o.genesis, operator,
        // The language model's default (windows per round) is its own: prepareLocalTraining applies it.
        ...(o.options.samples === undefined && o.genesis.params["training.model"] === "gpt" ? {} : { samples: o.options.samples ?? DEFAULT_TRAIN_SAMPLES }),
        ...(o.options.backend === undefined ? {} : { backend: o.options.backend }),
        ...((o.options.workers ?? TRAIN_IN_WORKERS) ? { pool: (backend: TfBackend) => (pool = acquirePool(backend)) } : {}),
      }),
      catch: (e) => e instanceof TrainerError ? e : new TrainerError({ operation: "prepare", reason: e instanceof Error ? e.message : String(e) }),
    })
    const runner = makeFiberRunner((cause) => o.emit("node.error", { action: "training", error: String(cause) }))
    const training = yield* Effect.acquireRelease(
      // Its own runner, so that its effects still running are interrupted when training stops.
      Effect.sync(() => startTraining({ ...node.ctx, run: runner.run }, { local })),
      (t) => Effect.andThen(Effect.sync(() => t.stop()), runner.interruptAll),
    )
    const where = pool === undefined ? "on the event loop" : `in ${pool.threads} worker thread${pool.threads === 1 ? "" : "s"}`
    const description = `${local.dataset} shard ${local.shard.index + 1}/${local.shard.of} (${local.shard.samples} samples), model ${local.model}, TensorFlow.js backend ${local.backend}, updates ${where}`
    o.emit("training.started", { backend: local.backend, dataset: local.dataset, model: local.model, shard: local.shard.index, shards: local.shard.of, samples: local.shard.samples })
    const started: StartedTraining = {
      description,
      stop: () => training.stop(),
      get committed() {
        return training.committed
      },
      get accuracy() {
        return training.accuracy
      },
    }
    return started
  })
