/**
 * A paid stage's note as a layer trace (issue 14, item 6: bisection within a stage): what the note's
 * word commits to, so that a referee can bisect a wrong note down to its first wrong block and the
 * other judges check a fraud proof by re-executing that ONE block (core/market/bisection.ts,
 * fraud-proof.ts: reused as they are, over the layers defined here).
 *
 * A stage serving blocks from..to has L = to − from + 1 layers: layer j (1..L) is block from + j − 1
 * (the first stage's layer 1 embeds the tokens first, the last stage's layer L applies the head and
 * keeps the last position's logits, exactly what the stage returns). The note's trace covers every
 * forward of its session up to the note's last one — not only the note's own forwards: a block's
 * output depends on its attention cache, i.e. on the block's inputs of the whole session so far, so
 * re-executing one block needs them, and they must be bound by the commitment (a proof whose prefix
 * is not the committed one could make an honest block look wrong). So:
 *
 *   layer j's bytes  the rows of layer j's output for each forward in order (layer 0: the inputs),
 *                    each row u8 kind (0 tokens, 1 activations, 2 logits) ‖ u32be start ‖ u32be length
 *                    ‖ u32be dim ‖ values little-endian (int32 tokens, float32 otherwise)
 *   leaf j           layerHash(j, layer j's bytes)                 (core/market/bisection.ts)
 *   the note's word  keccak256("dai/lm/trace/v1/<backend>" ‖ traceRoot(leaves))
 *
 * The word names the TensorFlow.js backend the stage computed on (core/lm/backend.ts): exact
 * re-execution needs bit-identical floats, which only the same backend gives, so a note says up front
 * which backend's referees may judge it (and a referee or co-signer on another answers `unable`).
 *
 * Leaf 0 binds the inputs and leaf L the outputs the client received: a client holding the middle
 * leaves (the server sends them with each result) rebuilds the root from its own records and checks
 * the word on the ledger. Re-executing layer k from layer k − 1's bytes is a fresh one-block session
 * fed those rows in order: deterministic on one backend, so an honest stage's trace is consistent at
 * every layer and a forged proof against it is refused (fraud-proof.ts).
 */
import { Result } from "effect"
import { keccak256, toHex } from "../crypto.ts"
import { layerHash, MAX_TRACE_LAYERS, traceRoot } from "../market/bisection.ts"
import { checkFraudProof, type FraudProof, type ProofCheck } from "../market/fraud-proof.ts"

/** One forward's rows of one layer. */
export interface LmRows {
  readonly kind: "tokens" | "activations" | "logits"
  readonly start: number
  readonly length: number
  readonly dim: number
  readonly data: Int32Array | Float32Array
}

const KINDS = ["tokens", "activations", "logits"] as const
const utf8 = new TextEncoder()
const tags = new Map<string, Uint8Array>()
/** The tag of a note's word on `backend` (1 to 32 of [a-z0-9-]; a RangeError otherwise). */
const traceTag = (backend: string): Uint8Array => {
  let t = tags.get(backend)
  if (t === undefined) {
    if (!/^[a-z0-9-]{1,32}$/.test(backend)) throw new RangeError(`backend name ${JSON.stringify(backend)} is not 1 to 32 of [a-z0-9-]`)
    t = utf8.encode(`dai/lm/trace/v1/${backend}`)
    tags.set(backend, t)
  }
  return t
}
const ROW_HEADER = 13

/** The bytes of one layer over a session's forwards (the module's doc). Throws a RangeError on rows whose values are not length × dim. */
export const encodeLmLayer = (rows: readonly LmRows[]): Uint8Array => {
  const size = rows.reduce((n, r) => n + ROW_HEADER + 4 * r.data.length, 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const r of rows) {
    if (r.data.length !== r.length * r.dim) throw new RangeError(`lm layer rows: ${r.data.length} values for ${r.length} × ${r.dim}`)
    if ((r.kind === "tokens") !== r.data instanceof Int32Array) throw new RangeError(`lm layer rows: ${r.kind} must be ${r.kind === "tokens" ? "int32" : "float32"}`)
    out[at] = KINDS.indexOf(r.kind)
    view.setUint32(at + 1, r.start)
    view.setUint32(at + 5, r.length)
    view.setUint32(at + 9, r.dim)
    at += ROW_HEADER
    for (let i = 0; i < r.data.length; i++, at += 4) {
      if (r.kind === "tokens") view.setInt32(at, r.data[i]!, true)
      else view.setFloat32(at, r.data[i]!, true)
    }
  }
  return out
}

/** The rows of a layer's bytes, or why they are not a layer (truncated, an unknown kind, a non-finite float, trailing bytes). Never throws. */
export const decodeLmLayer = (bytes: Uint8Array): Result.Result<LmRows[], string> => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const rows: LmRows[] = []
  let at = 0
  while (at < bytes.length) {
    if (at + ROW_HEADER > bytes.length) return Result.fail(`lm layer: a row header is cut at byte ${at}`)
    const kind = KINDS[bytes[at]!]
    if (kind === undefined) return Result.fail(`lm layer: row kind ${bytes[at]} at byte ${at} is none of ${KINDS.join(", ")}`)
    const start = view.getUint32(at + 1), length = view.getUint32(at + 5), dim = view.getUint32(at + 9)
    at += ROW_HEADER
    const count = length * dim
    if (length === 0 || dim === 0 || at + 4 * count > bytes.length) return Result.fail(`lm layer: a row of ${length} × ${dim} values does not fit at byte ${at}`)
    const data = kind === "tokens" ? new Int32Array(count) : new Float32Array(count)
    for (let i = 0; i < count; i++, at += 4) {
      const x = kind === "tokens" ? view.getInt32(at, true) : view.getFloat32(at, true)
      if (!Number.isFinite(x) || (kind === "tokens" && x < 0)) return Result.fail(`lm layer: value ${x} at byte ${at} is not a ${kind === "tokens" ? "token" : "finite float"}`)
      data[i] = x
    }
    rows.push({ kind, start, length, dim, data })
  }
  return rows.length === 0 ? Result.fail("lm layer: no rows") : Result.succeed(rows)
}

/** Leaf `layer` of a note's trace: the layer hash of its rows' bytes. */
export const lmLayerHash = (layer: number, rows: readonly LmRows[]): Uint8Array => layerHash(layer, encodeLmLayer(rows))

/** The backend of a stage that does not say (the reference backend of exact verification). */
export const DEFAULT_LM_BACKEND = "cpu"

/** A note's result word (0x hex) from its trace's root, on `backend` (default cpu). Throws a RangeError on a backend name that is not 1 to 32 of [a-z0-9-]. */
export const lmTraceWord = (root: Uint8Array, backend: string = DEFAULT_LM_BACKEND): string => {
  const tag = traceTag(backend)
  const b = new Uint8Array(tag.length + 32)
  b.set(tag)
  b.set(root, tag.length)
  return toHex(keccak256(b))
}

/** Layers of a stage's trace (its blocks); undefined for a range no trace can have. */
export const lmStageLayers = (from: number, to: number): number | undefined => {
  const L = to - from + 1
  return Number.isSafeInteger(from) && from >= 0 && Number.isSafeInteger(L) && L >= 1 && L <= MAX_TRACE_LAYERS ? L : undefined
}

/**
 * One layer of a stage run alone (layer j: block from + j − 1, embedding / head included where the
 * stage has them) as a fresh session over `input`'s forwards in order: one output row per input row.
 * It may throw on rows it cannot take.
 */
export type LmLayerRun = (layer: number, input: readonly LmRows[]) => readonly LmRows[]

/**
 * Check a fraud proof against an `infer:lm/<from>-<to>` note whose word on the ledger is `word`:
 * fraud-proof.ts's checks (L the stage's blocks, the paths to the root the word commits to, the bytes
 * against the committed input hash), then layer k re-executed alone from the decoded rows (`run`,
 * called at most once) on `backend` (default cpu: a note naming another does not bind). Pure apart from `run`.
 */
export const checkLmFraudProof = (p: FraudProof, o: { readonly from: number; readonly to: number; readonly word: string; readonly run: LmLayerRun; readonly backend?: string }): ProofCheck => {
  const layers = lmStageLayers(o.from, o.to)
  if (layers === undefined) return { ok: false, reason: `blocks ${o.from}-${o.to} are not a stage` }
  const word = o.word.toLowerCase()
  return checkFraudProof(p, {
    layers,
    // Only a note on the checker's backend binds: one on another is not its to judge (its floats differ).
    bindsRoot: (root) => lmTraceWord(root, o.backend) === word,
    reexecute: (k, bytes) => lmLayerHashOf(k, bytes, o.run),
  })
}

/** Layer `k` re-executed from layer k − 1's bytes: its leaf. Throws (a RangeError saying why) on bytes that are no layer or rows `run` does not answer one for one. */
export const lmLayerHashOf = (k: number, bytes: Uint8Array, run: LmLayerRun): Uint8Array => {
  const rows = decodeLmLayer(bytes)
  if (Result.isFailure(rows)) throw new RangeError(rows.failure)
  const out = run(k, rows.success)
  if (out.length !== rows.success.length) throw new RangeError(`layer ${k} gave ${out.length} rows for ${rows.success.length} forwards`)
  return lmLayerHash(k, out)
}

/**
 * The leaves of a note's trace as its client rebuilds them: leaf 0 from the inputs it sent, leaf L
 * from the outputs it received, the middle ones as the server sent them with its last result.
 */
export const lmClientLeaves = (inputs: readonly LmRows[], middle: readonly Uint8Array[], outputs: readonly LmRows[]): Uint8Array[] =>
  [lmLayerHash(0, inputs), ...middle, lmLayerHash(middle.length + 1, outputs)]

/** The root leaves give when leaf 0 is `inputs`' (the evidence binds the inputs), else undefined. */
export const lmEvidenceRoot = (inputs: readonly LmRows[], leaves: readonly Uint8Array[]): Uint8Array | undefined => {
  if (leaves.length < 2 || leaves.length > MAX_TRACE_LAYERS + 1 || leaves.some((h) => h.length !== 32)) return undefined
  const first = lmLayerHash(0, inputs)
  if (!first.every((b, i) => b === leaves[0]![i])) return undefined
  return traceRoot(leaves)
}

/** The word leaves give on `backend` when leaf 0 is `inputs`' (the evidence binds the inputs), else undefined. */
export const lmEvidenceWord = (inputs: readonly LmRows[], leaves: readonly Uint8Array[], backend: string = DEFAULT_LM_BACKEND): string | undefined => {
  const root = lmEvidenceRoot(inputs, leaves)
  return root === undefined ? undefined : lmTraceWord(root, backend)
}
