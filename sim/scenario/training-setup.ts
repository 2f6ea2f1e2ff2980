/**
 * The trainers of a scenario, by `training.dataset`:
 *  - `synthetic`: the statistical trainer (sim/adapters/trainer.ts) — microseconds per update, for
 *    large economic runs; `training.partition` sets how heterogeneous the trainers' data is;
 *  - `mnist`, `fashion-mnist`: real TensorFlow.js training (runtime/adapters/tfjs) of
 *    `training.model` on each trainer's own partition of the training split (`training.partition`,
 *    drawn from the seed), evaluated on the held-out test split.
 * Starting TensorFlow.js is asynchronous (backend selection), so `prepareTraining` runs before the
 * (synchronous) run; everything after it is synchronous and deterministic for a seed on one backend.
 */
import { Effect } from "effect"
import type { Params } from "../../runtime/core/params.ts"
import { Trainer, type Evaluation } from "../../runtime/services/trainer.ts"
import { evaluateOnTask, gaussian, makeStatisticalTrainer, makeTask } from "../adapters/trainer.ts"
import { Prng } from "../kernel/prng.ts"
import { flipLabel } from "../faults/training.ts"
import type { Scenario } from "./load.ts"

export interface TrainingSetup {
  /** `statistical`, or the TensorFlow.js backend. */
  readonly backend: string
  readonly dataset: string
  readonly initialWeights: Float32Array
  /** Trainer `id`'s trainer; `flipped`: its labels are permuted (the `labelflip` behaviour). */
  trainer(id: string, flipped: boolean): Trainer["Service"]
  /** Accuracy of `weights` on the held-out test data. */
  evaluate(weights: Float32Array): Evaluation
}

/** Everything the runner needs for a scenario's training (undefined without trainers). */
export const prepareTraining = async (scenario: Scenario, seed: number): Promise<TrainingSetup | undefined> => {
  if (scenario.trainers.length === 0) return undefined
  if (scenario.params["training.dataset"] === "synthetic") return syntheticSetup(scenario, seed)
  if (scenario.params["training.dataset"] === "fortunes" || scenario.params["training.model"] === "gpt") return lmSetup(scenario, seed)
  return tfjsSetup(scenario, seed)
}

/** Heterogeneity of the synthetic task's trainers by partition (iid → none, fewer shards or a smaller alpha → more). */
const heterogeneity = (partition: string): number => {
  if (partition === "iid") return 0.1
  const shards = /^shards:(\d+)$/.exec(partition)
  if (shards !== null) return 2 / Number(shards[1])
  const alpha = Number(/^dirichlet:(.+)$/.exec(partition)?.[1] ?? "1")
  return Math.min(3, 0.5 / Math.sqrt(alpha))
}

/** The statistical trainers (synchronous, no TensorFlow.js). */
export const syntheticSetup = (scenario: Scenario, seed: number): TrainingSetup => {
  const root = Prng.fromSeed(seed).child("training/synthetic")
  const task = makeTask(root.child("task"))
  const h = heterogeneity(scenario.params["training.partition"])
  // A label-flipping trainer's data points somewhere else: the reflection of the optimum.
  const flippedTask = { ...task, optimum: task.optimum.map((x) => -x) }
  const trainers = new Map<string, Trainer["Service"]>()
  return {
    backend: "statistical",
    dataset: "synthetic",
    initialWeights: new Float32Array(task.dim),
    trainer: (id, flipped) => {
      const key = `${id}/${flipped}`
      let t = trainers.get(key)
      if (t === undefined) {
        const prng = root.child(`trainer/${id}`)
        const samples = 200 + prng.int(400)
        t = makeStatisticalTrainer({ task: flipped ? flippedTask : task, prng, samples, heterogeneity: h })
        trainers.set(key, t)
      }
      return t
    },
    evaluate: (weights) => ({ ...evaluateOnTask(task, weights), samples: 0 }),
  }
}

/** Real TensorFlow.js trainers on partitions of a real data set. */
const tfjsSetup = async (scenario: Scenario, seed: number): Promise<TrainingSetup> => {
  const [{ loadDataset, subset }, tfjs, { partition }] = await Promise.all([
    import("../../runtime/adapters/data/index.ts"),
    import("../../runtime/adapters/tfjs/index.ts"),
    import("../../runtime/core/training/partition.ts"),
  ])
  const p: Params = scenario.params
  const backend = await tfjs.selectBackend()
  const data = loadDataset(p["training.dataset"])
  const model = p["training.model"] as "mlp" | "cnn" // gpt went to lmSetup
  const prng = Prng.fromSeed(seed).child("training/partition")
  const shares = partition(data.train.labels, scenario.trainers.length, p["training.partition"], () => prng.u32() / 4_294_967_296)
  const indexOf = new Map(scenario.trainers.map((id, i) => [id, i]))
  const evaluator = tfjs.makeTfjsTrainer({ model, data: subset(data.train, [0]), test: data.test, seed, modelSeed: seed, backend })
  const trainers = new Map<string, Trainer["Service"]>()
  return {
    backend,
    dataset: data.name,
    initialWeights: Effect.runSync(evaluator.initialWeights),
    trainer: (id, flipped) => {
      const key = `${id}/${flipped}`
      let t = trainers.get(key)
      if (t === undefined) {
        const own = subset(data.train, shares[indexOf.get(id)!]!.slice(0, scenario.samplesPerTrainer))
        const train = flipped ? { images: own.images, labels: own.labels.map(flipLabel) } : own
        t = tfjs.makeTfjsTrainer({ model, data: train, seed: `${seed}/${id}`, modelSeed: seed, backend })
        trainers.set(key, t)
      }
      return t
    },
    evaluate: (weights) => Effect.runSync(evaluator.evaluate(weights)),
  }
}

/**
 * Fine-tuning of the language model's last block and head (runtime/adapters/tfjs/lm/finetune.ts):
 * trainer i holds shard i of the corpus's held-out text and trains on `network.samplesPerTrainer`
 * windows of it per round (the next ones each round); the evaluation set is the first
 * `training.evalSamples` windows of the evaluation text. A `labelflip` trainer's targets are wrong:
 * each next byte is replaced by the byte value after it.
 */
const lmSetup = async (scenario: Scenario, seed: number): Promise<TrainingSetup> => {
  const p: Params = scenario.params
  if (p["training.dataset"] !== "fortunes" || p["training.model"] !== "gpt") {
    throw new Error(`${scenario.file}: the language model fine-tunes on training.dataset fortunes with training.model gpt (got ${p["training.dataset"]} with ${p["training.model"]})`)
  }
  const [{ loadFortunes }, tfjs, lm] = await Promise.all([
    import("../../runtime/adapters/data/fortunes.ts"),
    import("../../runtime/adapters/tfjs/index.ts"),
    import("../../runtime/adapters/tfjs/lm/finetune.ts"),
  ])
  const backend = await tfjs.selectBackend()
  const f = lm.prepareLmFinetune({ validation: loadFortunes().validation, clients: scenario.trainers.length, evalWindows: p["training.evalSamples"] })
  const indexOf = new Map(scenario.trainers.map((id, i) => [id, i]))
  const trainers = new Map<string, Trainer["Service"]>()
  return {
    backend,
    dataset: "fortunes",
    initialWeights: f.base.initialTail.slice(),
    trainer: (id, flipped) => {
      const key = `${id}/${flipped}`
      let t = trainers.get(key)
      if (t === undefined) {
        t = f.trainer(indexOf.get(id)!, { seed: `${seed}/${id}`, perRound: scenario.samplesPerTrainer, backend, ...(flipped ? { targets: (b: number) => (b + 1) % 256 } : {}) })
        trainers.set(key, t)
      }
      return t
    },
    evaluate: (weights) => f.evaluate(weights),
  }
}

/** A standard normal draw from a trainer's stream (for the `noise` behaviour and DP noise). */
export const normalFrom = (prng: Prng) => () => gaussian(prng)
