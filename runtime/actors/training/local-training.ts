/**
 * What a node trains with, as the training actor needs it: a Trainer on the node's own shard, the
 * initial weights every node shares, and an evaluation on held-out data. A world builds it (the
 * real node from TensorFlow.js and a data set: runtime/node/training/local-data.ts).
 */
import type { Evaluation, Trainer } from "../../services/trainer.ts"

export interface LocalTraining {
  readonly backend: string
  readonly dataset: string
  readonly model: string
  /** This node's shard: its index among the genesis validators, of how many, and its sample count. */
  readonly shard: { readonly index: number; readonly of: number; readonly samples: number }
  readonly trainer: Trainer["Service"]
  readonly initialWeights: Float32Array
  /** Test accuracy and loss of weights on the held-out split. */
  evaluate(weights: Float32Array): Evaluation
}
