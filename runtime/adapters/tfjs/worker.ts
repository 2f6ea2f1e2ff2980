/**
 * A training worker of the pool (pool.ts): one worker thread, its own TensorFlow.js backend (set up
 * once, by its first task) and its own model variables, and the shards of every trainer that has
 * sent it a task. A shard arrives as SharedArrayBuffers (shared memory: never copied, neither into
 * this worker nor for the next task) and is kept by id; the global weights come transferred and the
 * update goes back transferred. The math is trainer.ts's, so an update is bit-identical to the
 * in-thread trainer's on the same backend.
 *
 * Loaded by tinypool (its default export is the task handler), run as TypeScript by Node itself.
 */
import Tinypool from "tinypool"
import type { Split } from "../data/dataset.ts"
import type { Evaluation, TrainSpec } from "../../services/trainer.ts"
import { selectBackend, type TfBackend } from "./backend.ts"
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

export type WorkerTask = TrainTask | EvaluateTask

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

const view = (s: SharedSplit): Split => ({ images: new Float32Array(s.images), labels: new Uint8Array(s.labels) })

/** Runs one task on this worker's backend (chosen by its first task). */
export default async function run(task: WorkerTask): Promise<Float32Array | Evaluation> {
  backend ??= selectBackend(task.backend, {})
  const active = await backend
  if (active !== task.backend) throw new Error(`this worker runs ${active}, the task asks for ${task.backend}`)
  checkBackend(task.model, active)
  let shard = shards.get(task.shard)
  if (shard === undefined) {
    shard = { data: view(task.data), test: view(task.test) }
    shards.set(task.shard, shard)
  }
  if (task.op === "evaluate") return evaluateShared(task.model, shard.test, task.weights)
  const n = task.global.length
  const buffer = new ArrayBuffer(trailerOffset(n) + TRAILER * 8)
  const before = process.threadCpuUsage()
  const u = trainShared(task.model, shard.data, task.seed, task.global, task.spec, new Float32Array(buffer, 0, n))
  const cpu = process.threadCpuUsage(before)
  new Float64Array(buffer, trailerOffset(n), TRAILER).set([u.samples, u.loss, cpu.user + cpu.system])
  return Tinypool.move(u.delta) as Float32Array
}
