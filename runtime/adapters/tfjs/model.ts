/**
 * The two models of McMahan et al. 2017 ("Communication-Efficient Learning of Deep Networks from
 * Decentralized Data"), as plain tfjs variables and ops (no tf.layers: the trainer needs
 * synchronous steps and full control of the weight order):
 *
 * - `mlp` — the paper's "2NN": 784 → 200 → 200 → 10, ReLU; 199,210 parameters.
 * - `cnn` — 5×5 conv 32, 2×2 max-pool, 5×5 conv 64, 2×2 max-pool, dense 512 (ReLU), 10;
 *   1,663,370 parameters.
 *
 * Weights travel as one flat Float32Array: each layer's kernel then its bias, layer by layer, each
 * tensor row-major in tfjs's layout (dense [in, out], conv [h, w, in, out]). Initialization is
 * Glorot uniform for kernels and zero for biases, drawn from our own seeded stream, so the initial
 * weights are a pure function of (model, seed), the same on every backend.
 *
 * The convolutions' gradients are computed with forward convolutions (`conv2dSame`), so the CNN
 * trains on wasm too, although tfjs-backend-wasm has no `Conv2DBackpropFilter` kernel.
 */
import * as tf from "@tensorflow/tfjs"
import { type Seed, seededRandom } from "./rng.ts"

export const MODELS = ["mlp", "cnn"] as const
export type ModelName = (typeof MODELS)[number]

/** One parameter tensor in the flat weight vector. */
export interface ParamSpec {
  readonly name: string
  readonly shape: readonly number[]
  readonly size: number
  /** Glorot fan-in / fan-out (kernels); 0 for biases, which start at zero. */
  readonly fanIn: number
  readonly fanOut: number
}

const kernel = (name: string, shape: number[], fanIn: number, fanOut: number): ParamSpec => ({ name, shape, size: shape.reduce((a, b) => a * b, 1), fanIn, fanOut })
const bias = (name: string, n: number): ParamSpec => ({ name, shape: [n], size: n, fanIn: 0, fanOut: 0 })
const denseSpec = (name: string, inputs: number, outputs: number): ParamSpec[] => [kernel(`${name}/kernel`, [inputs, outputs], inputs, outputs), bias(`${name}/bias`, outputs)]
const convSpec = (name: string, k: number, inputs: number, outputs: number): ParamSpec[] => [
  kernel(`${name}/kernel`, [k, k, inputs, outputs], k * k * inputs, k * k * outputs),
  bias(`${name}/bias`, outputs),
]

const ARCHITECTURES: Record<ModelName, readonly ParamSpec[]> = {
  mlp: [...denseSpec("dense1", 784, 200), ...denseSpec("dense2", 200, 200), ...denseSpec("dense3", 200, 10)],
  cnn: [...convSpec("conv1", 5, 1, 32), ...convSpec("conv2", 5, 32, 64), ...denseSpec("dense1", 7 * 7 * 64, 512), ...denseSpec("dense2", 512, 10)],
}

/** Whether `name` is a known model name. */
export const isModelName = (name: string): name is ModelName => (MODELS as readonly string[]).includes(name)

/** The parameter tensors of `name`, in flat-weight order. */
export const architecture = (name: ModelName): readonly ParamSpec[] => ARCHITECTURES[name]

/** Number of parameters (the length of the flat weight vector). */
export const paramCount = (name: ModelName): number => ARCHITECTURES[name].reduce((t, p) => t + p.size, 0)

/** The seeded initial weights: Glorot uniform kernels, zero biases. Pure (no tfjs). */
export function initialWeights(name: ModelName, seed: Seed): Float32Array {
  const out = new Float32Array(paramCount(name))
  const rng = seededRandom(seed, `init:${name}`)
  let at = 0
  for (const p of ARCHITECTURES[name]) {
    if (p.fanIn > 0) {
      const limit = Math.sqrt(6 / (p.fanIn + p.fanOut))
      for (let i = 0; i < p.size; i++) out[at + i] = (2 * rng() - 1) * limit
    }
    at += p.size
  }
  return out
}

/** A model's variables on the active backend, and its forward pass. */
export interface TfModel {
  readonly name: ModelName
  readonly params: readonly ParamSpec[]
  readonly paramCount: number
  readonly variables: readonly tf.Variable[]
  /** Logits [n, 10] for images [n, 784] (call inside tf.tidy). */
  logits(images: tf.Tensor2D): tf.Tensor2D
  /** The current weights, flat. */
  getWeights(): Float32Array
  /** Overwrites the weights from a flat vector of `paramCount` floats (copied). */
  setWeights(flat: Float32Array): void
  /** Frees the variables. */
  dispose(): void
}

/** Creates `name`'s variables on the active backend, initialized from `seed`. */
export function makeModel(name: ModelName, seed: Seed): TfModel {
  if (!isModelName(name)) throw new RangeError(`unknown model ${JSON.stringify(name)}; expected one of ${MODELS.join(", ")}`)
  const params = ARCHITECTURES[name]
  const count = paramCount(name)
  const init = initialWeights(name, seed)
  let at = 0
  const variables = params.map((p) => {
    const v = tf.tidy(() => tf.variable(tf.tensor(init.slice(at, at + p.size), [...p.shape]), true))
    at += p.size
    return v
  })
  const logits = name === "mlp" ? mlpLogits(variables) : cnnLogits(variables)
  return {
    name,
    params,
    paramCount: count,
    variables,
    logits,
    getWeights: () => {
      const out = new Float32Array(count)
      let o = 0
      for (const v of variables) {
        const d = v.dataSync() as Float32Array
        out.set(d, o)
        o += d.length
      }
      return out
    },
    setWeights: (flat) => {
      if (flat.length !== count) throw new RangeError(`model ${name} has ${count} parameters, got a weight vector of ${flat.length}`)
      let o = 0
      params.forEach((p, i) => {
        // A copy: on the cpu backend a tensor may keep the caller's array as its storage.
        const t = tf.tensor(flat.slice(o, o + p.size), [...p.shape])
        variables[i]!.assign(t)
        t.dispose()
        o += p.size
      })
    },
    dispose: () => variables.forEach((v) => v.dispose()),
  }
}

const mlpLogits =
  (vs: readonly tf.Variable[]) =>
  (x: tf.Tensor2D): tf.Tensor2D => {
    const [w1, b1, w2, b2, w3, b3] = vs as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable]
    const h1 = tf.relu(dense(x, w1 as tf.Tensor2D, b1 as tf.Tensor1D, false)) as tf.Tensor2D
    const h2 = tf.relu(dense(h1, w2 as tf.Tensor2D, b2 as tf.Tensor1D)) as tf.Tensor2D
    return dense(h2, w3 as tf.Tensor2D, b3 as tf.Tensor1D)
  }

const cnnLogits =
  (vs: readonly tf.Variable[]) =>
  (x: tf.Tensor2D): tf.Tensor2D => {
    const [c1, cb1, c2, cb2, w1, b1, w2, b2] = vs as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable]
    const img = tf.reshape(x, [-1, 28, 28, 1]) as tf.Tensor4D
    const a1 = tf.maxPool(tf.relu(tf.add(conv2dSame(img, c1 as tf.Tensor4D, false), cb1)) as tf.Tensor4D, 2, 2, "same")
    const a2 = tf.maxPool(tf.relu(tf.add(conv2dSame(a1, c2 as tf.Tensor4D), cb2)) as tf.Tensor4D, 2, 2, "same")
    const flat = tf.reshape(a2, [-1, 7 * 7 * 64]) as tf.Tensor2D
    const h = tf.relu(dense(flat, w1 as tf.Tensor2D, b1 as tf.Tensor1D)) as tf.Tensor2D
    return dense(h, w2 as tf.Tensor2D, b2 as tf.Tensor1D)
  }

/**
 * A stride-1 "same" convolution (odd square kernel) whose filter gradient is itself a forward
 * convolution. tfjs's own gradient calls the `Conv2DBackpropFilter` kernel, which the wasm backend
 * lacks and the cpu backend runs as a naive loop (75 s for one batch of 10 through conv2). Instead:
 * dW[i,j,c,o] = Σ_{b,y,x} xpad[b,y+i,x+j,c]·dy[b,y,x,o] is a "valid" conv of xpad (channels as
 * batch, batch as channels) with dy (batch as input channels) — the fast forward kernel on every
 * backend. Likewise dx is the "same" conv of dy with the filter flipped in space and its channels
 * swapped (faster than `Conv2DBackpropInput` on wasm); skipped when `inputGrad` is false (the
 * layer reads the images). So the CNN trains on every backend.
 */
export const conv2dSame = (x: tf.Tensor4D, filter: tf.Tensor4D, inputGrad = true): tf.Tensor4D => {
  const k = filter.shape[0]
  const pad = (k - 1) / 2
  if (!Number.isInteger(pad) || filter.shape[1] !== k) throw new RangeError(`conv2dSame needs an odd square kernel, got ${filter.shape.join("×")}`)
  // tfjs types the custom function's arguments as (Tensor | GradSaveFunc)[]: inputs, then `save`.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, fs, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc]
    save([xs, fs])
    return {
      value: tf.conv2d(xs, fs, 1, "same"),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf] = saved as [tf.Tensor4D, tf.Tensor4D]
        const g = dy as tf.Tensor4D
        const dx = inputGrad ? tf.conv2d(g, tf.transpose(tf.reverse(sf, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, "same") : tf.zerosLike(sx)
        const xpad = tf.pad(sx, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        const df = tf.transpose(tf.conv2d(tf.transpose(xpad, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D, 1, "valid"), [1, 2, 0, 3])
        return [dx, df]
      },
    }
  })
  return op(x, filter) as tf.Tensor4D
}

/**
 * A dense layer `x·w + b` whose gradients use explicitly transposed operands: tfjs's own gradient
 * calls matMul with transposeA/transposeB, which the wasm backend runs 2–3× slower than a transpose
 * followed by a plain matMul (1.8 ms against 0.5 ms for the 2NN's first layer at B = 10). When
 * `inputGrad` is false (the layer reads the images, which are not trained), dx is not computed.
 */
export const dense = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, inputGrad = true): tf.Tensor2D => {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, ws, bs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
    save([xs, ws])
    return {
      value: tf.add(tf.matMul(xs, ws), bs) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D]
        const g = dy as tf.Tensor2D
        const dx = inputGrad ? tf.matMul(g, tf.transpose(sw)) : tf.zerosLike(sx)
        return [dx, tf.matMul(tf.transpose(sx), g), tf.sum(g, 0)]
      },
    }
  })
  return op(x, w, b) as tf.Tensor2D
}

/** The 2NN's dense layers as [inputs, outputs]. */
const MLP_LAYERS: readonly (readonly [number, number])[] = [[784, 200], [200, 200], [200, 10]]

/**
 * The 2NN's local SGD without a gradient tape: a hand-written forward and backward pass of the
 * mean softmax cross-entropy, in 29 tfjs kernels a step (the tape path: ≈ 86), with the weights
 * kept **transposed** ([outputs, inputs], biases [outputs, 1]) and the activations as columns
 * ([features, batch]).
 *
 * Why transposed: tfjs-backend-wasm runs a matMul on XNNPACK's fully-connected operator, which
 * packs its second operand (the "weights") when it meets a tensor id for the first time and caches
 * the packing by that id. The plain layout `x·W` puts the layer's weights second, and SGD makes
 * new weight tensors every step, so every forward matMul repacked its weights: 1.1 ms of the step
 * for the first layer alone at B = 10 (measured), against 0.17 ms for `Wᵀ·xᵀ`, whose second
 * operand is the batch (784 × B floats to pack). The backward pass keeps the rule too: every matMul's
 * second operand is a batch-sized tensor (the input, an activation or an error), never a weight.
 *
 * The softmax and its gradient are computed in JS (float64) from the logits the step reads anyway
 * (10 × B floats), and the learning rate is folded into that gradient, so every parameter's update
 * is one `sub`. Loading and saving convert between this layout and the flat one (`initialWeights`'s)
 * in JS, once per round. Same math as the tape path up to float rounding (a test compares the
 * gradients with tfjs's autodiff); on one backend, bit-identical run to run.
 */
export interface MlpStepper {
  /** Loads a flat weight vector (the `mlp` layout of `architecture`). */
  load(flat: Float32Array): void
  /** The current weights as a flat vector. */
  save(): Float32Array
  /** One SGD step on a batch of `b` images (`x`: b × 784) with `labels`; returns the batch's summed loss (before the step). */
  step(x: Float32Array, labels: ArrayLike<number>, b: number, learningRate: number): number
  /** The gradient of the batch's mean loss at the current weights, flat (for tests; does not step). */
  gradient(x: Float32Array, labels: ArrayLike<number>, b: number): { readonly loss: number; readonly gradient: Float32Array }
  /** Frees the tensors. */
  dispose(): void
}

export function makeMlpStepper(): MlpStepper {
  const vars = MLP_LAYERS.flatMap(([i, o]) => [tf.variable(tf.zeros([o, i]), true), tf.variable(tf.zeros([o, 1]), true)])
  const count = paramCount("mlp")
  let xT = new Float32Array(0)
  let err = new Float32Array(0)

  /** The gradients of `scale` × the batch's summed loss, in the stepper's layout (call in tf.tidy). */
  const backprop = (x: Float32Array, labels: ArrayLike<number>, b: number, scale: number): { loss: number; grads: tf.Tensor[] } => {
    const [wt1, b1, wt2, b2, wt3, b3] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable]
    if (x.length < b * 784) throw new RangeError(`a batch of ${b} images needs ${b * 784} pixel values, got ${x.length}`)
    if (xT.length < b * 784) xT = new Float32Array(b * 784)
    for (let k = 0; k < b; k++) for (let i = 0; i < 784; i++) xT[i * b + k] = x[k * 784 + i]!
    const xs = tf.tensor2d(x.subarray(0, b * 784), [b, 784])
    const xts = tf.tensor2d(xT.subarray(0, b * 784), [784, b])
    const a1 = tf.relu(tf.add(tf.matMul(wt1 as tf.Tensor2D, xts), b1)) as tf.Tensor2D
    const a2 = tf.relu(tf.add(tf.matMul(wt2 as tf.Tensor2D, a1), b2)) as tf.Tensor2D
    const z = tf.add(tf.matMul(wt3 as tf.Tensor2D, a2), b3).dataSync() // logits [10, b]
    // Softmax cross-entropy and its gradient, per sample (column k), in float64.
    if (err.length < 10 * b) err = new Float32Array(10 * b)
    const bias = new Float64Array(10)
    let loss = 0
    for (let k = 0; k < b; k++) {
      const label = labels[k]!
      let max = -Infinity
      for (let c = 0; c < 10; c++) max = Math.max(max, z[c * b + k]!)
      let sum = 0
      for (let c = 0; c < 10; c++) sum += Math.exp(z[c * b + k]! - max)
      loss += Math.log(sum) + max - z[label * b + k]!
      for (let c = 0; c < 10; c++) {
        const g = scale * (Math.exp(z[c * b + k]! - max) / sum - (c === label ? 1 : 0))
        err[c * b + k] = g
        bias[c]! += g
      }
    }
    const d3 = tf.tensor2d(err.subarray(0, 10 * b), [10, b])
    const gW3 = tf.matMul(d3, tf.transpose(a2))
    const d2 = tf.mul(tf.matMul(tf.transpose(wt3) as tf.Tensor2D, d3), tf.step(a2)) as tf.Tensor2D
    const gW2 = tf.matMul(d2, tf.transpose(a1))
    const d1 = tf.mul(tf.matMul(tf.transpose(wt2) as tf.Tensor2D, d2), tf.step(a1)) as tf.Tensor2D
    const gW1 = tf.matMul(d1, xs)
    return { loss, grads: [gW1, tf.sum(d1, 1, true), gW2, tf.sum(d2, 1, true), gW3, tf.tensor2d(Float32Array.from(bias), [10, 1])] }
  }

  /** The stepper's layout → flat: kernels back to [inputs, outputs]. */
  const toFlat = (parts: readonly Float32Array[], out = new Float32Array(count)): Float32Array => {
    let at = 0
    MLP_LAYERS.forEach(([i, o], l) => {
      const wt = parts[2 * l]!
      for (let r = 0; r < i; r++) for (let c = 0; c < o; c++) out[at + r * o + c] = wt[c * i + r]!
      at += i * o
      out.set(parts[2 * l + 1]!, at)
      at += o
    })
    return out
  }

  return {
    load: (flat) => {
      if (flat.length !== count) throw new RangeError(`model mlp has ${count} parameters, got a weight vector of ${flat.length}`)
      let at = 0
      MLP_LAYERS.forEach(([i, o], l) => {
        const wt = new Float32Array(i * o)
        for (let r = 0; r < i; r++) for (let c = 0; c < o; c++) wt[c * i + r] = flat[at + r * o + c]!
        at += i * o
        const t = tf.tensor2d(wt, [o, i])
        const bt = tf.tensor2d(flat.slice(at, at + o), [o, 1])
        at += o
        vars[2 * l]!.assign(t)
        vars[2 * l + 1]!.assign(bt)
        t.dispose()
        bt.dispose()
      })
    },
    save: () => toFlat(vars.map((v) => v.dataSync() as Float32Array)),
    step: (x, labels, b, learningRate) =>
      tf.tidy(() => {
        const { loss, grads } = backprop(x, labels, b, learningRate / b)
        vars.forEach((v, i) => v.assign(tf.sub(v, grads[i]!)))
        return loss
      }),
    gradient: (x, labels, b) =>
      tf.tidy(() => {
        const { loss, grads } = backprop(x, labels, b, 1 / b)
        return { loss: loss / b, gradient: toFlat(grads.map((g) => g.dataSync() as Float32Array)) }
      }),
    dispose: () => vars.forEach((v) => v.dispose()),
  }
}
