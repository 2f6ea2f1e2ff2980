import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import type { JobView } from "../../core/market/index.ts"
import { modelHash } from "../../core/training/hash.ts"
import { wrongNotes } from "../../actors/market/work.ts"
import { selectBackend } from "./backend.ts"
import { evaluationSamples, inferKind, makeInferenceWork, MODEL_WINDOW, namedModel, type CommittedModel, type ModelBook } from "./market-work.ts"
import { initialWeights, makeModel } from "./model.ts"

const samples = evaluationSamples("mnist", 60)
const kind = inferKind("mnist")
// Two models of the network: the genesis's initial one (round 0) and another (round 1).
const w0 = initialWeights("mlp", "7/1")
const w1 = initialWeights("mlp", "7/1/round-1")
const h0 = modelHash(w0)
const h1 = modelHash(w1)

/** A node's model book: the committed window and the weights it holds. */
const book = (window: readonly CommittedModel[], held: ReadonlyMap<string, Float32Array>): ModelBook => ({ window: () => window, weights: (h) => held.get(h) })
const both = book([{ hash: h1, round: 1 }, { hash: h0, round: 0 }], new Map([[h0, w0], [h1, w1]]))

const job = (notes: ReadonlyArray<{ units: number; word: string }>): JobView => ({
  id: 9, kind,
  notes: notes.map((n, i) => ({ id: i + 1, provider: "p", units: BigInt(n.units), pricePerUnit: 1n, amount: BigInt(n.units), resultHash: n.word, deliveredAt: 0, state: "pending" as const })),
}) as unknown as JobView

describe("inference work on the cpu backend", () => {
  beforeAll(async () => {
    await selectBackend("cpu")
  })

  it("classifies unit i as sample (i mod N) of the evaluation set, with the model's own forward pass", () => {
    const work = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    const all = work.classes(w1, 0, 60)
    // Units past the end wrap around to the first samples.
    expect([...work.classes(w1, 58, 4)]).toEqual([all[58], all[59], all[0], all[1]])
    expect([...work.classes(w1, 120, 3)]).toEqual([...all.subarray(0, 3)])
    // The same classes as argmax of the model's logits on those images, computed separately.
    const m = makeModel("mlp", 0)
    m.setWeights(w1)
    const direct = tf.tidy(() => tf.argMax(m.logits(tf.tensor2d(samples.images, [60, 784])), 1).dataSync())
    m.dispose()
    expect([...all]).toEqual([...direct])
  })

  it("a provider's word names the newest committed model it holds, and any node computes the same word", () => {
    const provider = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    const r = provider.work({ job: 9, kind, from: 5, units: 10 })!
    expect(r.resultHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(namedModel(r.resultHash)).toBe(namedModel(h1))
    // Another node (another instance, the models in another order of loading) gets the same word.
    const other = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    other.classes(w0, 0, 3)
    expect(other.work({ job: 9, kind, from: 5, units: 10 })!.resultHash).toBe(r.resultHash)
    // The word depends on the job, the range and the model.
    expect(provider.work({ job: 10, kind, from: 5, units: 10 })!.resultHash).not.toBe(r.resultHash)
    expect(provider.work({ job: 9, kind, from: 6, units: 10 })!.resultHash).not.toBe(r.resultHash)
    const older = makeInferenceWork({ kind, model: "mlp", samples, models: book([{ hash: h1, round: 1 }, { hash: h0, round: 0 }], new Map([[h0, w0]])) })
    expect(namedModel(older.work({ job: 9, kind, from: 5, units: 10 })!.resultHash)).toBe(namedModel(h0))
  })

  it("a referee confirms honest words, with the model each names, and refutes a wrong class", () => {
    const referee = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    const onNewest = makeInferenceWork({ kind, model: "mlp", samples, models: both }).work({ job: 9, kind, from: 0, units: 5 })!.resultHash
    const onOlder = makeInferenceWork({ kind, model: "mlp", samples, models: book([{ hash: h0, round: 0 }], new Map([[h0, w0]])) }).work({ job: 9, kind, from: 5, units: 5 })!.resultHash
    expect(wrongNotes(job([{ units: 5, word: onNewest }, { units: 5, word: onOlder }]), ["pending"], referee.reexecute)).toEqual([])
    // One class changed: the word is the provider's model's, the classes are not.
    const c = referee.classes(w1, 10, 5)
    c[2] = (c[2]! + 1) % 10
    const wrong = referee.resultWord({ job: 9, kind, from: 10, units: 5 }, h1, c)
    expect(wrongNotes(job([{ units: 5, word: onNewest }, { units: 5, word: onOlder }, { units: 5, word: wrong }]), ["pending"], referee.reexecute)).toEqual([3])
  })

  it("refutes a word naming no committed model of the window; abstains on a window model it does not hold", () => {
    const window = Array.from({ length: MODEL_WINDOW }, (_, i) => ({ hash: i === 0 ? h1 : `0x${String(i).repeat(64)}`, round: MODEL_WINDOW - i }))
    const referee = makeInferenceWork({ kind, model: "mlp", samples, models: book(window, new Map([[h1, w1]])) })
    const made = referee.resultWord({ job: 9, kind, from: 0, units: 5 }, h0, referee.classes(w0, 0, 5))
    // h0 (the genesis model) is out of the window: a delivery may not name it any more.
    expect(wrongNotes(job([{ units: 5, word: made }]), ["pending"], referee.reexecute)).toEqual([1])
    // A window model this node never held (it started later): not its to judge.
    const unheld = `0x${"2".repeat(16)}${made.slice(18)}`
    expect(referee.reexecute({ job: 9, kind, from: 0, units: 5 }, unheld)).toBeUndefined()
    expect(wrongNotes(job([{ units: 5, word: unheld }]), ["pending"], referee.reexecute)).toEqual([])
  })

  it("computes nothing without a committed model held, or for another kind", () => {
    const none = makeInferenceWork({ kind, model: "mlp", samples, models: book([{ hash: h0, round: 0 }], new Map()) })
    expect(none.work({ job: 1, kind, from: 0, units: 5 })).toBeUndefined()
    expect(none.reexecute({ job: 1, kind, from: 0, units: 5 })).toBeUndefined()
    const work = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    expect(work.work({ job: 1, kind: "infer:lm", from: 0, units: 5 })).toBeUndefined()
    expect(() => work.classes(w0, 0, 0)).toThrow(/1\.\.1000000 units/)
  })
})
