/**
 * Local training off the event loop: a small pool of worker threads (tinypool), each with its own
 * TensorFlow.js backend and model variables (worker.ts), shared by every trainer of the process (a
 * devnet's nodes too), so consensus timers and libp2p run on while a node trains and the machine's
 * cores train side by side.
 *
 * Two kinds of trainer: the MNIST models' (`trainer`) and the language model's fine-tuning
 * (`lmTrainer`: a worker reads the checkpoint's config and frozen prefix once, then each round runs
 * the prefix over the round's windows and SGD on the tail, as lm/finetune.ts does in-thread).
 *
 * A trainer's shard is copied once into shared memory when the trainer is made; every worker keeps
 * a view of it. Per round only the weights travel: the caller's global weights are copied once into
 * a buffer that is transferred (the caller keeps its own), and the delta comes back transferred.
 * The math is the in-thread trainer's (trainer.ts, lm/finetune.ts), so on one backend the update is bit-identical.
 *
 * A worker that throws or dies fails that call with a TrainerError; tinypool starts a new worker
 * for the next one. `close` ends every thread (a node closes its pool when it stops).
 */
import { availableParallelism } from "node:os"
import { Effect } from "effect"
import Tinypool from "tinypool"
import type { Split } from "../data/dataset.ts"
import { type Evaluation, type LocalUpdate, type Trainer, TrainerError, type TrainSpec } from "../../services/trainer.ts"
import type { TfBackend } from "./backend.ts"
import { initialWeights } from "./model.ts"
import { checkData, type TfjsTrainerOptions } from "./trainer.ts"
import type { Windows } from "../../core/training/text-shards.ts"
import { checkLmTrainer, type LmTrainerOptions, type PrefixedWindows } from "./lm/finetune.ts"
import {
  TRAILER, trailerOffset, type EvaluateTask, type LmEvaluateTask, type LmTrainTask, type SharedPrefixed, type SharedSplit, type SharedWindows, type TrainTask,
} from "./worker.ts"

export interface TrainerPoolOptions {
  /** The backend every worker starts (as `selectBackend` returned it in the main thread). */
  readonly backend: TfBackend
  /** Worker threads (default: the machine's available parallelism). */
  readonly threads?: number
  /** Per-worker V8 limits (a worker past them dies, and its call fails with a TrainerError). */
  readonly resourceLimits?: { readonly maxOldGenerationSizeMb?: number; readonly maxYoungGenerationSizeMb?: number }
  /** A worker that died holding no call: told here, never thrown (default: ignored; the next call starts a fresh pool). */
  readonly onWorkerError?: (error: Error) => void
}

/** An update with the worker thread's CPU time for it (microseconds). */
export interface TimedUpdate extends LocalUpdate {
  readonly cpuMicros: number
}

/** A Trainer whose `train` runs in the pool, plus `trainTimed` for the bench. */
export type PooledTrainer = Trainer["Service"] & {
  trainTimed(global: Float32Array, spec: TrainSpec): Effect.Effect<TimedUpdate, TrainerError>
}

export interface TrainerPool {
  readonly backend: TfBackend
  readonly threads: number
  /** A Trainer on `options.data` whose train and evaluate run in the pool's workers. */
  trainer(options: Omit<TfjsTrainerOptions, "backend">): PooledTrainer
  /**
   * A fine-tuning Trainer of the language model (lm/finetune.ts `makeLmTrainer`'s options) whose train
   * and evaluate run in the pool's workers. `base` must be the checkpoint in `base.dir` as
   * `loadLmBase` reads it: each worker reads that directory itself, once.
   */
  lmTrainer(options: Omit<LmTrainerOptions, "backend">): PooledTrainer
  /** Ends every worker; calls in flight fail with TrainerError. Idempotent. */
  close(): Promise<void>
}

/** Copies a split into shared memory, once: workers read it where it lies. */
function share(s: Split): SharedSplit {
  const images = new SharedArrayBuffer(s.images.byteLength)
  new Float32Array(images).set(s.images)
  const labels = new SharedArrayBuffer(s.labels.byteLength)
  new Uint8Array(labels).set(s.labels)
  return { images, labels }
}

/** Copies a trainer's windows into shared memory, once. */
function shareWindows(w: Windows): SharedWindows {
  const inputs = new SharedArrayBuffer(w.inputs.byteLength)
  new Int32Array(inputs).set(w.inputs)
  const targets = new SharedArrayBuffer(w.targets.byteLength)
  new Int32Array(targets).set(w.targets)
  return { inputs, targets, count: w.count, window: w.window }
}

/** Copies evaluation windows (through the prefix) into shared memory, once. */
function sharePrefixed(w: PrefixedWindows): SharedPrefixed {
  const activations = new SharedArrayBuffer(w.activations.byteLength)
  new Float32Array(activations).set(w.activations)
  const targets = new SharedArrayBuffer(w.targets.byteLength)
  new Int32Array(targets).set(w.targets)
  return { activations, targets, count: w.count, window: w.window }
}

/** A train task's delta, with the trailer's figures read out of its buffer. */
const timed = (delta: Float32Array): TimedUpdate => {
  const [samples, loss, cpuMicros] = new Float64Array(delta.buffer, trailerOffset(delta.length), TRAILER) as unknown as [number, number, number]
  return { delta, samples, loss, cpuMicros }
}

const failure = (operation: string) => (e: unknown): TrainerError =>
  e instanceof TrainerError ? e : new TrainerError({ operation, reason: `worker: ${e instanceof Error ? e.message : String(e)}` })

/** The default pool size: one worker per core the process may use. */
export const defaultThreads = (): number => Math.max(1, availableParallelism())

/** Starts a pool of training workers (threads start with the first call and stay until `close`). */
export function makeTrainerPool(options: TrainerPoolOptions): TrainerPool {
  const threads = options.threads ?? defaultThreads()
  if (!Number.isSafeInteger(threads) || threads < 1) throw new TrainerError({ operation: "pool", reason: `threads must be an integer ≥ 1, got ${threads}` })
  let pool: Tinypool | undefined
  let closed = false
  let shards = 0
  const get = (): Tinypool => {
    if (closed) throw new TrainerError({ operation: "pool", reason: "the training pool is closed (the node is stopping)" })
    // Created on first use, with every thread kept for the pool's life: a worker's backend and shards are its warm state.
    if (pool !== undefined) return pool
    const p = new Tinypool({
      filename: new URL("./worker.ts", import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      // Workers inherit the process's flags; `--input-type` (a script given by -e) makes a worker refuse to start.
      execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    })
    // A worker that dies holding no call (idle, or while starting) is an 'error' event: unheard, it
    // would end the node; and tinypool then leaves queued calls waiting for ever. So the pool is
    // dropped (its calls in flight fail with TrainerError) and the next call starts a fresh one.
    p.on("error", (e: Error) => {
      if (pool === p) pool = undefined
      void p.destroy().catch(() => {})
      options.onWorkerError?.(e)
    })
    pool = p
    return p
  }
  const { backend } = options
  /**
   * A trainer whose updates and evaluations are jobs on the pool: `train` builds a job from a copy of
   * the global weights (moved to the worker, so the caller keeps its own), `evaluate` one from a copy
   * of the weights to measure.
   */
  const pooled = (
    initial: () => Float32Array,
    train: (global: Float32Array, spec: TrainSpec) => { readonly global: Float32Array },
    evaluate: (weights: Float32Array) => { readonly weights: Float32Array },
  ): PooledTrainer => {
    const trainTimed = (global: Float32Array, spec: TrainSpec): Effect.Effect<TimedUpdate, TrainerError> =>
      Effect.tryPromise({
        try: async () => {
          const task = train(global.slice(), spec)
          return timed((await get().run(task, { transferList: [task.global.buffer as ArrayBuffer] })) as Float32Array)
        },
        catch: failure("train"),
      })
    return {
      backend,
      initialWeights: Effect.sync(initial),
      trainTimed,
      train: (global, spec) => Effect.map(trainTimed(global, spec), ({ delta, samples, loss }): LocalUpdate => ({ delta, samples, loss })),
      evaluate: (weights) =>
        Effect.tryPromise({
          try: async () => {
            const task = evaluate(weights.slice())
            return (await get().run(task, { transferList: [task.weights.buffer as ArrayBuffer] })) as Evaluation
          },
          catch: failure("evaluate"),
        }),
    }
  }
  return {
    backend,
    threads,
    trainer: (o) => {
      checkData(o)
      const shard = ++shards
      const data = share(o.data)
      const test = o.test === undefined ? data : share(o.test)
      const init = initialWeights(o.model, o.modelSeed ?? o.seed)
      const base = { backend, model: o.model, shard, data, test }
      return pooled(
        () => init.slice(),
        (global, spec): TrainTask => ({ ...base, op: "train", seed: o.seed, global, spec }),
        (weights): EvaluateTask => ({ ...base, op: "evaluate", weights }),
      )
    },
    lmTrainer: (o) => {
      checkLmTrainer(o)
      const base = { backend, checkpoint: o.base.dir, shard: ++shards, data: shareWindows(o.data), ...(o.test === undefined ? {} : { test: sharePrefixed(o.test) }) }
      return pooled(
        () => o.base.initialTail.slice(),
        (global, spec): LmTrainTask => ({ ...base, op: "lm-train", seed: o.seed, perRound: o.perRound, global, spec }),
        (weights): LmEvaluateTask => ({ ...base, op: "lm-evaluate", weights }),
      )
    },
    close: async () => {
      closed = true
      const p = pool
      pool = undefined
      if (p !== undefined) await p.destroy()
    },
  }
}
