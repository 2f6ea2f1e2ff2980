import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { blockSection, initialWeights, type LmConfig, paramCount, section, sections } from "../../../core/lm/config.ts"
import { argmax } from "../../../core/lm/sampling.ts"
import { encode } from "../../../core/lm/tokenizer.ts"
import { selectBackend } from "../backend.ts"
import { seededRandom } from "../rng.ts"
import { CheckpointError, loadCheckpoint, readSections, saveCheckpoint, WEIGHTS_FILE } from "./checkpoint.ts"
import { disposeCache, emptyCache, type Gpt, makeGpt, makeGptPart } from "./gpt.ts"
import { generateTokens } from "./generate.ts"

const config: LmConfig = { vocabSize: 256, contextLength: 24, dim: 16, heads: 2, blocks: 4, hidden: 32 }

// Weights drawn with a larger spread than GPT-2's 0.02, so the logits differ visibly between tokens
// and a wrong wiring (a missing mask, a cache off by one) changes the argmax.
const weights = (() => {
  const w = initialWeights(config, seededRandom(3, "gpt-test"))
  return w.map((x) => x * 20)
})()

const tokens = encode("Hello, world! A tiny text.")

let model: Gpt
beforeAll(async () => {
  await selectBackend("cpu")
  model = makeGpt(config, weights)
})
afterAll(() => model.dispose())

const asTensor = (t: readonly number[]): tf.Tensor2D => tf.tensor2d(Int32Array.from(t), [1, t.length], "int32")
const logitsOf = (t: readonly number[]): Float32Array => tf.tidy(() => model.forward(asTensor(t)).dataSync() as Float32Array)

/** Greedy decoding by recomputing the whole sequence for every token (no cache). */
const greedyFull = (context: readonly number[], n: number): number[] => {
  const seq = [...context]
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const all = logitsOf(seq)
    const t = argmax(all.subarray((seq.length - 1) * config.vocabSize, seq.length * config.vocabSize))
    out.push(t)
    seq.push(t)
  }
  return out
}

describe("GPT blocks", () => {
  it("each block has its own section of the weights; the sections tile the flat vector", () => {
    const s = sections(config)
    expect(s.map((x) => x.name)).toEqual(["embed", "block/0", "block/1", "block/2", "block/3", "head"])
    s.forEach((x, i) => expect(x.offset).toBe(i === 0 ? 0 : s[i - 1]!.offset + s[i - 1]!.size))
    expect(s.at(-1)!.offset + s.at(-1)!.size).toBe(paramCount(config))
    expect(model.held).toEqual(s.map((x) => x.name))
  })

  it("embed → block 0 → … → block 3 → head, one at a time, equals the whole model's forward", () => {
    const t = tokens.slice(0, 12)
    const whole = logitsOf(t)
    const stepwise = tf.tidy(() => {
      let x = model.embed(asTensor(t))
      for (let i = 0; i < config.blocks; i++) x = model.block(i)(x)
      return model.head(x).dataSync() as Float32Array
    })
    expect(Array.from(stepwise)).toEqual(Array.from(whole))
  })

  it("parts holding separate ranges of blocks, chained, give the whole model's logits (a two-stage pipeline)", () => {
    const slice = (name: string) => weights.slice(section(config, name).offset, section(config, name).offset + section(config, name).size)
    const first = makeGptPart(config, new Map(["embed", blockSection(0), blockSection(1)].map((n) => [n, slice(n)])))
    const second = makeGptPart(config, new Map([blockSection(2), blockSection(3), "head"].map((n) => [n, slice(n)])))
    try {
      const t = tokens.slice(0, 10)
      const piped = tf.tidy(() => {
        let x = first.embed(asTensor(t))
        x = first.block(1)(first.block(0)(x))
        // The activations cross the stage boundary as plain floats, as they would on the wire.
        const wire = { shape: x.shape, data: Float32Array.from(x.dataSync()) }
        let y = tf.tensor3d(wire.data, wire.shape)
        y = second.block(3)(second.block(2)(y))
        return second.head(y).dataSync() as Float32Array
      })
      expect(Array.from(piped)).toEqual(Array.from(logitsOf(t)))
      expect(() => first.head(tf.zeros([1, 1, config.dim]))).toThrow(/does not hold section head/)
      expect(() => second.block(0)).toThrow(/does not hold section block\/0/)
    } finally {
      first.dispose()
      second.dispose()
    }
  })

  it("is causal: a position's logits do not depend on later tokens", () => {
    const a = logitsOf(encode("abcdefgh"))
    const b = logitsOf(encode("abcdeXYZ"))
    expect(Array.from(a.subarray(0, 5 * 256))).toEqual(Array.from(b.subarray(0, 5 * 256)))
  })

  it("incremental decoding with the KV cache gives the logits of full recomputation, and the same greedy tokens", () => {
    const t = tokens.slice(0, 16)
    const full = logitsOf(t)
    const caches = Array.from({ length: config.blocks }, emptyCache)
    try {
      // A prefix of 5 at once, then one token at a time.
      const parts = [t.slice(0, 5), ...t.slice(5).map((x) => [x])]
      let at = 0
      for (const p of parts) {
        const got = tf.tidy(() => model.forward(asTensor(p), at, caches).dataSync() as Float32Array)
        const want = full.subarray(at * 256, (at + p.length) * 256)
        got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4))
        at += p.length
        expect(caches.every((c) => c.length === at)).toBe(true)
      }
    } finally {
      caches.forEach(disposeCache)
    }
    const context = encode("The ")
    const cached = generateTokens(model, context, { maxTokens: 16, temperature: 0, seed: 1 })
    expect(cached).toEqual(greedyFull(context, 16))
  })

  it("keeps decoding past the context with a sliding window, and leaks no tensors", () => {
    const before = tf.memory().numTensors
    const out = generateTokens(model, encode("ab"), { maxTokens: 40, temperature: 1, seed: 9 })
    expect(out).toHaveLength(40)
    expect(tf.memory().numTensors).toBe(before)
  })

  it("sampling with a seed is repeatable", () => {
    const o = { maxTokens: 20, temperature: 1, seed: "s" }
    expect(generateTokens(model, encode("x"), o)).toEqual(generateTokens(model, encode("x"), o))
  })

  it("refuses positions beyond the context and blocks it does not have", () => {
    expect(() => tf.tidy(() => model.embed(asTensor([1, 2]), config.contextLength - 1))).toThrow(/exceed the model's context/)
    expect(() => model.block(config.blocks)).toThrow(/does not exist/)
  })
})

describe("checkpoint files", () => {
  const dir = mkdtempSync(join(tmpdir(), "dai-lm-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("saves and loads the weights; a range of sections reads just their slices", () => {
    saveCheckpoint(dir, config, weights)
    const { file, weights: loaded } = loadCheckpoint(dir)
    expect(file.model).toEqual(config)
    expect(Array.from(loaded)).toEqual(Array.from(weights))
    const part = readSections(dir, [blockSection(2), "head"])
    for (const name of [blockSection(2), "head"]) {
      const s = section(config, name)
      expect(Array.from(part.weights.get(name)!)).toEqual(Array.from(weights.subarray(s.offset, s.offset + s.size)))
    }
  })

  it("rejects a damaged weights file and an unknown section", () => {
    saveCheckpoint(dir, config, weights)
    const w = weights.slice()
    w[7] = w[7]! + 1
    writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(w.buffer))
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError)
    expect(() => loadCheckpoint(dir)).toThrow(/sha256/)
    expect(() => readSections(dir, ["block/9"])).toThrow(/no weight section/)
  })
})
