/**
 * The market's inference as a layer trace (runtime/core/market/bisection.ts): the forward pass of
 * the 2NN and the CNN (model.ts) cut into the layers a dispute bisects, each a function of the bytes
 * of the layer before, so one layer can be re-executed alone from the agreed input:
 *
 *   mlp  0 images [n, 784] · 1 relu(dense1) [n, 200] · 2 relu(dense2) [n, 200] · 3 dense3 logits [n, 10] · 4 argmax classes [n]
 *   cnn  0 images [n, 784] · 1 pool(relu(conv1)) [n, 14, 14, 32] · 2 pool(relu(conv2)) [n, 7, 7, 64]
 *        · 3 relu(dense1) [n, 512] · 4 dense2 logits [n, 10] · 5 argmax classes [n]
 *
 * The same ops as `TfModel.logits` (`dense`, `conv2dSame`, relu, max-pool), so the last layer's
 * classes are the model's. Layer bytes are float32 in the machine's byte order (little-endian on
 * every platform Node runs on) and the classes one byte each. A layer runs over the chunk in batches
 * of BATCH samples: every sample's row is computed alone on the `cpu` backend (its sums run over the
 * input features, not over the batch), and provider and referee batch alike anyway.
 *
 * Determinism: bit for bit on the `cpu` backend, the market's reference. NOT across backends: `wasm`
 * (XNNPACK, SIMD) and `tensorflow` (oneDNN) sum a dot product in another order, so layer 1's floats
 * already differ in their last bits and so does every hash after it — a provider on another backend
 * than its referees is found wrong at the first layer with a matmul (docs/market-node.md).
 */
import * as tf from "@tensorflow/tfjs"
import { IMAGE_SIZE } from "../data/index.ts"
import { conv2dSame, dense, type ModelName, type TfModel } from "./model.ts"

/** Samples per batch of a layer (bounded memory; the bytes do not depend on it on cpu). */
const BATCH = 500

/** The layers of `model`, besides the input (L). */
export const layerCount = (model: ModelName): number => (model === "mlp" ? 4 : 5)

/** The float width of layer `layer`'s output per sample (0: the image); the classes layer is 1 byte a sample. */
const widthOf = (model: ModelName, layer: number): number => {
  const widths = model === "mlp" ? [IMAGE_SIZE, 200, 200, 10] : [IMAGE_SIZE, 14 * 14 * 32, 7 * 7 * 64, 512, 10]
  const w = widths[layer]
  if (w === undefined) throw new RangeError(`model ${model} has layers 0..${layerCount(model)}, got ${layer}`)
  return w
}

const bytesOf = (f: Float32Array): Uint8Array => new Uint8Array(f.buffer, f.byteOffset, f.byteLength)
const floatsOf = (b: Uint8Array): Float32Array => {
  // A copy: aligned, and never the caller's buffer.
  const out = new Float32Array(b.length / 4)
  new Uint8Array(out.buffer).set(b)
  return out
}

/** One layer's op on a batch (inside tf.tidy). */
const op = (m: TfModel, layer: number, x: tf.Tensor2D): tf.Tensor => {
  const v = m.variables as tf.Variable[]
  if (m.name === "mlp") {
    if (layer === 1) return tf.relu(dense(x, v[0] as tf.Tensor2D, v[1] as tf.Tensor1D, false))
    if (layer === 2) return tf.relu(dense(x, v[2] as tf.Tensor2D, v[3] as tf.Tensor1D))
    return dense(x, v[4] as tf.Tensor2D, v[5] as tf.Tensor1D)
  }
  if (layer === 1) {
    const img = tf.reshape(x, [-1, 28, 28, 1]) as tf.Tensor4D
    return tf.maxPool(tf.relu(tf.add(conv2dSame(img, v[0] as tf.Tensor4D, false), v[1]!)) as tf.Tensor4D, 2, 2, "same")
  }
  if (layer === 2) {
    const a1 = tf.reshape(x, [-1, 14, 14, 32]) as tf.Tensor4D
    return tf.maxPool(tf.relu(tf.add(conv2dSame(a1, v[2] as tf.Tensor4D), v[3]!)) as tf.Tensor4D, 2, 2, "same")
  }
  if (layer === 3) return tf.relu(dense(x, v[4] as tf.Tensor2D, v[5] as tf.Tensor1D))
  return dense(x, v[6] as tf.Tensor2D, v[7] as tf.Tensor1D)
}

/**
 * Layer `layer` (1..L) of `m` (its weights loaded) over `units` samples whose previous layer's bytes
 * are `input`: the output's bytes. Throws on an input of the wrong size (a referee checks the size
 * before: a provider's agreed input hashes to the referee's own, so it has its size).
 */
export const runLayer = (m: TfModel, layer: number, input: Uint8Array, units: number): Uint8Array => {
  const L = layerCount(m.name)
  if (!(Number.isSafeInteger(layer) && layer >= 1 && layer <= L)) throw new RangeError(`model ${m.name} has layers 1..${L}, got ${layer}`)
  const inWidth = widthOf(m.name, layer - 1)
  if (input.length !== units * inWidth * 4) throw new RangeError(`layer ${layer} of ${m.name} takes ${units} × ${inWidth} floats, got ${input.length} bytes`)
  const x = floatsOf(input)
  if (layer === L) {
    // The classes: argmax of the logits (the first of equal maxima), one byte a sample.
    const out = new Uint8Array(units)
    for (let at = 0; at < units; at += BATCH) {
      const size = Math.min(BATCH, units - at)
      const c = tf.tidy(() => tf.argMax(tf.tensor2d(x.subarray(at * inWidth, (at + size) * inWidth), [size, inWidth]), 1).dataSync())
      for (let k = 0; k < size; k++) out[at + k] = c[k]!
    }
    return out
  }
  const outWidth = widthOf(m.name, layer)
  const out = new Float32Array(units * outWidth)
  for (let at = 0; at < units; at += BATCH) {
    const size = Math.min(BATCH, units - at)
    const y = tf.tidy(() => op(m, layer, tf.tensor2d(x.subarray(at * inWidth, (at + size) * inWidth), [size, inWidth])).dataSync() as Float32Array)
    out.set(y, at * outWidth)
  }
  return bytesOf(out)
}

/** Every layer's bytes of `m` over the images `images` ([units, 784] floats): layer 0 the images, layer L the classes. */
export const runLayers = (m: TfModel, images: Float32Array, units: number): Uint8Array[] => {
  const out = [bytesOf(images.slice())]
  for (let layer = 1; layer <= layerCount(m.name); layer++) out.push(runLayer(m, layer, out[layer - 1]!, units))
  return out
}
