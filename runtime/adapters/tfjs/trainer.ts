/**
 * The Trainer port on TensorFlow.js: local minibatch SGD on this node's own samples, and
 * evaluation on its held-out samples.
 *
 * Synchronous inside: after `selectBackend` (async, once at start) every step is one `tf.tidy` and
 * results are read with `dataSync()` — no `model.fit`, no awaits — because the simulator runs
 * trainers inside its synchronous event loop. The 2NN's step is hand-written (model.ts
 * `makeMlpStepper`: no gradient tape, 29 kernels, weights kept transposed); the CNN's is
 * `tf.variableGrads` on its forward pass. On one backend, the same seed, data
 * and global weights give bit-identical updates (shuffles come from `seed`, round and epoch).
 *
 * All trainers of a process share one set of tfjs variables per model (and one 2NN stepper): every
 * operation starts by loading the weights it is given, and nothing interleaves (it is synchronous),
 * so a simulation of 100 trainers holds one model in memory, not 100.
 *
 * The `cnn` model trains on `wasm` although tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter`
 * kernel: its convolution gradients are forward convolutions (model.ts `conv2dSame`). Of the two
 * options the issue allowed (a clear error, or cpu), neither was needed; the check below still
 * refuses, with advice, a backend lacking a kernel the model's training does use.
 */
import * as tf from "@tensorflow/tfjs"
import { Effect, Layer } from "effect"
import { type Evaluation, type LocalUpdate, Trainer, TrainerError, type TrainSpec } from "../../services/trainer.ts"
import { CLASSES, IMAGE_SIZE, type Split } from "../data/dataset.ts"
import { hasKernel, selectBackend, type TfBackend } from "./backend.ts"
import { initialWeights, isModelName, MODELS, makeMlpStepper, makeModel, type MlpStepper, type ModelName, paramCount, type TfModel } from "./model.ts"
import { permutation, type Seed, seededRandom } from "./rng.ts"

export interface TfjsTrainerOptions {
  readonly model: ModelName
  /** This trainer's own samples: they never leave it (only weight deltas do). */
  readonly data: Split
  /** Held-out samples for `evaluate` (defaults to `data`). */
  readonly test?: Split
  /** Seeds the per-epoch shuffles (and the initial weights unless `modelSeed` is given). */
  readonly seed: Seed
  /** Seeds `initialWeights` when all trainers must start from the same model. */
  readonly modelSeed?: Seed
  /** The active backend, as returned by `selectBackend`. */
  readonly backend: TfBackend
}

/** Samples per forward pass in `evaluate` (bounded memory, same result for any value). */
const EVAL_BATCH = 500

/** Kernels whose absence makes a model untrainable on a backend, with what they compute. */
const TRAINING_KERNELS: Record<ModelName, readonly (readonly [string, string])[]> = {
  mlp: [["BatchMatMul", "dense layers"], ["Relu", "activations"], ["Step", "the activations' gradient"], ["Transpose", "the backward pass"]],
  cnn: [["Conv2D", "convolutions and their gradients"], ["MaxPool", "pooling"], ["MaxPoolGrad", "the gradient of pooling"]],
}

const shared = new Map<ModelName, TfModel>()

/** The process-wide variables of `name` (created on first use, on the active backend). */
function sharedModel(name: ModelName): TfModel {
  let m = shared.get(name)
  if (m === undefined) {
    m = makeModel(name, 0)
    shared.set(name, m)
  }
  return m
}

/** Frees the shared model variables (tests and benchmarks switching backends call it). */
export function disposeSharedModels(): void {
  for (const m of shared.values()) m.dispose()
  shared.clear()
  mlpStepper?.dispose()
  mlpStepper = undefined
}

const fail = (operation: string, reason: string): TrainerError => new TrainerError({ operation, reason })
const asTrainerError = (operation: string) => (e: unknown): TrainerError =>
  e instanceof TrainerError ? e : fail(operation, e instanceof Error ? e.message : String(e))

/** Checks `options` and that the model can train on the active backend; throws TrainerError. */
function check(options: TfjsTrainerOptions): void {
  checkData(options)
  checkBackend(options.model, options.backend)
}

/** Throws TrainerError unless `backend` is active and has every kernel `model`'s training uses. */
export function checkBackend(model: ModelName, backend: TfBackend): void {
  const active = tf.getBackend()
  if (active !== backend) throw fail("make", `backend ${backend} is not the active TensorFlow.js backend (${active}); call selectBackend first`)
  for (const [kernel, what] of TRAINING_KERNELS[model]) {
    if (!hasKernel(kernel, backend)) {
      throw fail(
        "make",
        `model ${model} cannot train on the ${backend} backend: it has no ${kernel} kernel (${what}); start with --backend cpu (or DAI_TF_BACKEND=cpu)`,
      )
    }
  }
}

/** Throws TrainerError for an unknown model or malformed data (no tfjs: the worker pool checks in the caller's thread). */
export function checkData(options: Pick<TfjsTrainerOptions, "model" | "data" | "test">): void {
  const { model, data, test } = options
  if (!isModelName(model)) throw fail("make", `unknown model ${JSON.stringify(model)}; expected one of ${MODELS.join(", ")}`)
  for (const [label, split] of [["data", data], ["test", test]] as const) {
    if (split === undefined) continue
    if (split.images.length !== split.labels.length * IMAGE_SIZE) {
      throw fail("make", `${label}: ${split.images.length} pixel values for ${split.labels.length} labels (expected ${IMAGE_SIZE} per image)`)
    }
    if (split.labels.some((l) => l >= CLASSES)) throw fail("make", `${label}: labels must be 0..${CLASSES - 1}`)
  }
  if (data.labels.length === 0) throw fail("make", "data: a trainer needs at least one sample")
}

const checkSpec = (spec: TrainSpec): void => {
  const bad = (what: string, v: number, need: string) => fail("train", `${what} must be ${need}, got ${v}`)
  if (!Number.isSafeInteger(spec.round) || spec.round < 0) throw bad("round", spec.round, "an integer ≥ 0")
  if (!Number.isSafeInteger(spec.localEpochs) || spec.localEpochs < 1) throw bad("localEpochs", spec.localEpochs, "an integer ≥ 1")
  if (!Number.isSafeInteger(spec.batchSize) || spec.batchSize < 1) throw bad("batchSize", spec.batchSize, "an integer ≥ 1")
  if (!Number.isFinite(spec.learningRate) || spec.learningRate <= 0) throw bad("learningRate", spec.learningRate, "a number > 0")
}

/**
 * Copies the samples `order[from..to)` of `split` into a batch: images [b, 784], one-hot [b, 10]
 * and labels, into `into` when given (a step's buffers, reused: the tensors made from them are
 * disposed first).
 */
function batch(split: Split, order: Int32Array | null, from: number, to: number, into?: Batch): Batch {
  const b = to - from
  const x = into === undefined ? new Float32Array(b * IMAGE_SIZE) : into.x.subarray(0, b * IMAGE_SIZE)
  const y = into === undefined ? new Float32Array(b * CLASSES) : into.y.subarray(0, b * CLASSES).fill(0)
  const labels = into === undefined ? new Uint8Array(b) : into.labels.subarray(0, b)
  for (let k = 0; k < b; k++) {
    const i = order === null ? from + k : order[from + k]!
    x.set(split.images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), k * IMAGE_SIZE)
    labels[k] = split.labels[i]!
    y[k * CLASSES + labels[k]!] = 1
  }
  return { x, y, labels }
}

interface Batch {
  readonly x: Float32Array
  readonly y: Float32Array
  readonly labels: Uint8Array
}

/** How a model takes its SGD steps: load the global weights, step batch by batch, read the result. */
interface Sgd {
  load(global: Float32Array): void
  /** One step on `b` samples; returns their summed loss. */
  step(batch: Batch, b: number, learningRate: number): number
  save(): Float32Array
}

/** The tape path (tf.variableGrads on the model's forward pass): the CNN's. */
function tapeSgd(m: TfModel): Sgd {
  const vars = m.variables as tf.Variable[]
  return {
    load: (global) => m.setWeights(global),
    step: ({ x, y }, b, learningRate) =>
      tf.tidy(() => {
        const xs = tf.tensor2d(x.subarray(0, b * IMAGE_SIZE), [b, IMAGE_SIZE])
        const ys = tf.tensor2d(y.subarray(0, b * CLASSES), [b, CLASSES])
        const lr = tf.scalar(learningRate)
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, m.logits(xs)) as tf.Scalar, vars)
        for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name]!, lr)))
        return value.dataSync()[0]! * b
      }),
    save: () => m.getWeights(),
  }
}

let mlpStepper: MlpStepper | undefined

/** The 2NN's SGD: the hand-written step of model.ts (no tape), on this thread's one stepper. */
function mlpSgd(): Sgd {
  const s = (mlpStepper ??= makeMlpStepper())
  return { load: (global) => s.load(global), step: ({ x, labels }, b, learningRate) => s.step(x, labels, b, learningRate), save: () => s.save() }
}

/** Runs local SGD of `model` from `global` and returns the update (synchronous). */
function trainSync(model: ModelName, data: Split, seed: Seed, global: Float32Array, spec: TrainSpec, out?: Float32Array): LocalUpdate {
  checkSpec(spec)
  const count = paramCount(model)
  if (global.length !== count) throw fail("train", `global weights have ${global.length} values, model ${model} has ${count}`)
  const sgd = model === "mlp" ? mlpSgd() : tapeSgd(sharedModel(model))
  sgd.load(global)
  const n = data.labels.length
  let lossSum = 0
  // Per train, not per step: the batch buffers.
  const b0 = Math.min(n, spec.batchSize)
  const buffers: Batch = { x: new Float32Array(b0 * IMAGE_SIZE), y: new Float32Array(b0 * CLASSES), labels: new Uint8Array(b0) }
  for (let epoch = 0; epoch < spec.localEpochs; epoch++) {
    const order = permutation(n, seededRandom(seed, `shuffle:${spec.round}:${epoch}`))
    for (let from = 0; from < n; from += spec.batchSize) {
      const to = Math.min(n, from + spec.batchSize)
      lossSum += sgd.step(batch(data, order, from, to, buffers), to - from, spec.learningRate)
    }
  }
  const local = sgd.save()
  if (out !== undefined && out.length !== local.length) throw fail("train", `output of ${out.length} values for ${local.length} weights`)
  const delta = out ?? new Float32Array(local.length)
  for (let i = 0; i < local.length; i++) delta[i] = local[i]! - global[i]!
  const loss = lossSum / (n * spec.localEpochs)
  if (!Number.isFinite(loss)) throw fail("train", `training diverged (loss ${loss}); lower the learning rate (${spec.learningRate})`)
  return { delta, samples: n, loss }
}

/** Local SGD of `model` (this thread's shared variables) on `data` from `global`; the delta goes into `out` when given (a worker's transfer buffer). */
export const trainShared = (model: ModelName, data: Split, seed: Seed, global: Float32Array, spec: TrainSpec, out?: Float32Array): LocalUpdate =>
  trainSync(model, data, seed, global, spec, out)

/** `evaluateSync` on this thread's shared variables of `model`. */
export const evaluateShared = (model: ModelName, split: Split, weights: Float32Array): Evaluation => evaluateSync(sharedModel(model), split, weights)

/** Accuracy and mean cross-entropy of `weights` on `split` (synchronous). */
export function evaluateSync(m: TfModel, split: Split, weights: Float32Array): Evaluation {
  if (weights.length !== m.paramCount) throw fail("evaluate", `weights have ${weights.length} values, model ${m.name} has ${m.paramCount}`)
  const n = split.labels.length
  if (n === 0) throw fail("evaluate", "no held-out samples to evaluate on")
  m.setWeights(weights)
  let correct = 0
  let lossSum = 0
  for (let from = 0; from < n; from += EVAL_BATCH) {
    const to = Math.min(n, from + EVAL_BATCH)
    const { x, y } = batch(split, null, from, to)
    const [c, l] = tf.tidy(() => {
      const xs = tf.tensor2d(x, [to - from, IMAGE_SIZE])
      const ys = tf.tensor2d(y, [to - from, CLASSES])
      const logits = m.logits(xs)
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(ys, 1)), "int32"))
      const loss = tf.losses.softmaxCrossEntropy(ys, logits, undefined, undefined, tf.Reduction.SUM)
      return [hits.dataSync()[0]!, loss.dataSync()[0]!] as const
    })
    correct += c
    lossSum += l
  }
  return { accuracy: correct / n, loss: lossSum / n, samples: n }
}

/**
 * The Trainer service for `options` on the active backend. Throws TrainerError for a bad model,
 * data, a backend that is not active, or a backend lacking a kernel the model needs.
 */
export function makeTfjsTrainer(options: TfjsTrainerOptions): Trainer["Service"] {
  check(options)
  const { model, data, seed, backend } = options
  const test = options.test ?? data
  const init = initialWeights(model, options.modelSeed ?? seed)
  return {
    backend,
    initialWeights: Effect.sync(() => init.slice()),
    train: (global, spec) => Effect.try({ try: () => trainShared(model, data, seed, global, spec), catch: asTrainerError("train") }),
    evaluate: (weights) => Effect.try({ try: () => evaluateShared(model, test, weights), catch: asTrainerError("evaluate") }),
  }
}

/** The Trainer port on tfjs: selects the backend (`options.backend`, else $DAI_TF_BACKEND, else best), then builds the trainer. */
export const layerTfjs = (options: Omit<TfjsTrainerOptions, "backend"> & { readonly backend?: string }): Layer.Layer<Trainer, TrainerError> =>
  Layer.effect(
    Trainer,
    Effect.tryPromise({ try: () => selectBackend(options.backend), catch: asTrainerError("selectBackend") }).pipe(
      Effect.flatMap((backend) => Effect.try({ try: () => makeTfjsTrainer({ ...options, backend }), catch: asTrainerError("make") })),
    ),
  )

