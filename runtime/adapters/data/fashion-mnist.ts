/**
 * Fashion-MNIST (Xiao et al. 2017: 60,000 train + 10,000 test images of clothing, 10 classes) from
 * the IDX files of Debian's `dataset-fashion-mnist` package.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { type Dataset, DatasetError, IMAGE_SIZE, type Split } from "./dataset.ts"
import { readIdxFile } from "./idx.ts"

/** Where `apt-get install dataset-fashion-mnist` puts the files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const

/** The class names, by label. */
export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"] as const

/** Loads Fashion-MNIST from `dir` (gzipped or plain IDX files); DatasetError when absent or bad. */
export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): Dataset {
  const locate = (base: string): string => {
    for (const name of [`${base}.gz`, base]) if (existsSync(join(dir, name))) return join(dir, name)
    throw new DatasetError({
      dataset: "fashion-mnist",
      file: join(dir, `${base}.gz`),
      reason: `file not found; install Debian's package with \`apt-get install dataset-fashion-mnist\` (it puts the IDX files in ${FASHION_MNIST_DIR})`,
    })
  }
  const split = (imagesBase: string, labelsBase: string): Split => {
    const imagesPath = locate(imagesBase)
    const labelsPath = locate(labelsBase)
    const read = (path: string) => {
      try {
        return readIdxFile(path)
      } catch (e) {
        throw new DatasetError({ dataset: "fashion-mnist", file: path, reason: e instanceof Error ? e.message : String(e) })
      }
    }
    const images = read(imagesPath)
    const labels = read(labelsPath)
    if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
      throw new DatasetError({ dataset: "fashion-mnist", file: imagesPath, reason: `images have shape ${images.dims.join("×")}, expected n×28×28` })
    }
    if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
      throw new DatasetError({ dataset: "fashion-mnist", file: labelsPath, reason: `labels have shape ${labels.dims.join("×")}, expected ${images.dims[0]} (one per image)` })
    }
    const bad = labels.data.findIndex((l) => l > 9)
    if (bad !== -1) throw new DatasetError({ dataset: "fashion-mnist", file: labelsPath, reason: `label ${labels.data[bad]} at index ${bad} is not 0..9` })
    const pixels = new Float32Array(images.data.length)
    for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255
    return { images: pixels, labels: Uint8Array.from(labels.data) }
  }
  const train = split(FILES.trainImages, FILES.trainLabels)
  const test = split(FILES.testImages, FILES.testLabels)
  return { name: "fashion-mnist", train, test, source: `Debian dataset-fashion-mnist (${dir}): ${train.labels.length} train, ${test.labels.length} test` }
}
