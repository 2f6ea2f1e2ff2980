import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import type { JobView } from "../../core/market/index.ts"
import { modelHash } from "../../core/training/hash.ts"
import { wrongNotes } from "../../actors/market/work.ts"
import { selectBackend } from "./backend.ts"
import { bisect, childrenOf, makeTrace, traceRoot, traceTree, type LayerTrace } from "../../core/market/bisection.ts"
import { checkFraudProof, leafPath, type FraudProof } from "../../core/market/fraud-proof.ts"
import { layerCount, runLayer } from "./market-layers.ts"
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
    // One class changed: the word is the provider's model's, the trace (its last layer) is not.
    const t = referee.trace(w1, 10, 5)
    const c = Uint8Array.from(t.activation(4))
    c[2] = (c[2]! + 1) % 10
    const wrong = referee.resultWord({ job: 9, kind, from: 10, units: 5 }, h1, traceRoot(makeTrace([0, 1, 2, 3].map((i) => t.activation(i)).concat([c])).hashes))
    expect(wrongNotes(job([{ units: 5, word: onNewest }, { units: 5, word: onOlder }, { units: 5, word: wrong }]), ["pending"], referee.reexecute)).toEqual([3])
  })

  it("refutes a word naming no committed model of the window; abstains on a window model it does not hold", () => {
    const window = Array.from({ length: MODEL_WINDOW }, (_, i) => ({ hash: i === 0 ? h1 : `0x${String(i).repeat(64)}`, round: MODEL_WINDOW - i }))
    const referee = makeInferenceWork({ kind, model: "mlp", samples, models: book(window, new Map([[h1, w1]])) })
    const made = referee.resultWord({ job: 9, kind, from: 0, units: 5 }, h0, traceRoot(referee.trace(w0, 0, 5).hashes))
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

  it("runs the 2NN and the CNN layer by layer: the last layer is the model's classes, and each layer re-executed alone from its input gives the full run's hash", () => {
    for (const name of ["mlp", "cnn"] as const) {
      const w = initialWeights(name, "7/1/layers")
      const h = modelHash(w)
      const work = makeInferenceWork({ kind, model: name, samples, models: book([{ hash: h, round: 0 }], new Map([[h, w]])) })
      const t = work.trace(w, 3, 7)
      expect(t.hashes.length).toBe(layerCount(name) + 1)
      expect([...t.activation(layerCount(name))]).toEqual([...work.classes(w, 3, 7)])
      const m = makeModel(name, 0)
      m.setWeights(w)
      for (let k = 1; k <= layerCount(name); k++) {
        // The referee's one-layer re-execution (a fresh model instance), from the full run's layer k − 1.
        expect(work.traced.layer({ job: 9, kind, from: 3, units: 7 }, work.work({ job: 9, kind, from: 3, units: 7 })!.resultHash, k, t.activation(k - 1))).toEqual(t.hashes[k])
        expect(runLayer(m, k, t.activation(k - 1), 7)).toEqual(t.activation(k))
      }
      m.dispose()
      // Another instance (another node) computes the same trace, bit for bit.
      const other = makeInferenceWork({ kind, model: name, samples, models: book([{ hash: h, round: 0 }], new Map([[h, w]])) })
      expect(traceRoot(other.trace(w, 3, 7).hashes)).toEqual(traceRoot(t.hashes))
    }
  })

  it("bisects a provider wrong from one layer to that layer, re-executing only it; its fraud proof checks by that one layer, one forged from an honest trace does not; an honest provider's trace agrees", () => {
    const referee = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    const task = { job: 9, kind, from: 20, units: 6 }
    const honest = referee.work(task)!
    const mine = referee.traced.trace(task, honest.resultHash)!
    expect(mine.word).toBe(honest.resultHash)
    // A provider whose layer 2 is off by one float (later layers computed from it), committing to that trace.
    const m = makeModel("mlp", 0)
    m.setWeights(w1)
    const a = [0, 1].map((i) => honest.trace!.activation(i))
    const l2 = new Float32Array(Uint8Array.from(honest.trace!.activation(2)).buffer)
    l2[17] = l2[17]! + 0.5
    a.push(new Uint8Array(l2.buffer))
    for (let k = 3; k <= 4; k++) a.push(runLayer(m, k, a[k - 1]!, task.units))
    m.dispose()
    const wrongTrace = makeTrace(a)
    const wrongWord = referee.resultWord(task, h1, traceRoot(wrongTrace.hashes))
    const oracle = (t: LayerTrace) => {
      const tree = traceTree(t.hashes)
      return { children: (l: number, i: number) => childrenOf(tree, l, i), activation: (i: number) => t.activation(i) }
    }
    let layersRun = 0
    const once = (layer: number, input: Uint8Array) => (layersRun++, referee.traced.layer(task, wrongWord, layer, input))
    const out = bisect(mine.trace, oracle(wrongTrace), (root) => referee.traced.word(task, wrongWord, root) === wrongWord, once)
    expect(out).toMatchObject({ kind: "wrong", layer: 2, queries: 3, inputQueries: 1 })
    expect(layersRun).toBe(1)
    // The honest provider's own trace, recomputed on demand, agrees at the root.
    const provider = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    const defended = provider.providerTrace(task, honest.resultHash)!
    expect(bisect(mine.trace, oracle(defended), (root) => referee.traced.word(task, honest.resultHash, root) === honest.resultHash, once)).toMatchObject({ kind: "agree", queries: 1 })
    expect(provider.providerTrace(task, wrongWord)).toBeUndefined()

    // Verde's fraud proof against the wrong provider: a co-signer that holds the model checks it by re-executing layer 2 alone.
    const cosigner = makeInferenceWork({ kind, model: "mlp", samples, models: both })
    const wrongTree = traceTree(wrongTrace.hashes)
    const proof: FraudProof = {
      layer: 2, input: wrongTrace.activation(1), inputHash: wrongTrace.hashes[1]!, outputHash: wrongTrace.hashes[2]!,
      inputPath: leafPath(wrongTree, 1), outputPath: leafPath(wrongTree, 2),
    }
    let cosignerLayers = 0
    const check = (p: FraudProof, word: string) => checkFraudProof(p, {
      layers: cosigner.traced.layers(task, word)!, bindsRoot: (root) => cosigner.traced.word(task, word, root) === word,
      reexecute: (layer, input) => (cosignerLayers++, cosigner.traced.layer(task, word, layer, input)),
    })
    expect(cosigner.traced.layers(task, wrongWord)).toBe(layerCount("mlp"))
    expect(check(proof, wrongWord)).toEqual({ ok: true, layer: 2 })
    expect(cosignerLayers).toBe(1)
    // The same layers of the honest provider's trace, with their true paths: refused, it computed layer 2 right.
    const honestTree = traceTree(defended.hashes)
    const forged: FraudProof = {
      layer: 2, input: defended.activation(1), inputHash: defended.hashes[1]!, outputHash: defended.hashes[2]!,
      inputPath: leafPath(honestTree, 1), outputPath: leafPath(honestTree, 2),
    }
    expect(check(forged, honest.resultHash)).toMatchObject({ ok: false, reason: expect.stringMatching(/computed it right/) })
    // A word naming a model the co-signer does not hold: no layer count, it cannot check (it judges by its own means).
    expect(makeInferenceWork({ kind, model: "mlp", samples, models: book([{ hash: h1, round: 1 }], new Map()) }).traced.layers(task, wrongWord)).toBeUndefined()
  })
})
