/**
 * A real node's trainer: TensorFlow.js on its own shard of the network's data set. Every node cuts
 * the same partition (`training.partition` over the genesis validators, drawn from a seed derived
 * from the genesis) and keeps the part at its own index, so no two validators train on the same
 * samples and no data is ever exchanged. All start from the same initial model (seeded by the
 * genesis too). The evaluation set is fixed by the genesis: the first `training.evalSamples` of the
 * data set's held-out test split, on which coordinators report and validators re-measure accuracy.
 */
import { Effect } from "effect"
import type { AppGenesis } from "../../core/app/app.ts"
import { partition } from "../../core/training/partition.ts"
import { TrainerError } from "../../services/trainer.ts"
import type { TfBackend } from "../../adapters/tfjs/backend.ts"
import type { TrainerPool } from "../../adapters/tfjs/pool.ts"
import type { LocalTraining } from "../../actors/training/local-training.ts"

export interface LocalTrainingOptions {
  readonly genesis: AppGenesis
  /** This validator's operator name (its index in the genesis picks its shard). */
  readonly operator: string
  /** `--backend` (else `$DAI_TF_BACKEND`, else the best available). */
  readonly backend?: string
  /** MNIST: train on at most this many samples of the shard (default: all of it). The language model: windows per round (default LM_WINDOWS_PER_ROUND). */
  readonly samples?: number
  /**
   * Run `trainer.train` in this pool's worker threads (its Effects are then async); without it,
   * training runs synchronously on the calling thread. `evaluate` stays on the calling thread.
   */
  readonly pool?: (backend: TfBackend) => TrainerPool
}

let backendChoice: Promise<string> | undefined

/** The network's evaluation set: the first `samples` of the test split (all of it when it holds fewer). */
export const evaluationSet = <D extends { readonly labels: ArrayLike<number> }>(test: D, samples: number, subset: (d: D, indices: readonly number[]) => D): D =>
  samples >= test.labels.length ? test : subset(test, Array.from({ length: samples }, (_, i) => i))

/** The genesis's training seed: the same on every node of the network. */
export const genesisSeed = (g: AppGenesis): string => `${g.chainId}/${g.time}`

/** Start TensorFlow.js and build this node's trainer; TrainerError when it cannot. */
export const prepareLocalTraining = async (o: LocalTrainingOptions): Promise<LocalTraining> => {
  const p = o.genesis.params
  const dataset = p["training.dataset"]
  if (dataset === "synthetic") {
    throw new TrainerError({ operation: "prepare", reason: "training.dataset synthetic is the simulator's statistical model; a real node trains with TensorFlow.js on mnist or fashion-mnist" })
  }
  const index = o.genesis.validators.findIndex((v) => v.operator === o.operator)
  if (index < 0) throw new TrainerError({ operation: "prepare", reason: `${o.operator} is not a genesis validator, so it has no shard of ${dataset}` })
  const [{ loadDataset, subset }, tfjs] = await Promise.all([import("../../adapters/data/index.ts"), import("../../adapters/tfjs/index.ts")])
  // One backend per process (a devnet's nodes share it): chosen once, by the first node to start.
  backendChoice ??= tfjs.selectBackend(o.backend)
  const backend = await backendChoice
  if (dataset === "fortunes" || p["training.model"] === "gpt") return prepareLmTraining(o, index, backend as TfBackend)
  const data = loadDataset(dataset)
  const seed = genesisSeed(o.genesis)
  const clients = o.genesis.validators.length
  const shares = partition(data.train.labels, clients, p["training.partition"], tfjs.seededRandom(seed, "partition"))
  const own = shares[index]!.slice(0, o.samples ?? Number.MAX_SAFE_INTEGER)
  const test = evaluationSet(data.test, p["training.evalSamples"], subset)
  const model = p["training.model"] as "mlp" | "cnn" // gpt went to prepareLmTraining
  const options = { model, data: subset(data.train, own), test, seed: `${seed}/${o.operator}`, modelSeed: seed }
  const inThread = tfjs.makeTfjsTrainer({ ...options, backend: backend as TfBackend })
  const trainer = o.pool === undefined ? inThread : o.pool(backend as TfBackend).trainer(options)
  return {
    backend: tfjs.describeBackend(),
    dataset: data.name,
    model,
    shard: { index, of: clients, samples: own.length },
    trainer,
    initialWeights: Effect.runSync(trainer.initialWeights),
    evaluate: (weights) => Effect.runSync(inThread.evaluate(weights)),
  }
}

/**
 * Fine-tuning of the language model (training.dataset fortunes, training.model gpt): this validator's
 * shard of the corpus's held-out text and the network's evaluation windows (the first
 * `training.evalSamples` windows of the evaluation text), cut the same way on every node
 * (runtime/adapters/tfjs/lm/finetune.ts). `o.samples` is the windows it trains on per round (default
 * LM_WINDOWS_PER_ROUND). Trains in `o.pool`'s workers when given (bit-identical updates), else on the
 * calling thread; `evaluate` stays on the calling thread.
 */
const prepareLmTraining = async (o: LocalTrainingOptions, index: number, backend: TfBackend): Promise<LocalTraining> => {
  const p = o.genesis.params
  if (p["training.dataset"] !== "fortunes" || p["training.model"] !== "gpt") {
    throw new TrainerError({ operation: "prepare", reason: `the language model fine-tunes on training.dataset fortunes with training.model gpt; the genesis says ${p["training.dataset"]} with ${p["training.model"]}` })
  }
  const [{ loadFortunes }, lm, tfjs] = await Promise.all([import("../../adapters/data/fortunes.ts"), import("../../adapters/tfjs/lm/finetune.ts"), import("../../adapters/tfjs/index.ts")])
  let corpus
  try {
    corpus = loadFortunes()
  } catch (e) {
    throw new TrainerError({ operation: "prepare", reason: e instanceof Error ? e.message : String(e) })
  }
  const clients = o.genesis.validators.length
  const f = lm.prepareLmFinetune({ validation: corpus.validation, clients, evalWindows: p["training.evalSamples"] })
  const options = { seed: `${genesisSeed(o.genesis)}/${o.operator}`, perRound: o.samples ?? lm.LM_WINDOWS_PER_ROUND }
  const shard = f.shards[index]!
  const trainer = o.pool === undefined ? f.trainer(index, { ...options, backend }) : o.pool(backend).lmTrainer({ ...options, base: f.base, data: shard, test: f.evaluation })
  return {
    backend: tfjs.describeBackend(),
    dataset: "fortunes",
    model: `gpt (fine-tuning ${f.base.tail.join(" + ")}, ${f.base.initialTail.length} weights)`,
    shard: { index, of: clients, samples: shard.count },
    trainer,
    initialWeights: f.base.initialTail.slice(),
    evaluate: (weights) => f.evaluate(weights),
  }
}
