/**
 * A paid stage's note as a layer trace (trace.ts) and its fraud proofs, over a toy stage whose blocks
 * have a cache (a block's output depends on every input of its session so far, as attention does):
 *  - a stage wrong from block k (whatever it returns after it): the bisection's proof is accepted at
 *    exactly k, re-executing one layer; altered (another k, a value of the agreed rows, a hash, a
 *    path, the session prefix cut) it is refused;
 *  - an honest stage is never refuted: proofs forged against its commitment (any k, its own rows or
 *    other rows — another prefix, a value changed —, its own hashes and paths) are refused.
 * Runs: DAI_LM_TRACE_RUNS (CI default 100), seed DAI_LM_TRACE_SEED (printed as SEED=…).
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { propertyEnv } from "../../../scripts/property-env.ts"
import { answerBisection, childrenOf, startBisection, traceRoot, traceTree } from "../market/bisection.ts"
import { fraudProofOf, leafPath, type AnsweredQuery, type FraudProof } from "../market/fraud-proof.ts"
import { checkLmFraudProof, decodeLmLayer, encodeLmLayer, lmLayerHash, lmTraceWord, type LmLayerRun, type LmRows } from "./trace.ts"

const ENV = propertyEnv("LM_TRACE", 100)
const DIM = 3

/** The toy stage of `L` blocks: block j's session keeps the sum of its inputs so far (its "cache"); the last returns one row of "logits". */
const toyRun = (L: number): LmLayerRun => (layer, input) => {
  let cache = 0
  return input.map((row): LmRows => {
    const values = Array.from(row.data, (v) => Math.fround(v * 0.5 + cache * 0.01 + layer))
    cache += Array.from(row.data).reduce((a, b) => a + b, 0)
    if (layer < L) return { kind: "activations", start: row.start, length: row.length, dim: row.dim, data: Float32Array.from(values) }
    return { kind: "logits", start: row.start + row.length - 1, length: 1, dim: row.dim, data: Float32Array.from(values.slice(-row.dim)) }
  })
}

/** A session's forwards as token rows: a prefill of `first` positions, then one per step. */
const inputsOf = (tokens: readonly number[], first: number): LmRows[] => {
  const rows: LmRows[] = [{ kind: "tokens", start: 0, length: first, dim: 1, data: Int32Array.from(tokens.slice(0, first)) }]
  for (let i = first; i < tokens.length; i++) rows.push({ kind: "tokens", start: i, length: 1, dim: 1, data: Int32Array.from([tokens[i]!]) })
  return rows
}

/** The first layer turns tokens into DIM-wide rows; later ones keep the width. */
const toyStage = (L: number): LmLayerRun => {
  const run = toyRun(L)
  return (layer, input) => run(layer, layer === 1 ? input.map((r) => ({ ...r, kind: "activations", dim: DIM, data: Float32Array.from(Array.from(r.data).flatMap((t) => [t, t + 1, t + 2])) })) : input)
}

/** A stage's trace: layer 0 the inputs, layer j its block j run on layer j − 1; `wrong` changes layer k's first value by 0.5 (later layers computed from it). */
const stageTrace = (inputs: LmRows[], L: number, wrong?: { readonly layer: number; readonly row: number }) => {
  const run = toyStage(L)
  const layers: LmRows[][] = [inputs]
  for (let j = 1; j <= L; j++) {
    let out = [...run(j, layers[j - 1]!)]
    if (wrong?.layer === j) {
      const r = wrong.row % out.length
      out = out.map((x, i) => (i === r ? { ...x, data: x.data.map((v, n) => (n === 0 ? v + 0.5 : v)) as Float32Array } : x))
    }
    layers.push(out)
  }
  const bytes = layers.map(encodeLmLayer)
  const hashes = layers.map((rows, j) => lmLayerHash(j, rows))
  return { bytes, hashes, word: lmTraceWord(traceRoot(hashes)) }
}

/** The referee's bisection of `provider` against `own`, and the proof it yields at 1 ≤ k ≤ L. */
const proofByBisection = (own: ReturnType<typeof stageTrace>, provider: ReturnType<typeof stageTrace>): FraudProof | undefined => {
  const tree = traceTree(provider.hashes)
  const answers: AnsweredQuery[] = []
  let { state, step } = startBisection(own.hashes)
  while (step.kind === "ask") {
    const c = childrenOf(tree, step.level, step.index)!
    answers.push({ level: step.level, index: step.index, ...c })
    ;({ state, step } = answerBisection(state, c, (r) => lmTraceWord(r) === provider.word))
  }
  if (step.kind !== "diverged" || step.layer < 1 || step.layer >= own.hashes.length) return undefined
  return fraudProofOf({ own: state.own, answers, layer: step.layer, input: provider.bytes[step.layer - 1]! })
}

const judge = (L: number, word: string, from = 4) => {
  const seen = { layers: 0 }
  const run = toyStage(L)
  return { seen, check: (p: FraudProof) => checkLmFraudProof(p, { from, to: from + L - 1, word, run: (k, rows) => (seen.layers++, run(k, rows)) }) }
}

const sessionArb = fc.record({
  tokens: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 2, maxLength: 12 }),
  prefill: fc.integer({ min: 1, max: 6 }),
  blocks: fc.integer({ min: 1, max: 6 }),
})
const flip = (b: Uint8Array, at: number): Uint8Array => {
  const c = new Uint8Array(b)
  c[at % c.length]! ^= 1 << (at % 8)
  return c
}

describe("a stage's note as a layer trace", () => {
  it("the word names the backend: one root gives another word on each, a proof binds only a checker on the note's backend, and a bad name is refused", () => {
    const inputs = inputsOf([1, 2, 3, 4], 3)
    const honest = stageTrace(inputs, 2)
    const provider = stageTrace(inputs, 2, { layer: 2, row: 0 })
    const root = traceRoot(provider.hashes)
    const words = ["cpu", "wasm", "tensorflow"].map((b) => lmTraceWord(root, b))
    expect(new Set(words).size).toBe(3)
    expect(lmTraceWord(root)).toBe(words[0])
    const proof = proofByBisection(honest, provider)!
    const run = toyStage(2)
    // A co-signer on the note's backend accepts the proof; one on another finds it binds no root of its backend (signs nothing on it).
    expect(checkLmFraudProof(proof, { from: 0, to: 1, word: words[1]!, run, backend: "wasm" })).toEqual({ ok: true, layer: 2 })
    expect(checkLmFraudProof(proof, { from: 0, to: 1, word: words[1]!, run, backend: "cpu" })).toMatchObject({ ok: false, reason: expect.stringMatching(/root the note's word commits to/) })
    expect(() => lmTraceWord(root, "Not A Backend")).toThrow(/backend name/)
  })

  it("encodes and decodes a layer's rows exactly, and refuses bytes that are no layer", () => {
    const rows: LmRows[] = [
      { kind: "tokens", start: 0, length: 2, dim: 1, data: Int32Array.from([7, 255]) },
      { kind: "activations", start: 2, length: 1, dim: 2, data: Float32Array.from([0.5, -1.25]) },
      { kind: "logits", start: 2, length: 1, dim: 2, data: Float32Array.from([3, 4]) },
    ]
    const bytes = encodeLmLayer(rows)
    expect(Result.getOrThrow(decodeLmLayer(bytes))).toEqual(rows)
    expect(Result.isFailure(decodeLmLayer(bytes.subarray(0, bytes.length - 1)))).toBe(true)
    expect(Result.isFailure(decodeLmLayer(new Uint8Array(0)))).toBe(true)
    const badKind = new Uint8Array(bytes)
    badKind[0] = 9
    expect(decodeLmLayer(badKind)).toMatchObject({ failure: expect.stringMatching(/row kind 9/) })
  })

  it("a stage wrong from block k: the bisection's proof is accepted at exactly k re-executing one block, and refused altered", () => {
    fc.assert(
      fc.property(sessionArb, fc.nat(), fc.nat(), fc.nat(), ({ tokens, prefill, blocks }, kSeed, row, at) => {
        ENV.tick()
        const inputs = inputsOf(tokens, Math.min(prefill, tokens.length))
        const k = 1 + (kSeed % blocks)
        const honest = stageTrace(inputs, blocks)
        const provider = stageTrace(inputs, blocks, { layer: k, row })
        const proof = proofByBisection(honest, provider)!
        expect(proof.layer).toBe(k)
        const j = judge(blocks, provider.word)
        expect(j.check(proof)).toEqual({ ok: true, layer: k })
        expect(j.seen.layers).toBe(1)
        // Against another word (another note's, the honest one), refused.
        expect(judge(blocks, honest.word).check(proof).ok).toBe(false)
        const rows = Result.getOrThrow(decodeLmLayer(proof.input))
        const altered: FraudProof[] = [
          { ...proof, layer: proof.layer + 1 },
          { ...proof, layer: proof.layer - 1 },
          { ...proof, input: flip(proof.input, at) },
          { ...proof, input: encodeLmLayer(rows.slice(1)) },
          { ...proof, input: encodeLmLayer(rows.slice(0, -1)) },
          { ...proof, outputHash: flip(proof.outputHash, at) },
          { ...proof, inputHash: flip(proof.inputHash, at) },
          { ...proof, inputPath: proof.inputPath.map((h, i) => (i === at % proof.inputPath.length ? flip(h, at) : h)) },
          { ...proof, outputPath: proof.outputPath.slice(1) },
        ]
        altered.forEach((p, i) => expect(judge(blocks, provider.word).check(p).ok, JSON.stringify({ k, blocks, at, i })).toBe(false))
      }),
      ENV.params,
    )
  })

  it("never refutes an honest stage: proofs forged against its commitment are refused", () => {
    const forgery = fc.record({
      k: fc.integer({ min: -1, max: 8 }),
      input: fc.oneof(fc.constant("own" as const), fc.constant("prefix-cut" as const), fc.constant("value" as const), fc.constant("other-session" as const)),
      at: fc.nat(),
    })
    fc.assert(
      fc.property(sessionArb, forgery, ({ tokens, prefill, blocks }, f) => {
        ENV.tick()
        const inputs = inputsOf(tokens, Math.min(prefill, tokens.length))
        const honest = stageTrace(inputs, blocks)
        const tree = traceTree(honest.hashes)
        const leaves = tree[0]!.length
        const idx = (i: number) => ((i % leaves) + leaves) % leaves
        const k = f.k
        const own = honest.bytes[Math.max(0, Math.min(blocks, k - 1))]!
        const rows = Result.getOrThrow(decodeLmLayer(own))
        const input = f.input === "own" ? own
          : f.input === "prefix-cut" ? (rows.length > 1 ? encodeLmLayer(rows.slice(1)) : flip(own, f.at))
          : f.input === "value" ? encodeLmLayer(rows.map((r, i) => (i === f.at % rows.length ? { ...r, data: r.kind === "tokens" ? Int32Array.from(r.data, (v) => (v + 1) % 256) : Float32Array.from(r.data, (v) => v + 1) } : r)))
          : stageTrace(inputsOf([...tokens].reverse(), 1), blocks).bytes[Math.max(0, Math.min(blocks, k - 1))]!
        const proof: FraudProof = {
          layer: k, input, inputHash: f.input === "own" ? tree[0]![idx(k - 1)]! : lmLayerHashRaw(k - 1, input), outputHash: tree[0]![idx(k)]!,
          inputPath: leafPath(tree, idx(k - 1)), outputPath: leafPath(tree, idx(k)),
        }
        expect(judge(blocks, honest.word).check(proof).ok, JSON.stringify({ k, blocks, f })).toBe(false)
      }),
      ENV.params,
    )
  })
})

/** The leaf a forger would claim for its own bytes (the honest tree does not hold it: the paths do not reach the root). */
const lmLayerHashRaw = (layer: number, bytes: Uint8Array): Uint8Array => {
  const rows = decodeLmLayer(bytes)
  return Result.isSuccess(rows) ? lmLayerHash(Math.max(0, layer), rows.success) : new Uint8Array(32)
}
