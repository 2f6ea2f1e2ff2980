/**
 * Local training throughput of the tfjs trainer: samples/s of synchronous minibatch SGD (the
 * Trainer port's `train`) per available backend × batch size, for the 2NN (`mlp`) at B = 10, 32,
 * 128 and the CNN at B = 32. Beside each, the same model's inference samples/s (`evaluate`) in the
 * same run — the baseline: the ratio is the cost of the backward pass and the per-step overhead
 * (batch copy, tensor creation, one `dataSync` per step), which dominates at small batches.
 *
 * Each cell: one warm-up round, then rounds until MIN_S seconds have elapsed (at least 2); the
 * figure is the median round. `tensorflow` appears only when @tensorflow/tfjs-node(-gpu) imports.
 *
 * Run: npx node bench/training.bench.ts        env: MIN_S=3  BACKENDS=wasm,cpu
 */
import * as tf from "@tensorflow/tfjs"
import { Effect } from "effect"
import { loadDataset, subset } from "../runtime/adapters/data/index.ts"
import { disposeSharedModels, makeTfjsTrainer, type ModelName, selectBackend, type TfBackend } from "../runtime/adapters/tfjs/index.ts"

const MIN_S = Number(process.env.MIN_S ?? 3)
const mnist = loadDataset("mnist")

/** Samples per round: enough for many steps, small enough for the slow backends. */
const SAMPLES: Record<TfBackend, Record<ModelName, number>> = {
  tensorflow: { mlp: 2560, cnn: 640 },
  wasm: { mlp: 1280, cnn: 320 },
  cpu: { mlp: 640, cnn: 64 },
}
const CELLS: readonly (readonly [ModelName, number])[] = [["mlp", 10], ["mlp", 32], ["mlp", 128], ["cnn", 32]]

const candidates = (process.env.BACKENDS ?? "tensorflow,wasm,cpu").split(",") as TfBackend[]
const backends: TfBackend[] = []
for (const b of candidates) {
  try {
    await selectBackend(b, {})
    backends.push(b)
  } catch (e) {
    console.log(`skipping ${b}: ${(e as { reason?: string }).reason ?? String(e)}`)
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Median seconds of `f` over rounds filling MIN_S (after one warm-up). */
const timeIt = (f: (round: number) => void): number => {
  f(0)
  const times: number[] = []
  const start = performance.now()
  for (let r = 1; times.length < 2 || (performance.now() - start) / 1000 < MIN_S; r++) {
    const t0 = performance.now()
    f(r)
    times.push((performance.now() - t0) / 1000)
  }
  return median(times)
}

const rows: string[] = []
for (const backend of backends) {
  disposeSharedModels()
  await selectBackend(backend, {})
  for (const [model, batchSize] of CELLS) {
    const n = SAMPLES[backend][model]
    const data = subset(mnist.train, Array.from({ length: n }, (_, i) => i))
    const t = makeTfjsTrainer({ model, data, seed: 1, backend })
    const w = Effect.runSync(t.initialWeights)
    const train = timeIt((round) => void Effect.runSync(t.train(w, { round, localEpochs: 1, batchSize, learningRate: 0.05 })))
    const infer = timeIt(() => void Effect.runSync(t.evaluate(w)))
    const row = `| ${backend} | ${model} | ${batchSize} | ${n} | ${Math.round(n / train).toLocaleString("en")} | ${((train / Math.ceil(n / batchSize)) * 1000).toFixed(2)} | ${Math.round(n / infer).toLocaleString("en")} | ${(infer / train).toFixed(2)} |`
    console.log(row)
    rows.push(row)
  }
}
console.log(`\nNode ${process.version}, tfjs ${tf.version.tfjs}, MNIST (mnist package)\n`)
console.log("| backend | model | batch | samples/round | train samples/s | ms/step | inference samples/s (baseline) | train ÷ inference speed |")
console.log("|---|---|---|---|---|---|---|---|")
for (const r of rows) console.log(r)
