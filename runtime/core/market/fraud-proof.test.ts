/**
 * Verde's fraud proof (fraud-proof.ts) over random layer traces of a toy computation (layer i's
 * bytes = keccak256(i ‖ layer i − 1's bytes)):
 *  - a provider wrong from layer k (k ≥ 1, whatever it does after k): the bisection's proof (built
 *    from its answers and the referee's own tree) is accepted at exactly k, re-executing one layer;
 *  - the same proof altered (another k, a hash, a path's hash, the bytes, a path's length) is refused;
 *  - an honest provider is never refuted: every proof forged against its commitment — any k, its own
 *    or made-up hashes and bytes, honest or altered paths — is refused.
 * Runs: DAI_FRAUD_PROOF_RUNS (CI default 100), seed DAI_FRAUD_PROOF_SEED (printed as SEED=…).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { propertyEnv } from "../../../scripts/property-env.ts"
import { answerBisection, childrenOf, layerHash, startBisection, traceRoot, traceTree, type LayerTrace } from "./bisection.ts"
import { toyStep, toyTrace } from "./testkit.ts"
import { checkFraudProof, fraudProofOf, leafPath, pathRoot, type AnsweredQuery, type FraudProof } from "./fraud-proof.ts"

const ENV = propertyEnv("FRAUD_PROOF", 100)

const step = toyStep
const run = toyTrace

/** A judge's side: L, the word's root, and a counter of the layers it re-executes. */
const judgeOf = (provider: LayerTrace) => {
  const root = traceRoot(provider.hashes)
  const seen = { layers: 0 }
  return {
    seen,
    check: (p: FraudProof, layers = provider.hashes.length - 1) => checkFraudProof(p, {
      layers,
      bindsRoot: (r) => r.every((x, i) => x === root[i]),
      reexecute: (k, input) => {
        seen.layers++
        return layerHash(k, step(k, input))
      },
    }),
  }
}

/** The referee's bisection of `provider` against `own` (as bisect.ts runs it), and the proof it yields when it ends at 1 ≤ k ≤ L. */
const proofByBisection = (own: LayerTrace, provider: LayerTrace): FraudProof | undefined => {
  const tree = traceTree(provider.hashes)
  const root = traceRoot(provider.hashes)
  const answers: AnsweredQuery[] = []
  let { state, step: next } = startBisection(own.hashes)
  while (next.kind === "ask") {
    const c = childrenOf(tree, next.level, next.index)!
    answers.push({ level: next.level, index: next.index, ...c })
    ;({ state, step: next } = answerBisection(state, c, (r) => r.every((x, i) => x === root[i])))
  }
  const L = own.hashes.length - 1
  if (next.kind !== "diverged" || next.layer < 1 || next.layer > L) return undefined
  return fraudProofOf({ own: state.own, answers, layer: next.layer, input: provider.activation(next.layer - 1) })
}

const traceArb = fc.record({ input: fc.uint8Array({ minLength: 1, maxLength: 64 }), layers: fc.integer({ min: 1, max: 100 }) })
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const flip = (b: Uint8Array, at: number): Uint8Array => {
  const c = new Uint8Array(b)
  c[at % c.length]! ^= 1 << (at % 8)
  return c
}

/** Ways to alter a proof. */
const alterations = (p: FraudProof, at: number, other: Uint8Array): FraudProof[] => {
  const out: FraudProof[] = [
    { ...p, layer: p.layer + 1 + (at % 3) },
    { ...p, layer: p.layer - 1 - (at % 3) },
    { ...p, inputHash: flip(p.inputHash, at) },
    { ...p, outputHash: flip(p.outputHash, at) },
    { ...p, outputHash: other },
    { ...p, input: flip(p.input, at) },
    { ...p, input: new Uint8Array([...p.input, 0]) },
    { ...p, inputPath: [...p.inputPath, other] },
    { ...p, outputPath: p.outputPath.slice(1) },
  ]
  const i = at % p.inputPath.length
  out.push({ ...p, inputPath: p.inputPath.map((h, j) => (j === i ? flip(h, at) : h)) })
  out.push({ ...p, outputPath: p.outputPath.map((h, j) => (j === i ? flip(h, at) : h)) })
  return out
}

describe("Verde's fraud proof", () => {
  it("accepts the bisection's proof against a provider wrong from layer k ≥ 1, at exactly k, re-executing one layer; refuses it altered", () => {
    fc.assert(
      fc.property(traceArb, fc.nat(), fc.array(fc.tuple(fc.nat(), bytes32), { maxLength: 4 }), bytes32, fc.nat(), ({ input, layers }, kSeed, later, wrong, at) => {
        ENV.tick()
        const k = 1 + (kSeed % layers)
        const faults = new Map<number, Uint8Array>([[k, wrong]])
        for (const [i, b] of later) if (layers > k) faults.set(k + 1 + (i % (layers - k)), b)
        const honest = run(input, layers)
        const provider = run(input, layers, faults)
        const proof = proofByBisection(honest, provider)!
        expect(proof.layer).toBe(k)
        const judge = judgeOf(provider)
        expect(judge.check(proof)).toEqual({ ok: true, layer: k })
        expect(judge.seen.layers).toBe(1)
        // Told the wrong L (another tree depth, or k beyond it), the judge refuses.
        expect(judge.check(proof, k - 1).ok).toBe(false)
        for (const altered of alterations(proof, at, wrong)) expect(judge.check(altered).ok, JSON.stringify({ k, layers, at })).toBe(false)
      }),
      ENV.params,
    )
  })

  it("never refutes an honest provider: any proof forged against its commitment is refused", () => {
    const forgery = fc.record({
      k: fc.integer({ min: -2, max: 130 }),
      input: fc.oneof(fc.constant("own" as const), fc.constant("next" as const), fc.uint8Array({ maxLength: 40 })),
      inputHash: fc.oneof(fc.constant("of-input" as const), fc.constant("own" as const), bytes32),
      outputHash: fc.oneof(fc.constant("own" as const), fc.constant("empty" as const), bytes32),
      paths: fc.oneof(fc.constant("own" as const), fc.tuple(fc.nat(), fc.nat())),
    })
    fc.assert(
      fc.property(traceArb, forgery, ({ input, layers }, f) => {
        ENV.tick()
        const provider = run(input, layers)
        const tree = traceTree(provider.hashes)
        const leaves = tree[0]!
        const k = f.k
        const at = (i: number) => leaves[((i % leaves.length) + leaves.length) % leaves.length]!
        const bytes = f.input === "own" ? (k - 1 >= 0 && k - 1 <= layers ? provider.activation(k - 1) : input)
          : f.input === "next" ? (k >= 0 && k <= layers ? provider.activation(k) : input) : f.input
        const inputHash = f.inputHash === "of-input" ? layerHash(k - 1, bytes) : f.inputHash === "own" ? at(k - 1) : f.inputHash
        const outputHash = f.outputHash === "own" ? at(k) : f.outputHash === "empty" ? new Uint8Array(32) : f.outputHash
        const pathOf = (i: number) => leafPath(tree, ((i % leaves.length) + leaves.length) % leaves.length)
        let inputPath = pathOf(k - 1)
        let outputPath = pathOf(k)
        const paths = f.paths
        if (paths !== "own") {
          const [which, bit] = paths
          inputPath = inputPath.map((h, j) => (j === which % inputPath.length ? flip(h, bit) : h))
          outputPath = pathOf(k + (bit % 3) - 1)
        }
        const proof: FraudProof = { layer: k, input: bytes, inputHash, outputHash, inputPath, outputPath }
        const r = judgeOf(provider).check(proof)
        expect(r.ok, JSON.stringify({ k, layers, f: { ...f, input: String(f.input) } })).toBe(false)
      }),
      ENV.params,
    )
  })

  it("an honest provider's own layers k − 1, k with their true paths, the strongest forgery, are refused as computed right", () => {
    const provider = run(new Uint8Array([1, 2, 3]), 8)
    const tree = traceTree(provider.hashes)
    for (let k = 1; k <= 8; k++) {
      const proof: FraudProof = {
        layer: k, input: provider.activation(k - 1), inputHash: provider.hashes[k - 1]!, outputHash: provider.hashes[k]!,
        inputPath: leafPath(tree, k - 1), outputPath: leafPath(tree, k),
      }
      expect(pathRoot(proof.outputHash, k, proof.outputPath)).toEqual(traceRoot(provider.hashes))
      expect(judgeOf(provider).check(proof)).toMatchObject({ ok: false, reason: expect.stringMatching(/computed it right/) })
    }
    // Beyond L (a padding leaf): not a layer of the work, whatever the layer function would give there.
    const pad: FraudProof = {
      layer: 9, input: provider.activation(8), inputHash: provider.hashes[8]!, outputHash: new Uint8Array(32),
      inputPath: leafPath(tree, 8), outputPath: leafPath(tree, 9),
    }
    expect(judgeOf(provider).check(pad)).toMatchObject({ ok: false, reason: "layer 9 is not a layer of the work (1..8)" })
  })
})
