/**
 * Verde's fraud proof (after Gensyn's refereed delegation): what lets the other judges of a dispute
 * refute a provider by re-executing ONE layer, instead of computing the whole trace themselves.
 *
 * The referee that bisected a disputed note to its first diverging layer k (bisection.ts) holds
 * everything needed to show the provider's committed trace is inconsistent at k: the provider's
 * committed hashes h_{k−1} (the agreed input; k = 1: the committed input) and h_k, their Merkle paths
 * to the root the provider's delivered word binds, and the bytes of layer k − 1 (which hash to
 * h_{k−1}). A judge checks the paths against the word, the bytes against h_{k−1}, re-executes only
 * layer k from the bytes and compares with h_k: different → the provider's own commitment says its
 * layer k is not what layer k computes from its own layer k − 1, so its result is wrong, whatever any
 * judge's own trace is.
 *
 * Safety (an honest provider is never refuted by a forged proof): an honest provider's committed
 * trace is consistent at every layer (h_k = layerHash(k, f_k(bytes_{k−1}))). With the tree's depth
 * fixed by L (the work's layer count, not the proof's) and k in 1..L, paths that reach the bound
 * root pin the two leaves to the provider's own h_{k−1} and h_k (else a keccak collision), bytes
 * hashing to h_{k−1} are the provider's own bytes (idem), so re-execution gives h_k and the check
 * refuses. A proof proves only wrongness: a "provider right" verdict still needs a judge's own trace.
 * Padding leaves (k > L) and another input (k = 0) are not proven this way: those fall back to each
 * judge's own bisection.
 */
import { layerHash, MAX_TRACE_LAYERS, nodeHash, traceDepth } from "./bisection.ts"

/** Deepest tree a proof's paths may climb (the tree over MAX_TRACE_LAYERS + 1 leaves). */
export const MAX_PROOF_DEPTH = traceDepth(MAX_TRACE_LAYERS + 1)

/** A fraud proof against one disputed note's committed trace. */
export interface FraudProof {
  /** k: the layer (1..L) whose committed output is not what it computes from the committed layer k − 1. */
  readonly layer: number
  /** The bytes of layer k − 1 (the agreed input), which hash to `inputHash`. */
  readonly input: Uint8Array
  /** The provider's committed h_{k−1}. */
  readonly inputHash: Uint8Array
  /** The provider's committed h_k. */
  readonly outputHash: Uint8Array
  /** Siblings of leaf k − 1 from the leaves up to the root (one per level). */
  readonly inputPath: readonly Uint8Array[]
  /** Siblings of leaf k, likewise. */
  readonly outputPath: readonly Uint8Array[]
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** The siblings of leaf `index` in `tree` (level 0 the leaves), from the bottom up. */
export const leafPath = (tree: readonly (readonly Uint8Array[])[], index: number): Uint8Array[] => {
  const out: Uint8Array[] = []
  let i = index
  for (let level = 0; level < tree.length - 1; level++) {
    const sibling = tree[level]![i ^ 1]
    if (sibling === undefined) throw new RangeError(`leaf ${index} is outside a tree of ${tree[0]!.length} leaves`)
    out.push(sibling)
    i >>= 1
  }
  return out
}

/** The root that leaf `leaf` at `index` reaches through `path` (siblings from the bottom up). */
export const pathRoot = (leaf: Uint8Array, index: number, path: readonly Uint8Array[]): Uint8Array => {
  let h = leaf
  let i = index
  for (const sibling of path) {
    h = (i & 1) === 0 ? nodeHash(h, sibling) : nodeHash(sibling, h)
    i >>= 1
  }
  return h
}

/** One answered bisection query: the provider's children of node (level, index). */
export interface AnsweredQuery {
  readonly level: number
  readonly index: number
  readonly left: Uint8Array
  readonly right: Uint8Array
}

/**
 * The fraud proof a bisection that ended at layer k (its outcome `wrong`, 1 ≤ k ≤ L) yields: the
 * provider's tree as the referee learned it — its own tree where the provider agreed (an equal
 * subtree hash means equal leaves), overwritten by the provider's answers on the way down — gives
 * both leaves' paths. `input` is the provider's bytes of layer k − 1 (checked by the bisection
 * against the agreed hash). The caller checks the result with {@link checkFraudProof} before
 * publishing it.
 */
export const fraudProofOf = (o: {
  readonly own: readonly (readonly Uint8Array[])[]
  readonly answers: readonly AnsweredQuery[]
  readonly layer: number
  readonly input: Uint8Array
}): FraudProof => {
  const tree = o.own.map((level) => [...level])
  for (const a of o.answers) {
    const below = tree[a.level - 1]
    if (below === undefined || 2 * a.index + 1 >= below.length) throw new RangeError(`an answer for node (${a.level}, ${a.index}) is outside the tree`)
    below[2 * a.index] = a.left
    below[2 * a.index + 1] = a.right
  }
  const k = o.layer
  return {
    layer: k, input: o.input, inputHash: tree[0]![k - 1]!, outputHash: tree[0]![k]!,
    inputPath: leafPath(tree, k - 1), outputPath: leafPath(tree, k),
  }
}

/** What checking a proof gave: accepted (the provider is wrong at `layer`), or why it is refused. */
export type ProofCheck = { readonly ok: true; readonly layer: number } | { readonly ok: false; readonly reason: string }

/**
 * Check `p` against a note's commitment: `layers` is L, the work's own count for the note (never
 * the proof's), `bindsRoot` whether the note's delivered word binds a root, `reexecute` layer k
 * from an input (its output's layer hash; it may throw on an input it cannot take: refused). Pure
 * apart from `reexecute`, which is called at most once, last.
 */
export const checkFraudProof = (p: FraudProof, o: {
  readonly layers: number
  readonly bindsRoot: (root: Uint8Array) => boolean
  readonly reexecute: (layer: number, input: Uint8Array) => Uint8Array
}): ProofCheck => {
  const L = o.layers
  if (!(Number.isSafeInteger(L) && L >= 1 && L <= MAX_TRACE_LAYERS)) return { ok: false, reason: `the work has no layer count to check against (${L})` }
  const k = p.layer
  if (!(Number.isSafeInteger(k) && k >= 1 && k <= L)) return { ok: false, reason: `layer ${k} is not a layer of the work (1..${L})` }
  const depth = traceDepth(L + 1)
  if (p.inputPath.length !== depth || p.outputPath.length !== depth) {
    return { ok: false, reason: `paths of ${p.inputPath.length} and ${p.outputPath.length} hashes, the tree of ${L} layers has ${depth} levels` }
  }
  if ([p.inputHash, p.outputHash, ...p.inputPath, ...p.outputPath].some((h) => h.length !== 32)) return { ok: false, reason: "a hash is not 32 bytes" }
  if (!same(layerHash(k - 1, p.input), p.inputHash)) return { ok: false, reason: `the input bytes do not hash to the committed hash of layer ${k - 1}` }
  const root = pathRoot(p.inputHash, k - 1, p.inputPath)
  if (!same(pathRoot(p.outputHash, k, p.outputPath), root)) return { ok: false, reason: `the paths of layers ${k - 1} and ${k} reach different roots` }
  if (!o.bindsRoot(root)) return { ok: false, reason: "the paths do not reach the root the note's word commits to" }
  let out: Uint8Array
  try {
    out = o.reexecute(k, p.input)
  } catch (e) {
    return { ok: false, reason: `layer ${k} could not be re-executed from the input: ${e instanceof Error ? e.message : String(e)}` }
  }
  if (same(out, p.outputHash)) return { ok: false, reason: `layer ${k} re-executed from the committed input gives the committed output: the provider computed it right` }
  return { ok: true, layer: k }
}
