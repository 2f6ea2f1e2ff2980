/**
 * Trainer port: local training on data that never leaves the node, and evaluation.
 *
 * Real backend: TensorFlow.js (tfjs-node where installed, else wasm, else cpu). Simulated backend:
 * a cheap statistical model of update quality, for large economic runs. Weights travel as one flat
 * Float32Array so that aggregation, masking and hashing need not know the model's shape.
 */
import { Context, type Effect, Schema } from "effect"

export interface TrainSpec {
  readonly round: number
  readonly localEpochs: number
  readonly batchSize: number
  readonly learningRate: number
}

export interface LocalUpdate {
  /** New local weights minus the global weights it started from. */
  readonly delta: Float32Array
  /** Number of local samples trained on (FedAvg weights by it). */
  readonly samples: number
  readonly loss: number
}

export interface Evaluation {
  readonly accuracy: number
  readonly loss: number
  readonly samples: number
}

export class TrainerError extends Schema.TaggedError<TrainerError>()("TrainerError", {
  operation: Schema.String,
  reason: Schema.String,
}) {
  /** What a person sees: the operation and why it failed. */
  override get message() {
    return `${this.operation}: ${this.reason}`
  }
}

export class Trainer extends Context.Service<Trainer, {
  /** Which backend runs the math (`tensorflow`, `wasm`, `cpu`, `statistical`). */
  readonly backend: string
  /** The initial global weights (derived from the seed). */
  readonly initialWeights: Effect.Effect<Float32Array, TrainerError>
  /** Train locally from `global`; returns the update. */
  train(global: Float32Array, spec: TrainSpec): Effect.Effect<LocalUpdate, TrainerError>
  /** Evaluate weights on this node's held-out data. */
  evaluate(weights: Float32Array): Effect.Effect<Evaluation, TrainerError>
}>()("dai/Trainer") {}
