/**
 * A training worker of the pool (pool.ts): one worker thread, its own TensorFlow.js backend (set up
 * once, by its first task) and its own model variables, and the shards of every trainer that has
 * sent it a task. Two kinds of trainer: the MNIST models (trainer.ts; `train`, `evaluate`) and the
 * language model's fine-tuning (lm/finetune.ts; `lm-train`, `lm-evaluate`), for which the worker
 * reads the checkpoint's config and frozen weights once (the first task naming it) and keeps its own
 * tail variables; a task carries only the global weights, the round and the seed. A shard (images,
 * or text windows) arrives as SharedArrayBuffers (shared memory: never copied, neither into this
 * worker nor for the next task) and is kept by id; the global weights come transferred and the
 * update goes back transferred. The math is trainer.ts's (finetune.ts's `trainRound`), so an update
 * is bit-identical to the in-thread trainer's on the same backend.
 *
 * Loaded by tinypool (its default export is the task handler), run as TypeScript by Node itself.
 */
import Tinypool from "tinypool"
import type { Split } from "../data/dataset.ts"
import type { Windows } from "../../core/training/text-shards.ts"
import { type Evaluation, type LocalUpdate, TrainerError, type TrainSpec } from "../../services/trainer.ts"
import { selectBackend, type TfBackend } from "./backend.ts"
import { evaluateTail, loadLmBase, type PrefixedWindows, prefixWindows, trainRound } from "./lm/finetune.ts"
import type { ModelName } from "./model.ts"
import type { Seed } from "./rng.ts"
import { checkBackend, evaluateShared, trainShared } from "./trainer.ts"

/** A shard as it crosses threads: its samples in shared memory. */
export interface SharedSplit {
  readonly images: SharedArrayBuffer
  readonly labels: SharedArrayBuffer
}

interface TaskBase {
  readonly backend: TfBackend
  readonly model: ModelName
  /** The trainer's id in its pool: which shard this worker keeps for it. */
  readonly shard: number
  readonly data: SharedSplit
  readonly test: SharedSplit
}

export interface TrainTask extends TaskBase {
  readonly op: "train"
  readonly seed: Seed
  readonly global: Float32Array
  readonly spec: TrainSpec
}

export interface EvaluateTask extends TaskBase {
  readonly op: "evaluate"
  readonly weights: Float32Array
}

/** A fine-tuning trainer's text as it crosses threads: its windows in shared memory. */
export interface SharedWindows {
  readonly inputs: SharedArrayBuffer
  readonly targets: SharedArrayBuffer
  readonly count: number
  readonly window: number
}

/** Evaluation windows through the frozen prefix, in shared memory. */
export interface SharedPrefixed {
  readonly activations: SharedArrayBuffer
  readonly targets: SharedArrayBuffer
  readonly count: number
  readonly window: number
}

interface LmTaskBase {
  readonly backend: TfBackend
  /** The checkpoint the tail belongs to: this worker reads its config and frozen prefix once (lm/finetune.ts `loadLmBase`). */
  readonly checkpoint: string
  /** The trainer's id in its pool (shared with the MNIST trainers' ids): which windows this worker keeps for it. */
  readonly shard: number
  readonly data: SharedWindows
  /** The evaluation windows; without them, the trainer's own windows (through the prefix, once per worker). */
  readonly test?: SharedPrefixed
}

/** One round's local update of a language-model fine-tuning (lm/finetune.ts `trainRound`). */
export interface LmTrainTask extends LmTaskBase {
  readonly op: "lm-train"
  readonly seed: Seed
  readonly perRound: number
  readonly global: Float32Array
  readonly spec: TrainSpec
}

export interface LmEvaluateTask extends LmTaskBase {
  readonly op: "lm-evaluate"
  readonly weights: Float32Array
}

export type WorkerTask = TrainTask | EvaluateTask | LmTrainTask | LmEvaluateTask

/**
 * A train task's result is one Float32Array, moved (its buffer transferred) back to the pool: the
 * delta, and behind it — in the same buffer, past the view's end, 8-byte aligned — three float64s:
 * samples, loss and this worker's thread CPU microseconds for the task (for the bench). tinypool
 * moves only a transferable result, so the figures ride in the delta's buffer instead of a copy.
 */
export const TRAILER = 3

/** Where the trailer of a delta of `n` floats starts, in bytes. */
export const trailerOffset = (n: number): number => Math.ceil((n * 4) / 8) * 8

let backend: Promise<TfBackend> | undefined
const shards = new Map<number, { readonly data: Split; readonly test: Split }>()
const texts = new Map<number, { readonly data: Windows; test: PrefixedWindows | undefined }>()

const view = (s: SharedSplit): Split => ({ images: new Float32Array(s.images), labels: new Uint8Array(s.labels) })

/** A train task's result buffer: `n` floats of delta, then the trailer. */
const resultBuffer = (n: number): ArrayBuffer => new ArrayBuffer(trailerOffset(n) + TRAILER * 8)

/** Writes the trailer behind the delta and moves the delta back to the pool. */
const finish = (u: LocalUpdate, cpu: NodeJS.CpuUsage): Float32Array => {
  new Float64Array(u.delta.buffer, trailerOffset(u.delta.length), TRAILER).set([u.samples, u.loss, cpu.user + cpu.system])
  return Tinypool.move(u.delta) as Float32Array
}

/** A fine-tuning task: the checkpoint's base read once per worker (loadLmBase keeps it), the trainer's windows kept by id. */
function runLm(task: LmTrainTask | LmEvaluateTask): Float32Array | Evaluation {
  const base = loadLmBase(task.checkpoint)
  let text = texts.get(task.shard)
  if (text === undefined) {
    const { data, test } = task
    text = {
      data: { inputs: new Int32Array(data.inputs), targets: new Int32Array(data.targets), count: data.count, window: data.window },
      test: test === undefined ? undefined : { activations: new Float32Array(test.activations), targets: new Int32Array(test.targets), count: test.count, window: test.window },
    }
    texts.set(task.shard, text)
  }
  if (task.op === "lm-evaluate") return evaluateTail(base, text.test ??= prefixWindows(base, text.data), task.weights)
  const before = process.threadCpuUsage()
  const n = task.global.length
  const u = trainRound(base, text.data, task.perRound, task.seed, task.global, task.spec, new Float32Array(resultBuffer(n), 0, n))
  return finish(u, process.threadCpuUsage(before))
}

/**
 * Runs one task on this worker's backend (chosen by its first task). What it throws crosses to the
 * pool as a plain Error carrying the reason (a TrainerError's message is a getter, which a clone drops).
 */
export default async function run(task: WorkerTask): Promise<Float32Array | Evaluation> {
  try {
    return await runTask(task)
  } catch (e) {
    throw new Error(e instanceof TrainerError ? e.reason : e instanceof Error ? e.message : String(e))
  }
}

async function runTask(task: WorkerTask): Promise<Float32Array | Evaluation> {
  backend ??= selectBackend(task.backend, {})
  const active = await backend
  if (active !== task.backend) throw new Error(`this worker runs ${active}, the task asks for ${task.backend}`)
  if (task.op === "lm-train" || task.op === "lm-evaluate") return runLm(task)
  checkBackend(task.model, active)
  let shard = shards.get(task.shard)
  if (shard === undefined) {
    shard = { data: view(task.data), test: view(task.test) }
    shards.set(task.shard, shard)
  }
  if (task.op === "evaluate") return evaluateShared(task.model, shard.test, task.weights)
  const n = task.global.length
  const before = process.threadCpuUsage()
  const u = trainShared(task.model, shard.data, task.seed, task.global, task.spec, new Float32Array(resultBuffer(n), 0, n))
  return finish(u, process.threadCpuUsage(before))
}
