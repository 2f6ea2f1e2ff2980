import { createHash } from "node:crypto"
import * as tf from "@tensorflow/tfjs"
import { Effect, Exit } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { testSetup } from "../../services/compliance/test-setup.ts"
import { trainerSuite, type TrainerSetupArgs } from "../../services/compliance/trainer/index.ts"
import { Trainer, type TrainSpec, TrainerError } from "../../services/trainer.ts"
import { loadDataset, type Split, subset } from "../data/index.ts"
import { hasKernel, selectBackend } from "./backend.ts"
import { architecture, conv2dSame, dense, initialWeights, makeMlpStepper, makeModel, paramCount } from "./model.ts"
import { seededRandom } from "./rng.ts"
import { disposeSharedModels, layerTfjs, makeTfjsTrainer } from "./trainer.ts"

const hash = (w: Float32Array): string => createHash("sha256").update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)).digest("hex")
const first = (split: Split, n: number): Split => subset(split, Array.from({ length: n }, (_, i) => i))
const add = (w: Float32Array, d: Float32Array): Float32Array => w.map((v, i) => v + d[i]!)
const spec = (round: number, over: Partial<TrainSpec> = {}): TrainSpec => ({ round, localEpochs: 1, batchSize: 10, learningRate: 0.1, ...over })

const failure = <A>(e: Effect.Effect<A, TrainerError>): TrainerError => {
  const exit = Effect.runSyncExit(e)
  if (Exit.isSuccess(exit)) throw new Error("expected a TrainerError")
  const err = exit.cause.reasons.map((r) => ("error" in r ? r.error : undefined)).find((x) => x !== undefined)
  expect(err).toBeInstanceOf(TrainerError)
  return err as TrainerError
}

/** The reason of the TrainerError `f` throws. */
const reasonOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(TrainerError)
    return (e as TrainerError).reason
  }
  throw new Error("expected a TrainerError")
}

const mnist = loadDataset("mnist")

describe("models", () => {
  it("the 2NN has McMahan's 199,210 parameters, the CNN 1,663,370", () => {
    expect(paramCount("mlp")).toBe(199_210)
    expect(paramCount("cnn")).toBe(1_663_370)
    expect(architecture("mlp").map((p) => p.shape)).toEqual([[784, 200], [200], [200, 200], [200], [200, 10], [10]])
  })

  it("initial weights are Glorot uniform from the seed, biases zero", () => {
    const w = initialWeights("mlp", 7)
    expect(hash(w)).toBe(hash(initialWeights("mlp", 7)))
    expect(hash(w)).not.toBe(hash(initialWeights("mlp", 8)))
    const limit = Math.sqrt(6 / (784 + 200))
    const k1 = w.subarray(0, 784 * 200)
    const max = k1.reduce((a, b) => Math.max(a, b), -Infinity)
    const min = k1.reduce((a, b) => Math.min(a, b), Infinity)
    expect(max).toBeLessThanOrEqual(limit)
    expect(min).toBeGreaterThanOrEqual(-limit)
    expect(Math.min(max, -min)).toBeGreaterThan(limit * 0.99) // uniform over the whole range
    expect(w.subarray(784 * 200, 784 * 200 + 200).every((v) => v === 0)).toBe(true)
  })
})

describe("tfjs trainer on wasm", () => {
  beforeAll(async () => {
    expect(await selectBackend("wasm", {})).toBe("wasm")
  })

  it("a few hundred SGD steps on MNIST lift test accuracy far above chance", () => {
    const t = makeTfjsTrainer({ model: "mlp", data: first(mnist.train, 2000), test: mnist.test, seed: 1, backend: "wasm" })
    expect(t.backend).toBe("wasm")
    const w0 = Effect.runSync(t.initialWeights)
    const before = Effect.runSync(t.evaluate(w0))
    expect(before.samples).toBe(mnist.test.labels.length)
    expect(before.accuracy).toBeLessThan(0.3)
    const u = Effect.runSync(t.train(w0, spec(0))) // 200 steps of 10
    expect(u.samples).toBe(2000)
    const after = Effect.runSync(t.evaluate(add(w0, u.delta)))
    expect(after.accuracy).toBeGreaterThan(0.75)
    expect(after.loss).toBeLessThan(before.loss)
  })

  it("is deterministic: same seed → bit-identical weights; another seed or round shuffles differently", () => {
    const data = first(mnist.train, 300)
    const run = (seed: number, round: number): string => {
      const t = makeTfjsTrainer({ model: "mlp", data, seed, modelSeed: 5, backend: "wasm" })
      const w0 = Effect.runSync(t.initialWeights)
      const u = Effect.runSync(t.train(w0, spec(round, { localEpochs: 2 })))
      return hash(add(w0, u.delta))
    }
    const a = run(3, 1)
    expect(run(3, 1)).toBe(a)
    expect(run(4, 1)).not.toBe(a)
    expect(run(3, 2)).not.toBe(a)
  })

  it("does not leak tensors across rounds", () => {
    const t = makeTfjsTrainer({ model: "mlp", data: first(mnist.train, 100), seed: 2, backend: "wasm" })
    let w = Effect.runSync(t.initialWeights)
    const step = (round: number): number => {
      w = add(w, Effect.runSync(t.train(w, spec(round))).delta)
      Effect.runSync(t.evaluate(w))
      return tf.memory().numTensors
    }
    const n1 = step(0)
    expect(step(1)).toBe(n1)
    expect(step(2)).toBe(n1)
  })

  it("rejects bad weights, specs and data with a TrainerError", () => {
    const t = makeTfjsTrainer({ model: "mlp", data: first(mnist.train, 20), seed: 1, backend: "wasm" })
    const w = Effect.runSync(t.initialWeights)
    expect(failure(t.train(new Float32Array(5), spec(0))).reason).toMatch(/global weights have 5 values, model mlp has 199210/)
    expect(failure(t.train(w, spec(0, { batchSize: 0 }))).reason).toMatch(/batchSize must be an integer ≥ 1, got 0/)
    expect(failure(t.train(w, spec(0, { learningRate: Number.NaN }))).reason).toMatch(/learningRate must be a number > 0/)
    expect(failure(t.evaluate(new Float32Array(3))).operation).toBe("evaluate")
    expect(reasonOf(() => makeTfjsTrainer({ model: "mlp", data: { images: new Float32Array(10), labels: new Uint8Array(1) }, seed: 1, backend: "wasm" }))).toMatch(/10 pixel values for 1 labels/)
    expect(reasonOf(() => makeTfjsTrainer({ model: "mlp", data: first(mnist.train, 5), seed: 1, backend: "cpu" }))).toMatch(/backend cpu is not the active TensorFlow\.js backend \(wasm\)/)
  })

  it("layerTfjs selects the backend and provides the Trainer port; a bad backend fails the layer", async () => {
    const program = Effect.gen(function* () {
      const t = yield* Trainer
      return t.backend
    })
    const data = first(mnist.train, 10)
    expect(await Effect.runPromise(Effect.provide(program, layerTfjs({ model: "mlp", data, seed: 1, backend: "wasm" })))).toBe("wasm")
    const exit = await Effect.runPromiseExit(Effect.provide(program, layerTfjs({ model: "mlp", data, seed: 1, backend: "gpu" })))
    const err = Exit.isFailure(exit) ? exit.cause.reasons.map((r) => ("error" in r ? r.error : undefined)).find((x) => x !== undefined) : undefined
    expect(err).toBeInstanceOf(TrainerError)
    expect((err as TrainerError).reason).toMatch(/--backend: unknown TensorFlow\.js backend "gpu"/)
  })

  it("the 2NN's hand-written step: its gradient equals tfjs's autodiff of the same loss, and a step moves the weights by −lr × it", () => {
    const b = 10
    const x = mnist.train.images.slice(0, b * 784)
    const labels = mnist.train.labels.slice(0, b)
    const w = initialWeights("mlp", 3)
    const stepper = makeMlpStepper()
    const model = makeModel("mlp", 3)
    try {
      stepper.load(w)
      expect(hash(stepper.save())).toBe(hash(w)) // the transposed layout round-trips exactly
      const ours = stepper.gradient(x, labels, b)
      const y = new Float32Array(b * 10)
      labels.forEach((l, i) => (y[i * 10 + l] = 1))
      const theirs = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(tf.tensor2d(y, [b, 10]), model.logits(tf.tensor2d(x, [b, 784]))) as tf.Scalar,
          model.variables as tf.Variable[],
        )
        const flat = new Float32Array(w.length)
        let at = 0
        for (const v of model.variables) {
          const g = grads[v.name]!.dataSync()
          flat.set(g, at)
          at += g.length
        }
        return { loss: value.dataSync()[0]!, gradient: flat }
      })
      expect(ours.loss).toBeCloseTo(theirs.loss, 5)
      let worst = 0
      let largest = 0
      for (let i = 0; i < w.length; i++) {
        worst = Math.max(worst, Math.abs(ours.gradient[i]! - theirs.gradient[i]!))
        largest = Math.max(largest, Math.abs(theirs.gradient[i]!))
      }
      expect(largest).toBeGreaterThan(0.01)
      expect(worst).toBeLessThan(1e-6)
      const lr = 0.1
      expect(stepper.step(x, labels, b, lr) / b).toBeCloseTo(theirs.loss, 5)
      const after = stepper.save()
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(after[i]! - (w[i]! - lr * theirs.gradient[i]!)))
      expect(worst).toBeLessThan(1e-6)
    } finally {
      stepper.dispose()
      model.dispose()
    }
  })

  it("cnn trains on wasm although the backend has no Conv2DBackpropFilter kernel", () => {
    expect(hasKernel("Conv2DBackpropFilter", "wasm")).toBe(false) // why conv2dSame exists
    const t = makeTfjsTrainer({ model: "cnn", data: first(mnist.train, 30), seed: 1, backend: "wasm" })
    const w0 = Effect.runSync(t.initialWeights)
    const before = Effect.runSync(t.evaluate(w0))
    const u = Effect.runSync(t.train(w0, spec(0, { learningRate: 0.05, localEpochs: 2 })))
    expect(u.delta.length).toBe(1_663_370)
    expect(Effect.runSync(t.evaluate(add(w0, u.delta))).loss).toBeLessThan(before.loss)
  })
})

describe("tfjs trainer on cpu", () => {
  beforeAll(async () => {
    disposeSharedModels()
    expect(await selectBackend("cpu", {})).toBe("cpu")
  })

  it("the mlp gives the same update on cpu as on wasm up to float rounding", async () => {
    const data = first(mnist.train, 50)
    const run = (): Float32Array => {
      const t = makeTfjsTrainer({ model: "mlp", data, seed: 9, backend: tf.getBackend() as "cpu" | "wasm" })
      const w0 = Effect.runSync(t.initialWeights)
      return Effect.runSync(t.train(w0, spec(0))).delta
    }
    const onCpu = run()
    disposeSharedModels()
    await selectBackend("wasm", {})
    const onWasm = run()
    disposeSharedModels()
    await selectBackend("cpu", {})
    let worst = 0
    for (let i = 0; i < onCpu.length; i++) worst = Math.max(worst, Math.abs(onCpu[i]! - onWasm[i]!))
    expect(worst).toBeLessThan(1e-4)
    expect(onCpu.some((v) => v !== 0)).toBe(true)
  })

  it("conv2dSame's gradients equal tfjs's own (Conv2DBackpropFilter/Input) ones", () => {
    const r = seededRandom(1, "test")
    const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() * 2 - 1), shape)
    const x = rand([2, 8, 8, 3]) as tf.Tensor4D
    const f = rand([5, 5, 3, 4]) as tf.Tensor4D
    const dy = rand([2, 8, 8, 4])
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([x, f])
    const theirs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"), dy)))([x, f])
    for (let i = 0; i < 2; i++) {
      expect(tf.max(tf.abs(tf.sub(ours[i]!, theirs[i]!))).dataSync()[0]).toBeLessThan(1e-4)
      expect(tf.max(tf.abs(theirs[i]!)).dataSync()[0]).toBeGreaterThan(0.1)
    }
    tf.dispose([x, f, dy, ...ours, ...theirs])
  })

  it("dense's gradients equal tfjs's own (matMul with transposed operands) ones", () => {
    const r = seededRandom(2, "test")
    const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() * 2 - 1), shape)
    const [x, w, b, dy] = [rand([4, 6]), rand([6, 3]), rand([3]), rand([4, 3])]
    const ours = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(dense(a as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D), dy)))([x!, w!, b!])
    const theirs = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(a as tf.Tensor2D, c as tf.Tensor2D), d), dy)))([x!, w!, b!])
    for (let i = 0; i < 3; i++) {
      expect(tf.max(tf.abs(tf.sub(ours[i]!, theirs[i]!))).dataSync()[0]).toBeLessThan(1e-5)
      expect(tf.max(tf.abs(theirs[i]!)).dataSync()[0]).toBeGreaterThan(0.1)
    }
    tf.dispose([x!, w!, b!, dy!, ...ours, ...theirs])
  })
})

describe("tfjs trainer: the port's compliance suite", () => {
  beforeAll(async () => {
    disposeSharedModels()
    expect(await selectBackend("wasm", {})).toBe("wasm")
  })

  // The smallest model on 100 training and 200 held-out images: a few seconds for the whole suite.
  trainerSuite("tfjs mlp on wasm", testSetup(async ({ seed }: TrainerSetupArgs) => ({
    trainer: makeTfjsTrainer({ model: "mlp", data: first(mnist.train, 100), test: first(mnist.test, 200), seed, backend: "wasm" }),
    spec: spec(0),
  })))
})
