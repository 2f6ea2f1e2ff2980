/**
 * The compute market's inference work on a real node: a job of kind `infer:<dataset>` (`infer:mnist`)
 * classifies test samples with the network's model. Unit i of a job is sample (i mod N) of the
 * network's evaluation set — the first `training.evalSamples` (N) of the data set's test split, fixed
 * by the genesis like the set validators re-measure accuracy on — so every node holds the same inputs.
 *
 * Which model: a delivery names it. The result word of a chunk is
 *
 *   bytes 0..7   the first 8 bytes of the model's hash (core/training/hash.ts `modelHash`)
 *   bytes 8..31  the last 24 bytes of keccak256("dai/market/infer/v2|kind|modelHash|job|from|units|" ‖ traceRoot)
 *
 * where `traceRoot` is the Merkle root of the chunk's layer trace (market-layers.ts: the images, each
 * layer's float32 outputs, the predicted classes one byte per unit; core/market/bisection.ts): the
 * word commits the provider, on the ledger and before any referee asks, to every layer of its
 * computation, so a dispute is bisected to the first diverging layer and only that one re-executed.
 * The model must be one the chain committed in its last {@link MODEL_WINDOW} training rounds (round 0:
 * the genesis's initial model): a provider runs the newest of them it holds; a referee re-executes the
 * chunk with the model the word names, and refutes a word that names no such model. A referee that
 * does not hold the named model (it started after that round) does not judge: `reexecute` gives
 * undefined and nothing is refuted (runtime/actors/market/work.ts `wrongNotes`). The job itself
 * cannot carry the model (the ledger's job has a kind, not a model), and a kind per model would make
 * providers re-register every round; naming it in the result keeps provider and referee on the same
 * computation without either guessing what the requester saw.
 *
 * Determinism: on the `cpu` backend the forward pass is the same float32 arithmetic in the same order
 * on every machine, so provider and referee agree bit for bit. It is NOT across backends: `wasm`
 * (XNNPACK, SIMD) and `tensorflow` (oneDNN) sum the dot products in another order, so activations
 * differ in their last bits. The word commits to every layer's float32 bytes (v1 hashed the classes
 * only, which tolerated that except at a near-tie, but left nothing to bisect), so a network's market
 * runs on one backend, `cpu`, the reference: a provider on another backend than its referees is
 * found wrong at layer 1. A node runs this on its process's active backend (a devnet's nodes share one
 * process, hence one backend).
 *
 * The work is synchronous (tfjs `dataSync` on cpu and wasm), as the MarketWork port is.
 */
import * as tf from "@tensorflow/tfjs"
import { fromHex, keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import { layerHash, makeTrace, traceRoot, type LayerTrace } from "../../core/market/bisection.ts"
import { IMAGE_SIZE, loadDataset, type Split } from "../data/index.ts"
import { layerCount, runLayer, runLayers } from "./market-layers.ts"
import { makeModel, type ModelName, type TfModel } from "./model.ts"

/** Committed training rounds whose models a delivery may name (the newest first). */
export const MODEL_WINDOW = 4
/** Samples per forward pass (bounded memory; the classes do not depend on it). */
const BATCH = 500
/** Most units one chunk may ask for (a bound on a peer's request, far above any note). */
export const MAX_CHUNK_UNITS = 1_000_000

/**
 * A chunk of a job, as the market actors' `WorkTask` (runtime/actors/market/work.ts; declared here
 * by shape, since adapters do not import actors): units [from, from + units) of job `job`.
 */
export interface WorkTask {
  readonly job: number
  readonly kind: string
  readonly from: number
  readonly units: number
}
/** The actors' `MarketWork`: the chunk's result word (and the layer trace it commits to), or undefined when it is not computed. */
export type MarketWork = (task: WorkTask) => { readonly ms: number; readonly resultHash: string; readonly trace?: LayerTrace } | undefined
/** The actors' `TraceWork` (runtime/actors/market/work.ts): the layered side a referee bisects a dispute with. */
export interface TraceWork {
  trace(task: WorkTask, claimed: string): { readonly trace: LayerTrace; readonly word: string } | undefined
  layers(task: WorkTask, claimed: string): number | undefined
  layer(task: WorkTask, claimed: string, layer: number, input: Uint8Array): Uint8Array
  word(task: WorkTask, claimed: string, root: Uint8Array): string | undefined
}
/** The actors' `Reexecute`: the honest word for a chunk given the word delivered, or undefined (cannot judge). */
export type Reexecute = (task: WorkTask, claimed?: string) => string | undefined

/** The market kind of inference on `dataset`. */
export const inferKind = (dataset: string): string => `infer:${dataset}`

/** A committed model a delivery may name. */
export interface CommittedModel {
  readonly hash: string
  readonly round: number
}

/** The network's models as this node knows them. */
export interface ModelBook {
  /** The models of the chain's last MODEL_WINDOW committed rounds (with round 0's while it is among them), newest first. */
  window(): readonly CommittedModel[]
  /** The weights of `hash`, when this node holds them (checked against the hash by the book). */
  weights(hash: string): Float32Array | undefined
}

export interface InferenceWorkOptions {
  /** The job kind served (`infer:mnist`). */
  readonly kind: string
  readonly model: ModelName
  /** The evaluation set: unit i is sample (i mod N). */
  readonly samples: Split
  readonly models: ModelBook
}

export interface InferenceWork {
  readonly kind: string
  /** The provider's side: compute a chunk with the newest committed model held. */
  readonly work: MarketWork
  /** The referee's side: re-execute a chunk with the model its delivered word names. */
  readonly reexecute: Reexecute
  /** The classes of units [from, from + units) under `weights` (the model's own forward pass, in one piece). */
  classes(weights: Float32Array, from: number, units: number): Uint8Array
  /** The result word of a chunk computed with the model `modelHash` whose layer trace has the Merkle root `root`. */
  resultWord(task: WorkTask, modelHash: string, root: Uint8Array): string
}

/** Inference work with its layered side: what a provider defends a dispute with and a referee bisects it by. */
export interface TracedInferenceWork extends InferenceWork {
  /** The referee's side of a dispute's bisection. */
  readonly traced: TraceWork
  /** The provider's side: the trace a word it delivered commits to, recomputed (undefined: not its computation). */
  providerTrace(task: WorkTask, word: string): LayerTrace | undefined
  /** The layer trace of units [from, from + units) under `weights`. */
  trace(weights: Float32Array, from: number, units: number): LayerTrace
}

/** The first `n` samples of `dataset`'s test split: the network's evaluation set (all of it when it holds fewer). */
export const evaluationSamples = (dataset: string, n: number): Split => {
  const test = loadDataset(dataset).test
  const k = Math.min(n, test.labels.length)
  return { images: test.images.subarray(0, k * IMAGE_SIZE), labels: test.labels.subarray(0, k) }
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** The model prefix a result word names (0x + 16 hex digits). */
export const namedModel = (word: string): string => word.slice(0, 18).toLowerCase()

/** Inference work over `o.samples` with the models of `o.models`. */
export const makeInferenceWork = (o: InferenceWorkOptions): TracedInferenceWork => {
  const n = o.samples.labels.length
  if (n === 0) throw new RangeError("inference work: the evaluation set is empty")
  let model: TfModel | undefined
  let loaded: Float32Array | undefined

  const checkChunk = (from: number, units: number) => {
    if (!(Number.isSafeInteger(from) && from >= 0 && Number.isSafeInteger(units) && units > 0 && units <= MAX_CHUNK_UNITS)) {
      throw new RangeError(`inference work: a chunk is from >= 0 and 1..${MAX_CHUNK_UNITS} units, got from ${from}, ${units} units`)
    }
  }
  /** The model with `weights` loaded: its own variables (the trainer's shared ones belong to evaluation), loaded only when the model changes. */
  const withWeights = (weights: Float32Array): TfModel => {
    model ??= makeModel(o.model, 0)
    if (loaded !== weights) {
      model.setWeights(weights)
      loaded = weights
    }
    return model
  }
  /** The images of units [from, from + units): unit i is sample (i mod N). */
  const images = (from: number, units: number): Float32Array => {
    const x = new Float32Array(units * IMAGE_SIZE)
    for (let k = 0; k < units; k++) {
      const s = (from + k) % n
      x.set(o.samples.images.subarray(s * IMAGE_SIZE, (s + 1) * IMAGE_SIZE), k * IMAGE_SIZE)
    }
    return x
  }

  const classes = (weights: Float32Array, from: number, units: number): Uint8Array => {
    checkChunk(from, units)
    const m = withWeights(weights)
    const out = new Uint8Array(units)
    for (let at = 0; at < units; at += BATCH) {
      const size = Math.min(BATCH, units - at)
      const x = images(from + at, size)
      const predicted = tf.tidy(() => tf.argMax(m.logits(tf.tensor2d(x, [size, IMAGE_SIZE])), 1).dataSync())
      for (let k = 0; k < size; k++) out[at + k] = predicted[k]!
    }
    return out
  }

  const trace = (weights: Float32Array, from: number, units: number): LayerTrace => {
    checkChunk(from, units)
    return makeTrace(runLayers(withWeights(weights), images(from, units), units))
  }

  const resultWord = (task: WorkTask, modelHash: string, root: Uint8Array): string => {
    const digest = keccak256(concat(utf8ToBytes(`dai/market/infer/v2|${task.kind}|${modelHash.toLowerCase()}|${task.job}|${task.from}|${task.units}|`), root))
    return toHex(concat(fromHex(modelHash).subarray(0, 8), digest.subarray(8)))
  }
  const wordOf = (task: WorkTask, modelHash: string, t: LayerTrace): string => resultWord(task, modelHash, traceRoot(t.hashes))

  /** The newest committed model this node holds. */
  const newestHeld = (): { hash: string; weights: Float32Array } | undefined => {
    for (const m of o.models.window()) {
      const weights = o.models.weights(m.hash)
      if (weights !== undefined) return { hash: m.hash, weights }
    }
    return undefined
  }

  const work: MarketWork = (task) => {
    if (task.kind !== o.kind) return undefined // a kind this work does not compute: never delivered
    const held = newestHeld()
    if (held === undefined) return undefined // no committed model held yet: the job goes to another provider
    // Computed now, synchronously: nothing more to wait for before delivering. The trace answers a dispute.
    const t = trace(held.weights, task.from, task.units)
    return { ms: 0, resultHash: wordOf(task, held.hash, t), trace: t }
  }

  /** The committed model of the window a word names (undefined: none). */
  const namedBy = (word: string): CommittedModel | undefined => o.models.window().find((m) => namedModel(m.hash) === namedModel(word))

  /** The honest trace and word of a chunk under the model `claimed` names, or the newest held when it names none. */
  const honest = (task: WorkTask, claimed: string | undefined): { readonly trace: LayerTrace; readonly word: string } | undefined => {
    if (task.kind !== o.kind) return undefined
    const named = claimed === undefined ? undefined : namedBy(claimed)
    const model = named === undefined ? newestHeld() : { hash: named.hash, weights: o.models.weights(named.hash) }
    if (model?.weights === undefined) return undefined
    const t = trace(model.weights, task.from, task.units)
    return { trace: t, word: wordOf(task, model.hash, t) }
  }

  const reexecute: Reexecute = (task, claimed) => honest(task, claimed)?.word

  const traced: TraceWork = {
    trace: (task, claimed) => honest(task, claimed),
    // L of the work's model, when the word names a committed model this node holds (it can re-execute a layer of it).
    layers: (task, claimed) => {
      const named = namedBy(claimed)
      return task.kind === o.kind && named !== undefined && o.models.weights(named.hash) !== undefined ? layerCount(o.model) : undefined
    },
    layer: (task, claimed, layer, input) => {
      const named = namedBy(claimed)
      const weights = named === undefined ? undefined : o.models.weights(named.hash)
      // trace() gave this referee its own trace with that model: it holds it.
      if (weights === undefined) throw new RangeError(`inference work: no weights for the model ${namedModel(claimed)} a word names`)
      return layerHash(layer, runLayer(withWeights(weights), layer, input, task.units))
    },
    word: (task, claimed, root) => {
      const named = namedBy(claimed)
      return named === undefined ? undefined : resultWord(task, named.hash, root)
    },
  }

  const providerTrace = (task: WorkTask, word: string): LayerTrace | undefined => {
    const named = namedBy(word)
    const weights = named === undefined ? undefined : o.models.weights(named.hash)
    if (task.kind !== o.kind || named === undefined || weights === undefined) return undefined
    const t = trace(weights, task.from, task.units)
    return wordOf(task, named.hash, t) === word.toLowerCase() ? t : undefined
  }

  return { kind: o.kind, work, reexecute, classes, resultWord, traced, providerTrace, trace }
}
