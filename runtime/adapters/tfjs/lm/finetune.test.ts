/**
 * The language model's fine-tuning task behind the Trainer port, on the committed checkpoint and the
 * cpu backend (plain JavaScript kernels: the same bits on every machine): an update is the tail's flat
 * vector; the same seed, shard and global weights give the same update bit for bit; the evaluation
 * through the frozen prefix and the tail is the whole model's loss; a trained update lowers the loss on
 * the windows it trained on; and the text is cut so that no two trainers, nor the evaluation set, share
 * an entry. The text is made here (no corpus needed).
 */
import * as tf from "@tensorflow/tfjs"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { section } from "../../../core/lm/config.ts"
import { crossEntropy, makeGpt } from "./gpt.ts"
import { loadCheckpoint } from "./checkpoint.ts"
import { selectBackend } from "../backend.ts"
import { splitEntries, textShards, textWindows } from "../../../core/training/text-shards.ts"
import { evaluateTail, LM_WINDOW, loadLmBase, prefixWindows, prepareLmFinetune, tailSize } from "./finetune.ts"

const sayings = [
  "A penny saved is a penny earned.", "Look before you leap, and then leap anyway.", "The early bird catches the worm.",
  "Never put off till tomorrow what you can do the day after.", "All that glitters is not gold.", "Fortune favours the bold.",
  "Brevity is the soul of wit.", "A watched pot never boils.", "Every cloud has a silver lining.", "Still waters run deep.",
]
// Sixty entries, each ending with its `%` line as in the corpus's split.
const validation = Array.from({ length: 60 }, (_, i) => `${sayings[i % sayings.length]} (${i})\n\t\t-- Proverb ${i}\n%\n`).join("")
const spec = { round: 0, localEpochs: 1, batchSize: 2, learningRate: 0.1 }

beforeAll(async () => {
  await selectBackend("cpu")
})

describe("the text of a fine-tuning", () => {
  it("cuts the entries into an evaluation set and disjoint shards that hold every other entry", () => {
    const entries = splitEntries(validation)
    expect(entries.length).toBe(60)
    expect(entries.join("")).toBe(validation)
    const { evaluation, shards } = textShards(validation, 3)
    const evalEntries = splitEntries(evaluation)
    const shardEntries = shards.map(splitEntries)
    expect(evalEntries.length).toBe(15) // every 4th
    expect(shardEntries.map((s) => s.length)).toEqual([15, 15, 15])
    const all = [...evalEntries, ...shardEntries.flat()]
    expect(new Set(all).size).toBe(60)
    expect([...all].sort()).toEqual([...entries].sort())
  })

  it("windows a text into inputs and next-byte targets", () => {
    const w = textWindows(Uint8Array.from([1, 2, 3, 4, 5, 6, 7]), 3, 10)
    expect(w.count).toBe(2)
    expect([...w.inputs]).toEqual([1, 2, 3, 4, 5, 6])
    expect([...w.targets]).toEqual([2, 3, 4, 5, 6, 7])
  })
})

describe("the language model's Trainer (the checkpoint's last block and head, cpu)", () => {
  it("gives an update of the tail's size, the same bits for the same seed, and lowers the loss it trained on", () => {
    const f = prepareLmFinetune({ validation, clients: 2, evalWindows: 4 })
    expect(f.base.tail).toEqual(["block/3", "head"])
    expect(tailSize(f.base.config)).toBe(section(f.base.config, "block/3").size + section(f.base.config, "head").size)
    const make = () => f.trainer(0, { seed: "s/0", perRound: 4, backend: "cpu" })
    const global = f.base.initialTail.slice()
    const a = Effect.runSync(make().train(global, spec))
    const b = Effect.runSync(make().train(global, spec))
    expect(a.delta.length).toBe(f.base.initialTail.length)
    expect(a.samples).toBe(4)
    expect(Buffer.from(a.delta.buffer).equals(Buffer.from(b.delta.buffer))).toBe(true)
    expect(a.delta.some((x) => x !== 0)).toBe(true)
    // Another round trains on the next windows of the shard: another update.
    const c = Effect.runSync(make().train(global, { ...spec, round: 1 }))
    expect(Buffer.from(c.delta.buffer).equals(Buffer.from(a.delta.buffer))).toBe(false)
    // On the windows it trained on, the updated tail's loss is below the checkpoint's.
    const trained = prefixWindows(f.base, { ...f.shards[0]!, count: 4, inputs: f.shards[0]!.inputs.subarray(0, 4 * LM_WINDOW), targets: f.shards[0]!.targets.subarray(0, 4 * LM_WINDOW) })
    const after = global.map((x, i) => x + a.delta[i]!)
    expect(evaluateTail(f.base, trained, after).loss).toBeLessThan(evaluateTail(f.base, trained, global).loss)
  }, 120_000)

  it("measures the whole model's loss through the frozen prefix and the tail, the same each time", () => {
    const f = prepareLmFinetune({ validation, clients: 2, evalWindows: 4 })
    const e = f.evaluate(f.base.initialTail)
    expect(f.evaluate(f.base.initialTail)).toEqual(e)
    expect(e.samples).toBe(4 * LM_WINDOW)
    const { file, weights } = loadCheckpoint(loadLmBase().dir)
    const whole = makeGpt(file.model, weights)
    const w = f.evaluation
    const inputs = textWindows(new TextEncoder().encode(textShards(validation, 2).evaluation), LM_WINDOW, 4)
    const loss = tf.tidy(() => crossEntropy(whole.forward(tf.tensor2d(inputs.inputs, [4, LM_WINDOW], "int32")), tf.tensor2d(w.targets, [4, LM_WINDOW], "int32")).dataSync()[0]!)
    whole.dispose()
    expect(Math.abs(e.loss - loss)).toBeLessThan(1e-4)
  }, 60_000)

  it("refuses weights of another size", () => {
    const f = prepareLmFinetune({ validation, clients: 2, evalWindows: 4 })
    const t = f.trainer(1, { seed: 1, perRound: 2, backend: "cpu" })
    expect(() => Effect.runSync(t.train(new Float32Array(10), spec))).toThrow(/global weights have 10 values, the model's tail \(block\/3 \+ head\) has 66752/)
    expect(() => Effect.runSync(t.evaluate(new Float32Array(10)))).toThrow(/weights have 10 values/)
  })
})
