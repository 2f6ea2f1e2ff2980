/**
 * The work a market job buys, as the actors see it: a `MarketWork` computes units [from, from + units)
 * of a job and names the result by a 32-byte hash; a referee re-executes a delivery and compares
 * hashes. In this first version the work of an inference unit is a model the world supplies (the
 * simulator: time per unit from the provider's speed, the result hash a function of the job and the
 * unit range, so anyone can recompute it); a real node's inference backend plugs in the same way.
 */
import { keccak256, toHex } from "../../core/crypto.ts"
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

const utf8 = new TextEncoder()

/**
 * The result hash of units [from, from + units) of `job` under the simulator's deterministic model:
 * keccak256 of a domain tag and the numbers, so a referee recomputes it from the job alone.
 */
export const unitResultHash = (task: WorkTask): string =>
  toHex(keccak256(utf8.encode(`dai/market/unit/v1|${task.job}|${task.kind}|${task.from}|${task.units}`)))

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
