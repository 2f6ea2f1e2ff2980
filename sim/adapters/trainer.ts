/**
 * Simulated Trainer: a cheap statistical model of federated training for large economic runs.
 *
 * The "model" is a vector w in R^d and the task is to reach a hidden optimum w*. Trainer i holds
 * `samples` examples whose own optimum is w*_i = w* + h_i (h_i models non-IID data: larger when
 * heterogeneity is high). Local training moves w toward w*_i, with noise shrinking as 1/sqrt(samples);
 * accuracy falls from 0.98 toward 0.1 (chance on 10 classes) with the squared distance to w*.
 * That keeps the properties the economy cares about — more data and honest work help, noise and
 * poisoning hurt — at a few microseconds per update. Real learning lives in the tfjs adapter.
 */
import { Effect } from "effect"
import { Trainer } from "../../runtime/services/trainer.ts"
import type { Prng } from "../kernel/prng.ts"

export interface StatisticalTask {
  /** Dimension of the model vector. */
  readonly dim: number
  /** The hidden optimum. */
  readonly optimum: Float32Array
  /** Distance² at which accuracy has fallen about 63% of the way to chance. */
  readonly scale: number
}

/** Gaussian draw from a PRNG (Box–Muller over two 32-bit draws; deterministic). */
export const gaussian = (prng: Prng): number => {
  const u1 = (prng.u32() + 1) / 4_294_967_297
  const u2 = prng.u32() / 4_294_967_296
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/** A task shared by every trainer of a run. */
export const makeTask = (prng: Prng, dim = 16): StatisticalTask => {
  const optimum = new Float32Array(dim)
  for (let i = 0; i < dim; i++) optimum[i] = gaussian(prng)
  return { dim, optimum, scale: dim }
}

const distance2 = (a: Float32Array, b: Float32Array): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2
  return s
}

/** Accuracy and loss of weights on the task. */
export const evaluateOnTask = (task: StatisticalTask, weights: Float32Array) => {
  const d2 = distance2(weights, task.optimum)
  return { accuracy: 0.1 + 0.88 * Math.exp(-d2 / task.scale), loss: d2 / task.dim }
}

export interface StatisticalTrainerOptions {
  readonly task: StatisticalTask
  readonly prng: Prng
  readonly samples: number
  /** Std of this trainer's data skew h_i per coordinate (0 = IID). */
  readonly heterogeneity: number
}

export const makeStatisticalTrainer = (options: StatisticalTrainerOptions): Trainer["Service"] => {
  const { task, prng, samples } = options
  const localOptimum = new Float32Array(task.dim)
  for (let i = 0; i < task.dim; i++) localOptimum[i] = (task.optimum[i] ?? 0) + options.heterogeneity * gaussian(prng)
  return Trainer.of({
    backend: "statistical",
    initialWeights: Effect.sync(() => new Float32Array(task.dim)),
    train: (global, spec) =>
      Effect.sync(() => {
        // Fraction of the way to the local optimum after `localEpochs` epochs at this learning rate.
        const steps = spec.localEpochs * Math.max(1, Math.floor(samples / spec.batchSize))
        const progress = 1 - (1 - Math.min(0.5, spec.learningRate)) ** Math.min(steps, 50)
        const noise = 1 / Math.sqrt(samples)
        const delta = new Float32Array(task.dim)
        for (let i = 0; i < task.dim; i++) {
          delta[i] = progress * ((localOptimum[i] ?? 0) - (global[i] ?? 0)) + noise * gaussian(prng)
        }
        const after = global.map((w, i) => w + (delta[i] ?? 0))
        return { delta, samples, loss: evaluateOnTask(task, after).loss }
      }),
    evaluate: (weights) => Effect.sync(() => ({ ...evaluateOnTask(task, weights), samples })),
  })
}
