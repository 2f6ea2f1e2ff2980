/**
 * Federated fine-tuning of the committed GPT (docs/lm.md, "Federated fine-tuning"): the Trainer
 * port for the language model. What trains is the model's **tail** — its last block and its head
 * (final layer norm + projection to logits); the embeddings and the other blocks stay the
 * checkpoint's, frozen. So the weights a round moves (and aggregates, masks, clips, noises and
 * hashes) are the tail's flat vector, 66,752 floats for the committed 4-block model, and a round's
 * model is a drop-in replacement for the checkpoint's `block/3` and `head` sections.
 *
 * A trainer's shard is cut into windows; each round it trains on the next `perRound` of them (cycling
 * through its shard: fresh text each round, so its update generalises instead of memorising the same
 * few windows). The frozen prefix runs forward only, once per window and round, and each step runs one
 * block and the head forward and backward. The evaluation set's prefix output never changes: it is
 * computed once. A step is
 * plain SGD (the round machine's FedAvg assumes no optimizer state across rounds, as for MNIST) with
 * the gradient clipped to norm 1, as the checkpoint was trained.
 *
 * Synchronous inside (`dataSync`, no awaits), as trainer.ts, so the simulator runs it in its event
 * loop; every trainer of a thread shares one set of tail variables (each call loads the weights it is
 * given). A real node runs `trainRound` in the worker pool instead (../pool.ts `lmTrainer`, each worker
 * with its own base and tail variables). On one backend the same seed, windows and global weights give
 * bit-identical updates, on the calling thread or in a worker.
 */
import * as tf from "@tensorflow/tfjs"
import { Effect } from "effect"
import { blockSection, type LmConfig, section } from "../../../core/lm/config.ts"
import { textShards, textWindows, type Windows } from "../../../core/training/text-shards.ts"
import { type Evaluation, type LocalUpdate, type Trainer, TrainerError, type TrainSpec } from "../../../services/trainer.ts"
import { permutation, type Seed, seededRandom } from "../rng.ts"
import { DEFAULT_CHECKPOINT_DIR, readSections } from "./checkpoint.ts"
import { crossEntropy, type GptPart, makeGptPart } from "./gpt.ts"

/** The frozen model a fine-tuning starts from: its shape, its prefix's weights and its tail's initial weights. */
export interface LmBase {
  readonly dir: string
  readonly config: LmConfig
  /** The sections that train, in flat order: the last block and the head. */
  readonly tail: readonly string[]
  /** The sections that stay frozen: the embeddings and every block but the last. */
  readonly prefix: readonly string[]
  /** The checkpoint's tail weights: round 0's global model. */
  readonly initialTail: Float32Array
  readonly prefixWeights: ReadonlyMap<string, Float32Array>
}

/** The sections a fine-tuning trains (`tail`) and keeps frozen (`prefix`). */
export const tailSections = (c: LmConfig): { readonly tail: string[]; readonly prefix: string[] } => ({
  tail: [blockSection(c.blocks - 1), "head"],
  prefix: ["embed", ...Array.from({ length: c.blocks - 1 }, (_, i) => blockSection(i))],
})

/** Number of floats in the tail (a round's update). */
export const tailSize = (c: LmConfig): number => tailSections(c).tail.reduce((t, s) => t + section(c, s).size, 0)

const bases = new Map<string, LmBase>()

/** The checkpoint in `dir` (default: the committed one) as a fine-tuning base; read once per process. */
export function loadLmBase(dir: string = DEFAULT_CHECKPOINT_DIR): LmBase {
  const known = bases.get(dir)
  if (known !== undefined) return known
  const { file } = readSections(dir, [])
  const { tail, prefix } = tailSections(file.model)
  const { weights } = readSections(dir, [...prefix, ...tail])
  const initialTail = new Float32Array(tailSize(file.model))
  let at = 0
  for (const s of tail) {
    initialTail.set(weights.get(s)!, at)
    at += weights.get(s)!.length
  }
  const base: LmBase = { dir, config: file.model, tail, prefix, initialTail, prefixWeights: new Map(prefix.map((s) => [s, weights.get(s)!])) }
  bases.set(dir, base)
  return base
}

/** Windows with the frozen prefix's output on them: the tail's inputs [count, window, dim] and the targets. */
export interface PrefixedWindows {
  readonly activations: Float32Array
  readonly targets: Int32Array
  readonly count: number
  readonly window: number
}

/** Windows per forward pass of the prefix and of an evaluation (bounded memory; the result does not depend on it). */
const PASS = 32

/** Runs the frozen prefix over `w` once (synchronous). */
export function prefixWindows(base: LmBase, w: Windows): PrefixedWindows {
  const { dim, blocks } = base.config
  if (w.window > base.config.contextLength) throw new RangeError(`windows of ${w.window} tokens exceed the model's context of ${base.config.contextLength}`)
  const activations = new Float32Array(w.count * w.window * dim)
  const part = makeGptPart(base.config, base.prefixWeights)
  try {
    for (let from = 0; from < w.count; from += PASS) {
      const n = Math.min(PASS, w.count - from)
      const out = tf.tidy(() => {
        let x = part.embed(tf.tensor2d(w.inputs.subarray(from * w.window, (from + n) * w.window), [n, w.window], "int32"))
        for (let i = 0; i < blocks - 1; i++) x = part.block(i)(x)
        return x.dataSync() as Float32Array
      })
      activations.set(out, from * w.window * dim)
    }
  } finally {
    part.dispose()
  }
  return { activations, targets: w.targets, count: w.count, window: w.window }
}

const tails = new Map<string, GptPart>()

/** This thread's tail variables for `base` (created on first use, on the active backend). */
function sharedTail(base: LmBase): GptPart {
  let t = tails.get(base.dir)
  if (t === undefined) {
    const { tail } = tailSections(base.config)
    let at = 0
    const sections = new Map(tail.map((s) => {
      const size = section(base.config, s).size
      const w = base.initialTail.subarray(at, at + size)
      at += size
      return [s, w] as const
    }))
    t = makeGptPart(base.config, sections)
    tails.set(base.dir, t)
  }
  return t
}

/** Frees the tail variables (tests and benchmarks switching backends call it). */
export function disposeSharedTails(): void {
  for (const t of tails.values()) t.dispose()
  tails.clear()
}

const fail = (operation: string, reason: string): TrainerError => new TrainerError({ operation, reason })

const logits = (base: LmBase, part: GptPart, x: tf.Tensor3D): tf.Tensor3D => part.head(part.block(base.config.blocks - 1)(x))

const slice = (d: PrefixedWindows, dim: number, order: Int32Array | null, from: number, to: number): { x: Float32Array; y: Int32Array } => {
  const b = to - from
  const per = d.window * dim
  const x = new Float32Array(b * per)
  const y = new Int32Array(b * d.window)
  for (let k = 0; k < b; k++) {
    const i = order === null ? from + k : order[from + k]!
    x.set(d.activations.subarray(i * per, (i + 1) * per), k * per)
    y.set(d.targets.subarray(i * d.window, (i + 1) * d.window), k * d.window)
  }
  return { x, y }
}

/** The windows `from..from+count` of `w` (wrapping around). */
export const roundWindows = (w: Windows, from: number, count: number): Windows => {
  const n = Math.min(count, w.count)
  const inputs = new Int32Array(n * w.window)
  const targets = new Int32Array(n * w.window)
  for (let k = 0; k < n; k++) {
    const i = (from + k) % w.count
    inputs.set(w.inputs.subarray(i * w.window, (i + 1) * w.window), k * w.window)
    targets.set(w.targets.subarray(i * w.window, (i + 1) * w.window), k * w.window)
  }
  return { inputs, targets, count: n, window: w.window }
}

/** Round `round`'s windows of a shard: the next `perRound` of them, cycling through the shard. */
export const windowsOfRound = (w: Windows, perRound: number, round: number): Windows => roundWindows(w, w.count === 0 ? 0 : (round * perRound) % w.count, perRound)

/** Local SGD of the tail from `global` on `data`; returns the update (synchronous), its delta in `out` when given (a worker's transfer buffer). */
export function trainTail(base: LmBase, data: PrefixedWindows, seed: Seed, global: Float32Array, spec: TrainSpec, out?: Float32Array): LocalUpdate {
  const part = sharedTail(base)
  const size = tailSize(base.config)
  if (global.length !== size) throw fail("train", `global weights have ${global.length} values, the model's tail (${base.tail.join(" + ")}) has ${size}`)
  if (!(spec.learningRate > 0) || !Number.isSafeInteger(spec.batchSize) || spec.batchSize < 1 || !Number.isSafeInteger(spec.localEpochs) || spec.localEpochs < 1) {
    throw fail("train", `bad spec: learningRate ${spec.learningRate}, batchSize ${spec.batchSize}, localEpochs ${spec.localEpochs}`)
  }
  const n = data.count
  if (n === 0) throw fail("train", "this trainer holds no text window")
  part.setWeights(global)
  const vars = part.variables as tf.Variable[]
  const { dim } = base.config
  let lossSum = 0
  const lr = tf.scalar(spec.learningRate)
  try {
    for (let epoch = 0; epoch < spec.localEpochs; epoch++) {
      const order = permutation(n, seededRandom(seed, `lm-shuffle:${spec.round}:${epoch}`))
      for (let from = 0; from < n; from += spec.batchSize) {
        const to = Math.min(n, from + spec.batchSize)
        const { x, y } = slice(data, dim, order, from, to)
        lossSum += tf.tidy(() => {
          const xs = tf.tensor3d(x, [to - from, data.window, dim])
          const ys = tf.tensor2d(y, [to - from, data.window], "int32")
          const { value, grads } = tf.variableGrads(() => crossEntropy(logits(base, part, xs), ys), vars)
          const gs = vars.map((v) => grads[v.name]!)
          // Clipped to norm 1, as the checkpoint was trained: a step on a surprising batch stays small.
          const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))))
          const scale = tf.mul(tf.minimum(1, tf.div(1, tf.add(norm, 1e-6))), lr)
          vars.forEach((v, i) => v.assign(tf.sub(v, tf.mul(gs[i]!, scale))))
          return value.dataSync()[0]! * (to - from)
        })
      }
    }
  } finally {
    lr.dispose()
  }
  const local = part.getWeights()
  if (out !== undefined && out.length !== size) throw fail("train", `output of ${out.length} values for ${size} weights`)
  const delta = out ?? new Float32Array(size)
  for (let i = 0; i < size; i++) delta[i] = local[i]! - global[i]!
  const loss = lossSum / (n * spec.localEpochs)
  if (!Number.isFinite(loss)) throw fail("train", `fine-tuning diverged (loss ${loss}); lower the learning rate (${spec.learningRate})`)
  return { delta, samples: n, loss }
}

/** Next-byte accuracy and mean cross-entropy (nats per token) of tail `weights` on `data` (synchronous). */
export function evaluateTail(base: LmBase, data: PrefixedWindows, weights: Float32Array): Evaluation {
  const part = sharedTail(base)
  const size = tailSize(base.config)
  if (weights.length !== size) throw fail("evaluate", `weights have ${weights.length} values, the model's tail has ${size}`)
  if (data.count === 0) throw fail("evaluate", "no evaluation text")
  part.setWeights(weights)
  const { dim, vocabSize } = base.config
  let nats = 0
  let hits = 0
  for (let from = 0; from < data.count; from += PASS) {
    const to = Math.min(data.count, from + PASS)
    const { x, y } = slice(data, dim, null, from, to)
    const [l, h] = tf.tidy(() => {
      const ys = tf.tensor1d(y, "int32")
      const out = tf.reshape(logits(base, part, tf.tensor3d(x, [to - from, data.window, dim])), [-1, vocabSize]) as tf.Tensor2D
      const logp = tf.logSoftmax(out)
      const picked = tf.sum(tf.mul(logp, tf.oneHot(ys, vocabSize)), -1)
      const right = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), ys), "int32"))
      return [tf.neg(tf.sum(picked)).dataSync()[0]!, right.dataSync()[0]!] as const
    })
    nats += l
    hits += h
  }
  const tokens = data.count * data.window
  return { accuracy: hits / tokens, loss: nats / tokens, samples: tokens }
}

export interface LmTrainerOptions {
  readonly base: LmBase
  /** This trainer's own text, cut into windows (they never leave it: only the tail's delta does). */
  readonly data: Windows
  /** Windows trained on per round (the next ones of the shard each round). */
  readonly perRound: number
  /** The evaluation windows (defaults to `data`). */
  readonly test?: PrefixedWindows
  /** Seeds the per-round shuffles. */
  readonly seed: Seed
  /** The active backend. */
  readonly backend: string
}

const asTrainerError = (operation: string) => (e: unknown): TrainerError =>
  e instanceof TrainerError ? e : fail(operation, e instanceof Error ? e.message : String(e))

/** Throws TrainerError for a trainer with no window or a bad `perRound` (no tfjs: the worker pool checks in the caller's thread). */
export function checkLmTrainer(o: Pick<LmTrainerOptions, "data" | "perRound">): void {
  if (o.data.count === 0) throw fail("make", "this trainer's text is shorter than one window")
  if (!Number.isSafeInteger(o.perRound) || o.perRound < 1) throw fail("make", `perRound must be an integer ≥ 1, got ${o.perRound}`)
}

/** One round's local update of a trainer: the prefix over the round's windows of `data`, then SGD of the tail (synchronous; the worker pool runs the same). */
export const trainRound = (base: LmBase, data: Windows, perRound: number, seed: Seed, global: Float32Array, spec: TrainSpec, out?: Float32Array): LocalUpdate =>
  trainTail(base, prefixWindows(base, windowsOfRound(data, perRound, spec.round)), seed, global, spec, out)

/** The Trainer service fine-tuning `base`'s tail on `data` (the same port as the MNIST trainer). */
export function makeLmTrainer(o: LmTrainerOptions): Trainer["Service"] {
  checkLmTrainer(o)
  let test = o.test
  return {
    backend: o.backend,
    initialWeights: Effect.sync(() => o.base.initialTail.slice()),
    train: (global, spec) => Effect.try({ try: () => trainRound(o.base, o.data, o.perRound, o.seed, global, spec), catch: asTrainerError("train") }),
    evaluate: (weights) => Effect.try({ try: () => evaluateTail(o.base, test ??= prefixWindows(o.base, o.data), weights), catch: asTrainerError("evaluate") }),
  }
}

/** Bytes per fine-tuning window (half the context: a window costs a quarter of a full one's attention). */
export const LM_WINDOW = 32

/** Windows a trainer trains on per round unless told otherwise (`--train-samples`). */
export const LM_WINDOWS_PER_ROUND = 64

/** A network's fine-tuning: the base, the fixed evaluation windows, and every trainer's shard. */
export interface LmFinetune {
  readonly base: LmBase
  /** The evaluation set (the first `evalWindows` windows of the evaluation text), through the prefix. */
  readonly evaluation: PrefixedWindows
  /** Trainer i's windows (its shard of the held-out text). */
  readonly shards: readonly Windows[]
  /** Bytes of text per shard. */
  readonly shardBytes: readonly number[]
  /** Trainer i's Trainer (`seed` seeds its shuffles; `perRound` windows a round). */
  trainer(i: number, o: { readonly seed: Seed; readonly perRound: number; readonly backend: string; readonly targets?: (t: number) => number }): Trainer["Service"]
  /** Next-byte accuracy and loss of tail weights on the evaluation set. */
  evaluate(weights: Float32Array): Evaluation
}

/**
 * The fine-tuning of `base` over `clients` trainers on `validation` (the corpus's validation split:
 * text the checkpoint never trained on), cut by core/training/text-shards.ts. Runs the prefix over
 * the evaluation windows once (synchronous, on the active backend).
 */
export function prepareLmFinetune(o: { readonly validation: string; readonly clients: number; readonly evalWindows: number; readonly base?: LmBase }): LmFinetune {
  const base = o.base ?? loadLmBase()
  const { evaluation, shards } = textShards(o.validation, o.clients)
  const encoder = new TextEncoder()
  const windows = shards.map((s) => textWindows(encoder.encode(s), LM_WINDOW, Number.MAX_SAFE_INTEGER))
  const test = prefixWindows(base, textWindows(encoder.encode(evaluation), LM_WINDOW, o.evalWindows))
  return {
    base,
    evaluation: test,
    shards: windows,
    shardBytes: shards.map((s) => encoder.encode(s).length),
    trainer: (i, t) => {
      const own = windows[i]
      if (own === undefined) throw fail("make", `no shard ${i} (there are ${windows.length})`)
      const data = t.targets === undefined ? own : { ...own, targets: own.targets.map(t.targets) }
      return makeLmTrainer({ base, data, perRound: t.perRound, test, seed: t.seed, backend: t.backend })
    },
    evaluate: (weights) => evaluateTail(base, test, weights),
  }
}
