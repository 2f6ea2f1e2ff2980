/**
 * Labelled image datasets for federated training: 28×28 grey images flattened to 784 floats in
 * [0, 1], labels 0–9. A trainer receives only its own `subset` of the training split.
 */
import { Data } from "effect"

export const DATASETS = ["mnist", "fashion-mnist"] as const
export type DatasetName = (typeof DATASETS)[number]

export const IMAGE_SIZE = 784
export const CLASSES = 10

/** One split: `images` is n×784 row-major in [0, 1], `labels` n values in 0..9. */
export interface Split {
  readonly images: Float32Array
  readonly labels: Uint8Array
}

export interface Dataset {
  readonly name: DatasetName
  readonly train: Split
  readonly test: Split
  /** Where the data came from and how it was split (printed by benchmarks and the node). */
  readonly source: string
}

/** A dataset could not be loaded; `reason` says what is wrong and what to do. */
export class DatasetError extends Data.TaggedError("DatasetError")<{
  readonly dataset: string
  readonly file?: string
  readonly reason: string
}> {
  override get message(): string {
    return `dataset ${this.dataset}${this.file === undefined ? "" : ` (${this.file})`}: ${this.reason}`
  }
}

/** Number of samples in a split. */
export const sizeOf = (split: Split): number => split.labels.length

/** A copy of the samples at `indices` (in that order): what one trainer holds. */
export function subset(split: Split, indices: readonly number[]): Split {
  const n = sizeOf(split)
  const images = new Float32Array(indices.length * IMAGE_SIZE)
  const labels = new Uint8Array(indices.length)
  indices.forEach((idx, k) => {
    if (!Number.isInteger(idx) || idx < 0 || idx >= n) throw new RangeError(`subset: index ${idx} out of range 0..${n - 1}`)
    images.set(split.images.subarray(idx * IMAGE_SIZE, (idx + 1) * IMAGE_SIZE), k * IMAGE_SIZE)
    labels[k] = split.labels[idx]!
  })
  return { images, labels }
}
