/**
 * The bisection protocol (bisection.ts) over random layer traces of a toy computation (layer i's
 * bytes = keccak256(i ‖ layer i − 1's bytes)):
 *  - a provider whose trace leaves the honest one at layer k (whatever it does after k) is found wrong
 *    at exactly k, with at most ⌈log2 L⌉ + 1 hash queries and one input query;
 *  - an honest provider is never found wrong, even by a referee whose own trace is corrupt (it abstains);
 *  - a provider that answers any query with children not of its commitment is caught (`lied`), and
 *    one that stops answering is `silent`: both refuted.
 * Runs: DAI_BISECTION_RUNS (CI default 100), seed DAI_BISECTION_SEED (printed as SEED=…).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { propertyEnv } from "../../../scripts/property-env.ts"
import {
  bisect, childrenOf, layerHash, makeTrace, MAX_TRACE_LAYERS, nodeHash, providerWrong, startBisection, traceDepth, traceRoot, traceTree,
  type LayerTrace, type TraceOracle,
} from "./bisection.ts"
import { toyStep, toyTrace } from "./testkit.ts"

const ENV = propertyEnv("BISECTION", 100)

const step = toyStep
const run = toyTrace

/** An honest oracle over a committed trace. */
const oracleOf = (t: LayerTrace): TraceOracle => {
  const tree = traceTree(t.hashes)
  return { children: (l, i) => childrenOf(tree, l, i), activation: (i) => t.activation(i) }
}

const reexecute = (layer: number, input: Uint8Array) => layerHash(layer, step(layer, input))
const binds = (t: LayerTrace) => {
  const root = traceRoot(t.hashes)
  return (r: Uint8Array) => r.every((x, i) => x === root[i])
}

const traceArb = fc.record({
  input: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  layers: fc.integer({ min: 1, max: 100 }),
})
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

describe("bisection of a layer trace", () => {
  it("finds exactly the first layer a wrong provider's trace leaves the honest one, in ⌈log2 L⌉ + 1 hash queries at most", () => {
    fc.assert(
      fc.property(traceArb, fc.nat(), fc.array(fc.tuple(fc.nat(), bytes32), { maxLength: 4 }), bytes32, ({ input, layers }, kSeed, later, wrong) => {
        ENV.tick()
        const k = kSeed % (layers + 1)
        const honest = run(input, layers)
        // The fault at k, and maybe more faults after it (the bisection must still name k).
        const faults = new Map<number, Uint8Array>([[k, k === 0 ? new Uint8Array([...input, 1]) : wrong]])
        for (const [at, b] of later) if (layers > k) faults.set(k + 1 + (at % (layers - k)), b)
        const provider = run(input, layers, faults)
        const out = bisect(honest, oracleOf(provider), binds(provider), reexecute)
        expect(out).toMatchObject({ kind: "wrong", layer: k })
        expect(out.queries).toBeLessThanOrEqual(Math.ceil(Math.log2(layers)) + 1)
        expect(out.queries).toBe(traceDepth(layers + 1))
        expect(out.inputQueries).toBe(k === 0 ? 0 : 1)
      }),
      ENV.params,
    )
  })

  it("never finds an honest provider wrong, even when the referee's own trace is corrupt", () => {
    fc.assert(
      fc.property(traceArb, fc.option(fc.tuple(fc.nat(), bytes32), { nil: undefined }), ({ input, layers }, corrupt) => {
        ENV.tick()
        const provider = run(input, layers)
        const referee = corrupt === undefined ? provider : run(input, layers, new Map([[1 + (corrupt[0] % layers), corrupt[1]]]))
        const out = bisect(referee, oracleOf(provider), binds(provider), reexecute)
        expect(providerWrong(out)).not.toBe(true)
        expect(out.kind).toBe(corrupt === undefined ? "agree" : "inconsistent")
        if (corrupt === undefined) expect(out.queries).toBe(1)
      }),
      ENV.params,
    )
  })

  it("catches a provider whose answers are not its commitment, or who stops answering", () => {
    fc.assert(
      fc.property(traceArb, fc.nat(), fc.nat(), fc.nat(), fc.constantFrom("flip", "honest-tree", "silent", "bad-input"), ({ input, layers }, kSeed, lieAt, byte, how) => {
        ENV.tick()
        const k = 1 + (kSeed % layers)
        const honest = run(input, layers)
        const committed = run(input, layers, new Map([[k, new Uint8Array(32).fill(7)]]))
        const tree = traceTree(committed.hashes)
        const honestTree = traceTree(honest.hashes)
        let asked = 0
        const lieOn = lieAt % traceDepth(layers + 1)
        const provider: TraceOracle = {
          children: (l, i) => {
            const n = asked++
            const c = childrenOf(tree, l, i)
            if (n !== lieOn || c === undefined || how === "bad-input") return c
            if (how === "silent") return undefined
            // Answers from the honest computation (not what it committed to), or one byte changed.
            if (how === "honest-tree") return childrenOf(honestTree, l, i)
            const left = Uint8Array.from(c.left)
            left[byte % 32] = left[byte % 32]! ^ (1 + (byte % 255))
            return { left, right: c.right }
          },
          activation: (i) => (how === "bad-input" ? new Uint8Array([...committed.activation(i), 0]) : committed.activation(i)),
        }
        const out = bisect(honest, provider, binds(committed), reexecute)
        expect(providerWrong(out)).toBe(true)
        expect(out.kind).toBe(how === "flip" || how === "honest-tree" ? "lied" : how === "silent" ? "silent" : "lied")
      }),
      ENV.params,
    )
  })

  it("commits to every layer: another byte anywhere is another root; padding is empty", () => {
    const t = run(new Uint8Array([1, 2, 3]), 4)
    expect(traceDepth(5)).toBe(3)
    const tree = traceTree(t.hashes)
    expect(tree.map((l) => l.length)).toEqual([8, 4, 2, 1])
    expect(tree[0]![5]).toEqual(new Uint8Array(32))
    expect(tree[3]![0]).toEqual(nodeHash(tree[2]![0]!, tree[2]![1]!))
    for (let i = 0; i <= 4; i++) {
      const other = run(new Uint8Array([1, 2, 3]), 4, new Map([[i, new Uint8Array([9])]]))
      expect(traceRoot(other.hashes)).not.toEqual(traceRoot(t.hashes))
    }
    expect(layerHash(1, new Uint8Array([1]))).not.toEqual(layerHash(2, new Uint8Array([1])))
    expect(() => makeTrace([new Uint8Array(1)])).toThrow(/1\.\.1023 layers/)
    expect(() => traceTree(Array.from({ length: MAX_TRACE_LAYERS + 2 }, () => new Uint8Array(32)))).toThrow()
    expect(startBisection(t.hashes).step).toEqual({ kind: "ask", level: 3, index: 0 })
  })

  it("refutes a provider whose commitment's padding is not empty", () => {
    const honest = run(new Uint8Array([5]), 4)
    const tree = traceTree(honest.hashes).map((l) => [...l])
    tree[0]![6] = new Uint8Array(32).fill(1)
    for (let l = 1; l < tree.length; l++) tree[l] = tree[l]!.map((_, i) => nodeHash(tree[l - 1]![2 * i]!, tree[l - 1]![2 * i + 1]!))
    const root = tree.at(-1)![0]!
    const out = bisect(honest, { children: (l, i) => childrenOf(tree, l, i), activation: (i) => honest.activation(i) }, (r) => r.every((x, i) => x === root[i]), reexecute)
    expect(out).toMatchObject({ kind: "wrong", layer: 6, inputQueries: 0 })
  })
})
