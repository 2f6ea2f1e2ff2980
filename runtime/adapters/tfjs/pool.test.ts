import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadDataset, subset } from "../data/index.ts"
import { TrainerError } from "../../services/trainer.ts"
import { initialWeights, makeTfjsTrainer, selectBackend } from "./index.ts"
import { makeTrainerPool } from "./pool.ts"
import { prepareLmFinetune } from "./lm/finetune.ts"

const mnist = loadDataset("mnist")
const data = subset(mnist.train, Array.from({ length: 120 }, (_, i) => i))
const test = subset(mnist.test, Array.from({ length: 100 }, (_, i) => i))
const hash = (a: Float32Array) => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex")
const spec = (round: number) => ({ round, localEpochs: 1, batchSize: 10, learningRate: 0.05 })

const pool = makeTrainerPool({ backend: "wasm", threads: 1 })
beforeAll(async () => {
  await selectBackend("wasm", {})
})
afterAll(() => pool.close())

describe("the tfjs trainer pool (training in worker threads)", () => {
  it("gives bit-identical updates and evaluations to the in-thread trainer (same seed, shard, weights), round after round", async () => {
    const inThread = makeTfjsTrainer({ model: "mlp", data, test, seed: "s/alice", modelSeed: "s", backend: "wasm" })
    const pooled = pool.trainer({ model: "mlp", data, test, seed: "s/alice", modelSeed: "s" })
    const w0 = Effect.runSync(inThread.initialWeights)
    expect(hash(Effect.runSync(pooled.initialWeights))).toBe(hash(w0))
    let w = w0
    for (const round of [1, 2]) {
      const before = hash(w)
      // The event loop runs while the worker trains: an immediate callback sees the update still pending.
      let settled = false
      const call = Effect.runPromise(pooled.train(w, spec(round))).finally(() => (settled = true))
      const seenPending = await new Promise<boolean>((resolve) => setImmediate(() => resolve(!settled)))
      expect(seenPending).toBe(true)
      const a = Effect.runSync(inThread.train(w, spec(round)))
      const b = await call
      expect(hash(w)).toBe(before) // the caller's weights are copied, never moved away
      expect(b.delta.length).toBe(a.delta.length)
      expect(hash(b.delta)).toBe(hash(a.delta))
      expect(b.loss).toBe(a.loss)
      expect(b.samples).toBe(a.samples)
      w = w.map((v, i) => v + a.delta[i]!)
    }
    expect(await Effect.runPromise(pooled.evaluate(w))).toEqual(Effect.runSync(inThread.evaluate(w)))
  })

  it("a worker that dies fails that call with a TrainerError; the process and other pools go on", async () => {
    // A heap too small for tfjs: each worker dies of it, for real (ERR_WORKER_OUT_OF_MEMORY).
    const starved = makeTrainerPool({ backend: "wasm", threads: 1, resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 } })
    const t = starved.trainer({ model: "mlp", data, seed: 1 })
    for (let i = 0; i < 2; i++) {
      const exit = await Effect.runPromiseExit(t.train(initialWeights("mlp", 1), spec(0)))
      expect(Exit.isFailure(exit)).toBe(true)
      const err = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      expect(err !== undefined && "error" in err ? err.error : undefined).toBeInstanceOf(TrainerError)
    }
    await starved.close()
    const u = await Effect.runPromise(pool.trainer({ model: "mlp", data, seed: 1 }).train(initialWeights("mlp", 1), spec(0)))
    expect(u.samples).toBe(data.labels.length)
  })

  it("refuses bad data in the caller's thread, and every call after close, with a TrainerError", async () => {
    expect(() => pool.trainer({ model: "mlp", data: { images: new Float32Array(3), labels: new Uint8Array(1) }, seed: 1 })).toThrow(TrainerError)
    const closing = makeTrainerPool({ backend: "wasm", threads: 1 })
    const t = closing.trainer({ model: "mlp", data, seed: 1 })
    await closing.close()
    const exit = await Effect.runPromiseExit(t.train(initialWeights("mlp", 1), spec(0)))
    expect(Exit.isFailure(exit) && String(exit.cause)).toContain("closed")
  })

  it("a process that trained in a pool and closed it exits on its own (no thread left running)", async () => {
    const script = `
      import { Effect } from "effect"
      import { makeTrainerPool } from ${JSON.stringify(new URL("./pool.ts", import.meta.url).href)}
      import { initialWeights } from ${JSON.stringify(new URL("./model.ts", import.meta.url).href)}
      const images = new Float32Array(20 * 784).fill(0.5), labels = new Uint8Array(20).map((_, i) => i % 10)
      const pool = makeTrainerPool({ backend: "cpu", threads: 2 })
      const u = await Effect.runPromise(pool.trainer({ model: "mlp", data: { images, labels }, seed: 1 }).train(initialWeights("mlp", 1), { round: 0, localEpochs: 1, batchSize: 10, learningRate: 0.05 }))
      await pool.close()
      console.log("trained " + u.samples)`
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: new URL("../../..", import.meta.url) }, (_e, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }))
    })
    expect(out.stdout, out.stderr).toContain("trained 20")
    expect(out.code).toBe(0)
  }, 180_000)
})

// Sixty short entries, each ending with its `%` line as in the corpus's split (no corpus needed).
const proverbs = Array.from({ length: 60 }, (_, i) => `${["A watched pot never boils.", "Still waters run deep.", "Fortune favours the bold."][i % 3]} (${i})\n\t\t-- Proverb ${i}\n%\n`).join("")

describe("the language model's fine-tuning in the pool", () => {
  it("gives bit-identical updates and evaluations to the in-thread trainer (same seed, windows, weights), round after round", async () => {
    const f = prepareLmFinetune({ validation: proverbs, clients: 2, evalWindows: 2 })
    const o = { seed: "s/0", perRound: 2 }
    const inThread = f.trainer(0, { ...o, backend: "wasm" })
    const pooled = pool.lmTrainer({ base: f.base, data: f.shards[0]!, test: f.evaluation, ...o })
    const w0 = Effect.runSync(inThread.initialWeights)
    expect(hash(Effect.runSync(pooled.initialWeights))).toBe(hash(w0))
    let w = w0
    // Two rounds: the second trains on the shard's next windows, with the checkpoint and windows the worker kept.
    for (const round of [0, 1]) {
      const s = { round, localEpochs: 1, batchSize: 2, learningRate: 0.1 }
      const before = hash(w)
      let settled = false
      const call = Effect.runPromise(pooled.train(w, s)).finally(() => (settled = true))
      expect(await new Promise<boolean>((resolve) => setImmediate(() => resolve(!settled)))).toBe(true)
      const a = Effect.runSync(inThread.train(w, s))
      const b = await call
      expect(hash(w)).toBe(before)
      expect(b.delta.length).toBe(f.base.initialTail.length)
      expect(hash(b.delta)).toBe(hash(a.delta))
      expect(b.loss).toBe(a.loss)
      expect(b.samples).toBe(2)
      expect(a.delta.some((x) => x !== 0)).toBe(true)
      w = w.map((v, i) => v + a.delta[i]!)
    }
    expect(await Effect.runPromise(pooled.evaluate(w))).toEqual(f.evaluate(w))
    // Bad weights fail that call with the in-thread trainer's TrainerError; bad options are refused in the caller's thread.
    const exit = await Effect.runPromiseExit(pooled.train(new Float32Array(10), { round: 0, localEpochs: 1, batchSize: 2, learningRate: 0.1 }))
    expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/global weights have 10 values, the model's tail \(block\/3 \+ head\) has 66752/)
    expect(() => pool.lmTrainer({ base: f.base, data: f.shards[0]!, ...o, perRound: 0 })).toThrow(TrainerError)
  }, 120_000)
})
