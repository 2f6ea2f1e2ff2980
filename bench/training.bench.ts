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
 * Then, on wasm, the 2NN at B = 10 and 32 in-thread against in a worker thread (the pool of
 * runtime/adapters/tfjs/pool.ts): CPU ms per step of the thread that trains (process.threadCpuUsage,
 * so other load on the machine does not count), wall ms per step, per-step overhead (CPU time per
 * step minus what its FLOPs take at the matmul peak), and GFLOP/s per core against the tfjs-wasm
 * matmul peak (512×512, per CPU second) measured in the same run; last, two workers training two
 * shards at once (one per core): their FLOPs per wall second ÷ (2 × peak). Each place is warmed with
 * three untimed rounds (four with both workers at once) and timed as the median of five.
 *
 * Run: npx node bench/training.bench.ts        env: MIN_S=3  BACKENDS=wasm,cpu  WORKERS_ONLY=1
 */
import * as tf from "@tensorflow/tfjs"
import { Effect } from "effect"
import { loadDataset, subset } from "../runtime/adapters/data/index.ts"
import { disposeSharedModels, makeTfjsTrainer, makeTrainerPool, type ModelName, selectBackend, type TfBackend } from "../runtime/adapters/tfjs/index.ts"

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
for (const backend of process.env.WORKERS_ONLY === "1" ? [] : backends) {
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

// ---- in-thread vs worker threads (wasm, 2NN) ----

/** FLOPs of one 2NN SGD step at batch b: forward 2b·W, weight gradients 2b·W, input gradients of layers 2–3 (layer 1 reads the images). */
const MLP_WEIGHTS = 784 * 200 + 200 * 200 + 200 * 10
const stepFlops = (b: number): number => 2 * b * MLP_WEIGHTS * 2 + 2 * b * (200 * 200 + 200 * 10)
const threadCpuMs = (f: () => void): number => {
  const t0 = process.threadCpuUsage()
  f()
  const d = process.threadCpuUsage(t0)
  return (d.user + d.system) / 1000
}

/** tfjs-wasm matmul peak, GFLOP/s per CPU second of this thread (512×512 fp32, median of 5 runs of 10). */
const matmulPeak = (): number => {
  const a = tf.randomNormal([512, 512])
  const b = tf.randomNormal([512, 512])
  const once = () => {
    const c = tf.matMul(a, b)
    c.dataSync()
    c.dispose()
  }
  for (let i = 0; i < 3; i++) once()
  const runs = Array.from({ length: 5 }, () => threadCpuMs(() => { for (let i = 0; i < 10; i++) once() }))
  a.dispose()
  b.dispose()
  return (2 * 512 ** 3 * 10) / (median(runs) / 1000) / 1e9
}

if (backends.includes("wasm")) {
  disposeSharedModels()
  await selectBackend("wasm", {})
  const peak = matmulPeak()
  const n = SAMPLES.wasm.mlp
  const shard = (k: number) => subset(mnist.train, Array.from({ length: n }, (_, i) => k * n + i))
  const pool = makeTrainerPool({ backend: "wasm", threads: 2 })
  const out: string[] = []
  const line = (mode: string, b: number, cpuMs: number, wallMs: number) => {
    const gflops = stepFlops(b) / (cpuMs / 1000) / 1e9
    const mathMs = (stepFlops(b) / (peak * 1e9)) * 1000
    out.push(`| ${mode} | ${b} | ${cpuMs.toFixed(2)} | ${wallMs.toFixed(2)} | ${(cpuMs - mathMs).toFixed(2)} (${Math.round((100 * (cpuMs - mathMs)) / cpuMs)} %) | ${gflops.toFixed(2)} | ${Math.round((100 * gflops) / peak)} % |`)
    console.log(out.at(-1))
  }
  for (const b of [10, 32]) {
    const spec = (round: number) => ({ round, localEpochs: 1, batchSize: b, learningRate: 0.05 })
    const steps = Math.ceil(n / b)
    const t = makeTfjsTrainer({ model: "mlp", data: shard(0), seed: 1, backend: "wasm" })
    const w = Effect.runSync(t.initialWeights)
    // Three untimed rounds in each place before timing: a thread's first rounds (JIT, wasm, model
    // variables) run up to 3× its steady step, and one warm-up round left the medians on them.
    for (let r = 0; r < 3; r++) Effect.runSync(t.train(w, spec(r)))
    const cpu: number[] = []
    const wall: number[] = []
    for (let r = 1; r <= 5; r++) {
      const t0 = performance.now()
      cpu.push(threadCpuMs(() => Effect.runSync(t.train(w, spec(r)))) / steps)
      wall.push((performance.now() - t0) / steps)
    }
    line("in-thread", b, median(cpu), median(wall))
    const p = pool.trainer({ model: "mlp", data: shard(0), seed: 1 })
    for (let r = 0; r < 3; r++) await Effect.runPromise(p.trainTimed(w, spec(r)))
    const pcpu: number[] = []
    const pwall: number[] = []
    for (let r = 1; r <= 5; r++) {
      const t0 = performance.now()
      const u = await Effect.runPromise(p.trainTimed(w, spec(r)))
      pwall.push((performance.now() - t0) / steps)
      pcpu.push(u.cpuMicros / 1000 / steps)
    }
    line("1 worker", b, median(pcpu), median(pwall))
    // Two shards at once, one per worker: both cores.
    const q = pool.trainer({ model: "mlp", data: shard(1), seed: 2 })
    // Warm-up with both at once: tinypool gives a call to whichever worker is idle, so each worker meets both shards.
    for (let r = 0; r < 4; r++) await Promise.all([Effect.runPromise(p.trainTimed(w, spec(r))), Effect.runPromise(q.trainTimed(w, spec(r)))])
    const both: number[] = []
    const bothCpu: number[] = []
    for (let r = 1; r <= 5; r++) {
      const t0 = performance.now()
      const us = await Promise.all([Effect.runPromise(p.trainTimed(w, spec(r))), Effect.runPromise(q.trainTimed(w, spec(r)))])
      both.push((performance.now() - t0) / (2 * steps))
      bothCpu.push(us.reduce((s, u) => s + u.cpuMicros, 0) / 1000 / (2 * steps))
    }
    const wallGflops = stepFlops(b) / (median(both) / 1000) / 1e9
    line("2 workers (per step of either)", b, median(bothCpu), median(both))
    out.push(`| 2 workers: both cores | ${b} | | | | ${wallGflops.toFixed(2)} per wall s | ${Math.round((100 * wallGflops) / (2 * peak))} % of 2 × peak |`)
    console.log(out.at(-1))
  }
  await pool.close()
  console.log(`\ntfjs-wasm matmul peak (512×512, per CPU second of one thread): ${peak.toFixed(1)} GFLOP/s; ${n} samples per round; step FLOPs ${stepFlops(10).toLocaleString("en")} at B = 10\n`)
  console.log("| where | batch | CPU ms/step | wall ms/step | overhead: CPU ms/step − FLOPs at peak | GFLOP/s per CPU s | of matmul peak |")
  console.log("|---|---|---|---|---|---|---|")
  for (const r of out) console.log(r)
}
