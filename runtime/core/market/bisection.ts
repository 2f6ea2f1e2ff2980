/**
 * Refereed delegation for market disputes (after Gensyn's Verde): a computation is a sequence of
 * layers, its *layer trace* the bytes each layer outputs (layer 0: the input). A provider commits to
 * the Merkle root of the trace's layer hashes in the result word it delivers on the ledger, so the
 * commitment binds (it is on the ledger, timestamped) before any referee asks anything. At a dispute
 * the referee, who holds its own trace of the chunk, walks down the provider's tree from the root:
 * each query asks the two children of one node, checked to hash to the node already known (the root:
 * to a root the delivered word binds), and the walk goes to the left child when it differs from the
 * referee's own, else to the right. It ends at the FIRST diverging layer k after ⌈log2(L + 1)⌉
 * queries — exactly, whatever the provider's later layers are, because an equal subtree hash means
 * equal leaves. Layer k − 1 is then agreed: the referee takes its bytes from the provider (checked
 * against the agreed hash) and re-executes only layer k from them. A provider whose layer k is not
 * what layer k computes from its own input is wrong; one whose layer k it reproduces is right at that
 * step and the referee's own trace is the one in error (it abstains): an honest provider is never
 * found wrong, whatever the referee's trace. A provider that answers a query with children not of its
 * commitment, or not at all in time, loses as for a wrong result.
 *
 * Generic: a "layer" is whatever the work says (a model's layers over a chunk's inputs; an LM
 * pipeline's stages or blocks), as long as the trace's bytes are a deterministic function of the
 * previous layer's bytes. Hashes:
 *
 *   layer hash  h_i = keccak256("dai/market/layer/v1" ‖ uint32be(i) ‖ bytes_i)   (a leaf)
 *   node        keccak256(0x01 ‖ left ‖ right)
 *   padding     32 zero bytes, up to the next power of two leaves
 */
import { keccak256, toHex, utf8ToBytes } from "../crypto.ts"

/** Most layers a trace may have (so the tree is at most 11 levels: a bound on queries and messages). */
export const MAX_TRACE_LAYERS = 1_023
const LAYER_TAG = utf8ToBytes("dai/market/layer/v1")
const EMPTY = new Uint8Array(32)

/** A computation's layer trace: h_0 (the input) … h_L (the output), and the bytes each hashes. */
export interface LayerTrace {
  /** L + 1 layer hashes, 32 bytes each: the tree's leaves. */
  readonly hashes: readonly Uint8Array[]
  /** The bytes of layer i's output (i = 0: the input), what `hashes[i]` hashes. */
  readonly activation: (i: number) => Uint8Array
}

/** The leaf of layer `i` whose output is `bytes`. */
export const layerHash = (i: number, bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(LAYER_TAG.length + 4 + bytes.length)
  out.set(LAYER_TAG)
  new DataView(out.buffer).setUint32(LAYER_TAG.length, i)
  out.set(bytes, LAYER_TAG.length + 4)
  return keccak256(out)
}

/** An inner node of the commitment tree. */
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => {
  const out = new Uint8Array(65)
  out[0] = 1
  out.set(left, 1)
  out.set(right, 33)
  return keccak256(out)
}

/** A trace from the bytes of each layer (layer 0 first); the hashes are computed once. */
export const makeTrace = (activations: readonly Uint8Array[]): LayerTrace => {
  if (activations.length < 2 || activations.length > MAX_TRACE_LAYERS + 1) throw new RangeError(`a layer trace has 1..${MAX_TRACE_LAYERS} layers besides its input, got ${activations.length - 1}`)
  const hashes = activations.map((a, i) => layerHash(i, a))
  return { hashes, activation: (i) => activations[i]! }
}

/** Levels of the tree over `leaves` leaves (⌈log2 leaves⌉, at least 1). */
export const traceDepth = (leaves: number): number => Math.max(1, Math.ceil(Math.log2(leaves)))

/** The commitment tree of `hashes`: level 0 the padded leaves, level `depth` the root alone. */
export const traceTree = (hashes: readonly Uint8Array[]): readonly (readonly Uint8Array[])[] => {
  if (hashes.length < 2 || hashes.length > MAX_TRACE_LAYERS + 1) throw new RangeError(`a trace commitment has 2..${MAX_TRACE_LAYERS + 1} leaves, got ${hashes.length}`)
  const depth = traceDepth(hashes.length)
  const levels: Uint8Array[][] = [[...hashes, ...Array.from({ length: 2 ** depth - hashes.length }, () => EMPTY)]]
  for (let l = 1; l <= depth; l++) {
    const below = levels[l - 1]!
    levels.push(Array.from({ length: below.length / 2 }, (_, i) => nodeHash(below[2 * i]!, below[2 * i + 1]!)))
  }
  return levels
}

/** The commitment to a trace: its tree's root. */
export const traceRoot = (hashes: readonly Uint8Array[]): Uint8Array => traceTree(hashes).at(-1)![0]!

/** A provider's answer to "the children of node (level, index)", or why it has none. */
export interface Children {
  readonly left: Uint8Array
  readonly right: Uint8Array
}

/** What a provider's tree says of node (level ≥ 1, index): its two children; undefined outside the tree. */
export const childrenOf = (tree: readonly (readonly Uint8Array[])[], level: number, index: number): Children | undefined => {
  if (!(Number.isSafeInteger(level) && level >= 1 && level < tree.length && Number.isSafeInteger(index) && index >= 0)) return undefined
  const below = tree[level - 1]!
  if (2 * index + 1 >= below.length) return undefined
  return { left: below[2 * index]!, right: below[2 * index + 1]! }
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** Where a bisection stands: the node whose children are asked next, and the provider's hash of it once known. */
export interface Bisection {
  /** The referee's own tree. */
  readonly own: readonly (readonly Uint8Array[])[]
  /** Leaves that are layers (L + 1); the rest is padding. */
  readonly leaves: number
  readonly level: number
  readonly index: number
  /** The provider's hash of node (level, index); undefined at the root until the first answer reveals it. */
  readonly known: Uint8Array | undefined
  /** Queries answered so far. */
  readonly queries: number
}

/** The next thing to do in a bisection. */
export type BisectionStep =
  | { readonly kind: "ask"; readonly level: number; readonly index: number }
  /** The provider's commitment is the referee's own trace: nothing diverges. */
  | { readonly kind: "agree"; readonly queries: number }
  /** The first layer where the provider's trace leaves the referee's; layer − 1 is agreed. `layer` > L: a padding leaf that is not empty. */
  | { readonly kind: "diverged"; readonly layer: number; readonly providerHash: Uint8Array; readonly queries: number }
  /** An answer that is not the commitment's (its children do not hash to the node, or the root is not the one the word binds). */
  | { readonly kind: "lied"; readonly level: number; readonly index: number; readonly queries: number }

/** Start bisecting a provider's committed trace against the referee's own layer hashes (L + 1 of them). */
export const startBisection = (ownHashes: readonly Uint8Array[]): { readonly state: Bisection; readonly step: BisectionStep } => {
  const own = traceTree(ownHashes)
  const depth = own.length - 1
  return { state: { own, leaves: ownHashes.length, level: depth, index: 0, known: undefined, queries: 0 }, step: { kind: "ask", level: depth, index: 0 } }
}

/**
 * Take the provider's answer to the pending query. `bindsRoot` says whether the delivered result word
 * binds a root (asked once, at the first answer: the commitment the provider made on the ledger).
 */
export const answerBisection = (s: Bisection, answer: Children, bindsRoot: (root: Uint8Array) => boolean): { readonly state: Bisection; readonly step: BisectionStep } => {
  const queries = s.queries + 1
  const parent = nodeHash(answer.left, answer.right)
  const honest = s.known === undefined ? bindsRoot(parent) : same(parent, s.known)
  if (!honest) return { state: { ...s, queries }, step: { kind: "lied", level: s.level, index: s.index, queries } }
  const mine = childrenOf(s.own, s.level, s.index)!
  const goLeft = !same(answer.left, mine.left)
  if (!goLeft && same(answer.right, mine.right)) return { state: { ...s, queries }, step: { kind: "agree", queries } }
  const index = 2 * s.index + (goLeft ? 0 : 1)
  const known = goLeft ? answer.left : answer.right
  const level = s.level - 1
  const state: Bisection = { ...s, level, index, known, queries }
  if (level === 0) return { state, step: { kind: "diverged", layer: index, providerHash: known, queries } }
  return { state, step: { kind: "ask", level, index } }
}

/** How a dispute's bisection ended for the provider. */
export type BisectionOutcome =
  /** Its trace is the referee's: right. */
  | { readonly kind: "agree"; readonly queries: number }
  /** Wrong at `layer`: its output there is not what the layer computes from the agreed input (layer 0: not the job's input; > L: a bad commitment). */
  | { readonly kind: "wrong"; readonly layer: number; readonly queries: number }
  /** Its answers are not its commitment (`layer`: the agreed input's bytes did not hash to it), or it gave none in time. */
  | { readonly kind: "lied" | "silent"; readonly layer?: number; readonly queries: number }
  /** It reproduced layer `layer` from the agreed input: the referee's own trace is the one in error; no verdict. */
  | { readonly kind: "inconsistent"; readonly layer: number; readonly queries: number }

/** Whether an outcome refutes the provider (undefined: the referee cannot tell, and signs nothing). */
export const providerWrong = (o: BisectionOutcome): boolean | undefined =>
  o.kind === "agree" ? false : o.kind === "inconsistent" ? undefined : true

/**
 * The last step at the first diverging layer k ≥ 1: the provider's bytes of the agreed layer k − 1
 * (`input`; undefined: it did not give them) are checked against the agreed hash, layer k is
 * re-executed from them (`reexecute` gives the output's layer hash), and compared with the
 * provider's committed h_k. Layer 0 (the input itself) and padding leaves need no re-execution.
 */
export const judgeDivergence = (o: {
  readonly layer: number
  readonly layers: number
  readonly providerHash: Uint8Array
  readonly agreedInputHash: Uint8Array | undefined
  readonly input: Uint8Array | undefined
  readonly reexecute: (layer: number, input: Uint8Array) => Uint8Array
  readonly queries: number
}): BisectionOutcome => {
  const { layer, queries } = o
  if (layer === 0 || layer > o.layers) return { kind: "wrong", layer, queries }
  if (o.input === undefined) return { kind: "silent", layer: layer - 1, queries }
  if (o.agreedInputHash === undefined || !same(layerHash(layer - 1, o.input), o.agreedInputHash)) return { kind: "lied", layer: layer - 1, queries }
  return same(o.reexecute(layer, o.input), o.providerHash) ? { kind: "inconsistent", layer, queries } : { kind: "wrong", layer, queries }
}

/** A provider as a bisection sees it, for a synchronous run (tests, properties): answers, or undefined for none. */
export interface TraceOracle {
  children(level: number, index: number): Children | undefined
  activation(layer: number): Uint8Array | undefined
}

/**
 * A whole dispute run synchronously: bisect `provider` against `own`, fetch the agreed input, re-execute
 * the one layer. What the referee actor does over messages, step by step (runtime/actors/market/bisect.ts).
 */
export const bisect = (own: LayerTrace, provider: TraceOracle, bindsRoot: (root: Uint8Array) => boolean, reexecute: (layer: number, input: Uint8Array) => Uint8Array): BisectionOutcome & { readonly inputQueries: number } => {
  let { state, step } = startBisection(own.hashes)
  while (step.kind === "ask") {
    const a = provider.children(step.level, step.index)
    if (a === undefined) return { kind: "silent", queries: state.queries, inputQueries: 0 }
    ;({ state, step } = answerBisection(state, a, bindsRoot))
  }
  if (step.kind !== "diverged") return { ...step, inputQueries: 0 }
  const L = own.hashes.length - 1
  const asks = step.layer >= 1 && step.layer <= L
  const input = asks ? provider.activation(step.layer - 1) : undefined
  return {
    ...judgeDivergence({ layer: step.layer, layers: L, providerHash: step.providerHash, agreedInputHash: own.hashes[step.layer - 1], input, reexecute, queries: step.queries }),
    inputQueries: asks ? 1 : 0,
  }
}

/** A short name of a hash for telemetry. */
export const shortHash = (h: Uint8Array): string => toHex(h).slice(0, 18)
