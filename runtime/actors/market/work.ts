/**
 * The work a market job buys, as the actors see it: a `MarketWork` computes units [from, from + units)
 * of a job and names the result by a 32-byte hash; a referee re-executes a delivery and compares
 * hashes. In this first version the work of an inference unit is a model the world supplies (the
 * simulator: time per unit from the provider's speed, the result hash a function of the job and the
 * unit range, so anyone can recompute it); a real node's inference backend plugs in the same way.
 */
import { keccak256, toHex } from "../../core/crypto.ts"
import { layerHash as layerHashOf, makeTrace, traceRoot, type LayerTrace } from "../../core/market/bisection.ts"
import type { JobView } from "../../core/market/index.ts"

/** A chunk of a job to compute. */
export interface WorkTask {
  readonly job: number
  readonly kind: string
  /** First unit of the chunk (0-based, in the job's order of delivery). */
  readonly from: number
  readonly units: number
  /** Jobs the provider runs at once, this one included (they share its throughput); 1 for a referee. */
  readonly running?: number
}

/** What computing a chunk gave: how long it took (ms) and the result's hash. */
export interface WorkResult {
  readonly ms: number
  readonly resultHash: string
  /** The layer trace the result word commits to (core/market/bisection.ts): the provider answers a dispute's bisection from it. */
  readonly trace?: LayerTrace
}

/** Computes a chunk; `undefined` when the work never finishes (a stalled backend). */
export type MarketWork = (task: WorkTask) => WorkResult | undefined

/**
 * Re-executes a chunk and returns the hash an honest provider delivers for it; `undefined` when this
 * referee cannot re-execute it (it does not hold the model the result names): it then refutes nothing.
 * `claimed` is the hash delivered: a result that names its model (a real node's inference, whose hash
 * binds the model's hash) is re-executed with that model when the referee holds it.
 */
export type Reexecute = (task: WorkTask, claimed?: string) => string | undefined

/**
 * The layered side of a work, for the bisection of a dispute (core/market/bisection.ts): this node's
 * own trace of a chunk, one layer re-executed from its input, and the word a trace's root gives.
 * `claimed` is the word delivered (a real node's names the model to run).
 */
export interface TraceWork {
  /** This node's own trace of the chunk and the honest word it gives; undefined: it cannot compute it (no model held). */
  trace(task: WorkTask, claimed: string): { readonly trace: LayerTrace; readonly word: string } | undefined
  /** L: the layers of the chunk's trace under the word `claimed` (a fraud proof's bound, core/market/fraud-proof.ts); undefined: this node cannot run it. */
  layers(task: WorkTask, claimed: string): number | undefined
  /** Layer `layer` (1..L) of the chunk computed from `input` (layer − 1's bytes): the output's layer hash. */
  layer(task: WorkTask, claimed: string, layer: number, input: Uint8Array): Uint8Array
  /** The word of a chunk whose trace commits to `root`; undefined when `claimed` names nothing this work may run (it binds no trace). */
  word(task: WorkTask, claimed: string, root: Uint8Array): string | undefined
}

const utf8 = new TextEncoder()

/** Layers of the simulator's deterministic model of a chunk. */
export const UNIT_LAYERS = 8

/** Layer `layer` of the simulator's model: keccak256 of a tag, the layer and the previous layer's bytes. */
export const unitLayer = (layer: number, input: Uint8Array): Uint8Array => {
  const tag = utf8.encode(`dai/market/unit-layer/v1|${layer}|`)
  const b = new Uint8Array(tag.length + input.length)
  b.set(tag)
  b.set(input, tag.length)
  return keccak256(b)
}

/**
 * The simulator's model of a chunk as a layer trace: layer 0 the chunk's identity (job, kind, range),
 * each of UNIT_LAYERS layers `unitLayer` of the previous. `fault` replaces layer k's output by
 * made-up bytes (a provider that computes wrong from layer k on; later layers follow from them).
 */
export const unitTrace = (task: WorkTask, fault?: number): LayerTrace => {
  const a: Uint8Array[] = [utf8.encode(`${fault === 0 ? "fault" : "dai/market/unit/v2"}|${task.job}|${task.kind}|${task.from}|${task.units}`)]
  for (let i = 1; i <= UNIT_LAYERS; i++) a.push(i === fault ? keccak256(utf8.encode(`fault|${task.job}|${task.from}|${i}`)) : unitLayer(i, a[i - 1]!))
  return makeTrace(a)
}

/** The result word of a chunk of the simulator's model whose trace commits to `root`. */
export const unitWord = (task: WorkTask, root: Uint8Array): string => {
  const head = utf8.encode(`dai/market/unit-word/v2|${task.job}|${task.kind}|${task.from}|${task.units}|`)
  const b = new Uint8Array(head.length + root.length)
  b.set(head)
  b.set(root, head.length)
  return toHex(keccak256(b))
}

/**
 * The result hash of units [from, from + units) of `job` under the simulator's deterministic model:
 * the word committing to its honest layer trace, so a referee recomputes it from the job alone.
 */
export const unitResultHash = (task: WorkTask): string => unitWord(task, traceRoot(unitTrace(task).hashes))

/** The simulator model's layered side: every node computes the same trace of a chunk. */
export const unitTraceWork: TraceWork = {
  trace: (task) => {
    const trace = unitTrace(task)
    return { trace, word: unitWord(task, traceRoot(trace.hashes)) }
  },
  layers: () => UNIT_LAYERS,
  layer: (_task, _claimed, layer, input) => layerHashOf(layer, unitLayer(layer, input)),
  word: (task, _claimed, root) => unitWord(task, root),
}

/**
 * A provider's trace of a delivered word under the simulator's model, recomputed on demand (a
 * provider that restarted still answers a dispute): the honest trace when `word` is its word.
 */
export const unitProviderTrace = (task: WorkTask, word: string): LayerTrace | undefined => {
  const trace = unitTrace(task)
  return unitWord(task, traceRoot(trace.hashes)) === word.toLowerCase() ? trace : undefined
}

/** Each debit note of `job` with the unit range it covers: refuted notes cover nothing (their units are delivered again). */
export const noteRanges = (job: JobView): ReadonlyArray<{ readonly note: JobView["notes"][number]; readonly from: number }> => {
  let offset = 0
  return job.notes.map((note) => {
    const from = offset
    if (note.state !== "refuted") offset += Number(note.units)
    return { note, from }
  })
}

/**
 * The notes of `job` in `states` whose hash a re-execution does not reproduce. A note the referee
 * cannot re-execute (`reexecute` gives undefined) is not counted wrong: no provider is refuted by a
 * referee that did not compute its work.
 */
export const wrongNotes = (job: JobView, states: ReadonlyArray<JobView["notes"][number]["state"]>, reexecute: Reexecute): readonly number[] =>
  noteRanges(job)
    .filter(({ note }) => states.includes(note.state))
    .filter(({ note, from }) => {
      const honest = reexecute({ job: job.id, kind: job.kind, from, units: Number(note.units) }, note.resultHash)
      return honest !== undefined && honest.toLowerCase() !== note.resultHash.toLowerCase()
    })
    .map(({ note }) => note.id)
