/**
 * Trains the GPT on a token stream: random windows (seeded), AdamW (Loshchilov & Hutter 2019) with
 * linear warm-up then cosine decay to a tenth of the peak rate, gradients clipped to a global norm
 * of 1. One step is synchronous; the loop yields to the event loop between steps so a progress bar
 * renders and Ctrl-C works.
 */
import * as tf from "@tensorflow/tfjs"
import { initialWeights, type LmConfig } from "../../../core/lm/config.ts"
import { type Seed, seededRandom } from "../rng.ts"
import { crossEntropy, type Gpt, makeGpt } from "./gpt.ts"

/** How to train. */
export interface LmTrainOptions {
  readonly config: LmConfig
  readonly seed: Seed
  readonly steps: number
  readonly batchSize: number
  /** Tokens per training window (≤ config.contextLength). */
  readonly window: number
  /** Peak learning rate. */
  readonly learningRate: number
  readonly warmupSteps?: number
  readonly weightDecay?: number
  /** Start from these weights instead of the seeded initialization (fine-tuning). */
  readonly initial?: Float32Array
}

/** What one step reports. */
export interface LmStepReport {
  readonly step: number
  readonly steps: number
  /** Mean cross-entropy of this step's batch before the update, nats per token. */
  readonly loss: number
  readonly learningRate: number
}

/** The learning rate at `step` (0-based): linear warm-up, then cosine decay to 10 % of the peak. */
export const learningRateAt = (step: number, steps: number, peak: number, warmup: number): number => {
  if (step < warmup) return (peak * (step + 1)) / warmup
  const progress = steps <= warmup ? 1 : (step - warmup) / Math.max(1, steps - warmup - 1)
  return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))))
}

/** A batch of `batchSize` windows of `window + 1` tokens from `tokens` at seeded offsets: inputs and next-token targets. */
export function sampleBatch(tokens: Uint8Array, batchSize: number, window: number, rng: () => number): { inputs: Int32Array; targets: Int32Array } {
  if (tokens.length < window + 1) throw new RangeError(`the training text has ${tokens.length} tokens, fewer than one window of ${window + 1}`)
  const inputs = new Int32Array(batchSize * window)
  const targets = new Int32Array(batchSize * window)
  for (let b = 0; b < batchSize; b++) {
    const at = Math.floor(rng() * (tokens.length - window))
    for (let t = 0; t < window; t++) {
      inputs[b * window + t] = tokens[at + t]!
      targets[b * window + t] = tokens[at + t + 1]!
    }
  }
  return { inputs, targets }
}

/** Trains a model on `tokens`; `onStep` hears every step. Returns the trained model (the caller disposes it). */
export async function trainLm(tokens: Uint8Array, o: LmTrainOptions, onStep: (r: LmStepReport) => void = () => undefined): Promise<Gpt> {
  if (o.window < 1 || o.window > o.config.contextLength) throw new RangeError(`window must be 1..${o.config.contextLength} (the context), got ${o.window}`)
  for (const [k, v] of [["steps", o.steps], ["batchSize", o.batchSize]] as const) if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`)
  const model = makeGpt(o.config, o.initial ?? initialWeights(o.config, seededRandom(o.seed, "lm-init")))
  const rng = seededRandom(o.seed, "lm-batches")
  const warmup = o.warmupSteps ?? Math.min(100, Math.ceil(o.steps / 10))
  const decay = o.weightDecay ?? 0.1
  const beta1 = 0.9
  const beta2 = 0.95
  const eps = 1e-8
  const vars = model.variables
  // Weight decay on matrices (rank ≥ 2: the linear layers and embeddings), never on biases or layer-norm gains.
  const decays = vars.map((v) => v.rank >= 2)
  const m = vars.map((v) => tf.variable(tf.zerosLike(v), false))
  const s = vars.map((v) => tf.variable(tf.zerosLike(v), false))
  try {
    for (let step = 0; step < o.steps; step++) {
      const lr = learningRateAt(step, o.steps, o.learningRate, warmup)
      const { inputs, targets } = sampleBatch(tokens, o.batchSize, o.window, rng)
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(inputs, [o.batchSize, o.window], "int32")
        const y = tf.tensor2d(targets, [o.batchSize, o.window], "int32")
        const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x), y), [...vars])
        const gs = vars.map((v) => grads[v.name]!)
        const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))))
        const clip = tf.minimum(1, tf.div(1, tf.add(norm, 1e-6)))
        const c1 = 1 - beta1 ** (step + 1)
        const c2 = 1 - beta2 ** (step + 1)
        vars.forEach((v, i) => {
          const g = tf.mul(gs[i]!, clip)
          const mi = tf.add(tf.mul(m[i]!, beta1), tf.mul(g, 1 - beta1))
          const si = tf.add(tf.mul(s[i]!, beta2), tf.mul(tf.square(g), 1 - beta2))
          m[i]!.assign(mi)
          s[i]!.assign(si)
          let update = tf.div(tf.div(mi, c1), tf.add(tf.sqrt(tf.div(si, c2)), eps))
          if (decays[i]) update = tf.add(update, tf.mul(v, decay))
          v.assign(tf.sub(v, tf.mul(update, lr)))
        })
        return value
      })
      const l = (await loss.data())[0]!
      loss.dispose()
      onStep({ step: step + 1, steps: o.steps, loss: l, learningRate: lr })
      await new Promise((r) => setImmediate(r))
    }
  } finally {
    m.forEach((t) => t.dispose())
    s.forEach((t) => t.dispose())
  }
  return model
}

/**
 * The model's total cross-entropy (nats) over `tokens` 1..n-1, each predicted once: consecutive
 * windows of `window + 1` tokens overlapping by one, so each window's first token is context only.
 * `onWindow` hears progress (windows done, windows in all).
 */
export async function evaluateLm(model: Gpt, tokens: Uint8Array, window: number, batchSize = 16, onWindow: (done: number, total: number) => void = () => undefined): Promise<{ nats: number; tokens: number }> {
  const starts: number[] = []
  for (let at = 0; at + 1 < tokens.length; at += window) starts.push(at)
  let nats = 0
  let count = 0
  for (let i = 0; i < starts.length; i += batchSize) {
    // Windows of one length per batch: the full ones together, the last (shorter) one alone.
    const group = starts.slice(i, i + batchSize)
    const lens = group.map((a) => Math.min(window, tokens.length - 1 - a))
    const full = lens.every((l) => l === lens[0])
    const batches = full ? [group] : group.map((a) => [a])
    for (const b of batches) {
      const len = Math.min(window, tokens.length - 1 - b[0]!)
      const inputs = new Int32Array(b.length * len)
      const targets = new Int32Array(b.length * len)
      b.forEach((a, r) => {
        for (let t = 0; t < len; t++) {
          inputs[r * len + t] = tokens[a + t]!
          targets[r * len + t] = tokens[a + t + 1]!
        }
      })
      const loss = tf.tidy(() => crossEntropy(model.forward(tf.tensor2d(inputs, [b.length, len], "int32")), tf.tensor2d(targets, [b.length, len], "int32")))
      nats += (await loss.data())[0]! * b.length * len
      count += b.length * len
      loss.dispose()
    }
    onWindow(Math.min(i + batchSize, starts.length), starts.length)
    await new Promise((r) => setImmediate(r))
  }
  return { nats, tokens: count }
}
