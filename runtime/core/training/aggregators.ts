/**
 * Aggregation rules for federated updates (pure).
 *
 *   aggregate(name, updates, options?) → Float32Array
 *     name:     one of `training.aggregator`'s choices in the parameter registry (AGGREGATORS)
 *     options:  { byzantine?: number      — f, the number of byzantine updates to tolerate
 *                 trimFraction?: number   — trimmed-mean: fraction cut from EACH end per coordinate
 *                 multiKrum?: number }    — krum: average the m best-scored updates (default 1)
 *   throws AggregatorError({ aggregator, reason }) on bad input or when the rule cannot tolerate f.
 *
 * - fedavg: mean weighted by `samples` (McMahan et al. 2017).
 * - median: coordinate-wise median (mean of the two middle values for even n), unweighted.
 * - trimmed-mean: per coordinate, drop the k smallest and k largest values and average the rest
 *   (Yin et al. 2018); k = f when `byzantine` is given, else floor(trimFraction·n), trimFraction
 *   defaulting to 0.1. Unweighted: a byzantine trainer could claim any sample count.
 * - krum: Blanchard et al. 2017. Each update's score is the sum of squared distances to its
 *   n − f − 2 nearest others; the lowest score wins (multi-krum: mean of the m lowest). Needs
 *   n ≥ 2f + 3. f defaults to the largest the cohort tolerates, floor((n − 3) / 2).
 *
 * The robust rules ignore sample counts on purpose: a sample count is a claim, not evidence.
 */
import { Data } from "effect"
import { REGISTRY } from "../params.ts"
import type { AggregatorName, ClientUpdate } from "./types.ts"

/** The rules `training.aggregator` may name, in the registry's order: the registry is their one source. */
export const AGGREGATORS: readonly AggregatorName[] = REGISTRY["training.aggregator"].oneOf

/** A refused aggregation: which rule, and why. */
export class AggregatorError extends Data.TaggedError("AggregatorError")<{
  readonly aggregator: string
  readonly reason: string
}> {
  override get message() {
    return `aggregator ${this.aggregator}: ${this.reason}`
  }
}

export interface AggregateOptions {
  readonly byzantine?: number
  readonly trimFraction?: number
  readonly multiKrum?: number
}

const fail = (aggregator: string, reason: string): never => {
  throw new AggregatorError({ aggregator, reason })
}

/** Check the updates are non-empty, of one length, finite, with sane sample counts; returns the length. */
const validate = (name: string, updates: readonly ClientUpdate[]): number => {
  if (updates.length === 0) fail(name, "no updates to aggregate")
  const d = updates[0]!.delta.length
  const seen = new Set<string>()
  for (const u of updates) {
    if (seen.has(u.id)) fail(name, `update id "${u.id}" appears twice`)
    seen.add(u.id)
    if (u.delta.length !== d) fail(name, `update "${u.id}" has ${u.delta.length} parameters, expected ${d} (as "${updates[0]!.id}")`)
    if (!Number.isFinite(u.samples) || u.samples < 0) fail(name, `update "${u.id}" has an invalid sample count ${u.samples}`)
    for (let i = 0; i < d; i++) {
      if (!Number.isFinite(u.delta[i]!)) fail(name, `update "${u.id}" has a non-finite value at index ${i}`)
    }
  }
  return d
}

const checkCount = (name: string, what: string, value: number | undefined, max: number): void => {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < 0 || value > max) fail(name, `${what} must be an integer in [0, ${max}], got ${value}`)
}

/** Mean weighted by samples. */
export const fedavg = (updates: readonly ClientUpdate[]): Float32Array => {
  const d = validate("fedavg", updates)
  const total = updates.reduce((s, u) => s + u.samples, 0)
  if (total <= 0) fail("fedavg", "the updates carry no samples (total weight 0)")
  const acc = new Float64Array(d)
  for (const u of updates) {
    const w = u.samples / total
    for (let i = 0; i < d; i++) acc[i]! += w * u.delta[i]!
  }
  return Float32Array.from(acc)
}

/** Coordinate-wise median. */
export const median = (updates: readonly ClientUpdate[]): Float32Array => {
  const d = validate("median", updates)
  return coordinatewise(updates, d, (sorted) => {
    const n = sorted.length
    const mid = n >> 1
    return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  })
}

/** Coordinate-wise trimmed mean, cutting `trim` values at each end. */
export const trimmedMean = (updates: readonly ClientUpdate[], options: AggregateOptions = {}): Float32Array => {
  const name = "trimmed-mean"
  const d = validate(name, updates)
  const n = updates.length
  let k: number
  if (options.byzantine !== undefined) {
    checkCount(name, "byzantine", options.byzantine, n)
    k = options.byzantine
  } else {
    const beta = options.trimFraction ?? 0.1
    if (!(beta >= 0 && beta < 0.5)) fail(name, `trimFraction must be in [0, 0.5), got ${beta}`)
    k = Math.floor(beta * n)
  }
  if (n - 2 * k < 1) fail(name, `trimming ${k} from each end of ${n} updates leaves none (need n > 2k)`)
  return coordinatewise(updates, d, (sorted) => {
    let s = 0
    for (let j = k; j < sorted.length - k; j++) s += sorted[j]!
    return s / (sorted.length - 2 * k)
  })
}

/** Krum / multi-krum (Blanchard et al. 2017). */
export const krum = (updates: readonly ClientUpdate[], options: AggregateOptions = {}): Float32Array => {
  const name = "krum"
  const d = validate(name, updates)
  const n = updates.length
  checkCount(name, "byzantine", options.byzantine, n)
  const f = options.byzantine ?? Math.max(0, Math.floor((n - 3) / 2))
  if (n < 2 * f + 3) fail(name, `needs n ≥ 2f + 3 updates to tolerate f = ${f} byzantine, got n = ${n} (at least ${2 * f + 3})`)
  const m = options.multiKrum ?? 1
  if (!Number.isInteger(m) || m < 1 || m > n - f) fail(name, `multiKrum must be an integer in [1, n − f = ${n - f}], got ${m}`)
  const scores = krumScores(updates, f)
  // Ties broken by id so the result does not depend on the order updates arrived in.
  const order = updates.map((u, i) => i).sort((a, b) => scores[a]! - scores[b]! || (updates[a]!.id < updates[b]!.id ? -1 : 1))
  const acc = new Float64Array(d)
  for (const i of order.slice(0, m)) {
    const delta = updates[i]!.delta
    for (let j = 0; j < d; j++) acc[j]! += delta[j]! / m
  }
  return Float32Array.from(acc)
}

/** Krum score of each update: the sum of squared distances to its n − f − 2 nearest others. */
export const krumScores = (updates: readonly ClientUpdate[], f: number): number[] => {
  const n = updates.length
  const dist = Array.from({ length: n }, () => new Float64Array(n))
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const x = updates[a]!.delta
      const y = updates[b]!.delta
      let s = 0
      for (let i = 0; i < x.length; i++) {
        const t = x[i]! - y[i]!
        s += t * t
      }
      dist[a]![b] = s
      dist[b]![a] = s
    }
  }
  const neighbours = n - f - 2
  return dist.map((row, a) => {
    const others = Array.from(row).filter((_, b) => b !== a).sort((p, q) => p - q)
    let s = 0
    for (let j = 0; j < neighbours; j++) s += others[j]!
    return s
  })
}

/** Apply `reduce` to the sorted values of each coordinate. */
const coordinatewise = (updates: readonly ClientUpdate[], d: number, reduce: (sorted: Float64Array) => number): Float32Array => {
  const n = updates.length
  const column = new Float64Array(n)
  const out = new Float32Array(d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < n; j++) column[j] = updates[j]!.delta[i]!
    column.sort()
    out[i] = reduce(column)
  }
  return out
}

/** Aggregate the updates with the named rule. */
export const aggregate = (name: AggregatorName, updates: readonly ClientUpdate[], options: AggregateOptions = {}): Float32Array => {
  switch (name) {
    case "fedavg":
      return fedavg(updates)
    case "median":
      return median(updates)
    case "trimmed-mean":
      return trimmedMean(updates, options)
    case "krum":
      return krum(updates, options)
    default:
      // A choice the registry gains without a rule here fails to compile; a name from outside, at run time.
      return fail(String(name satisfies never), `unknown aggregator (known: ${AGGREGATORS.join(", ")})`)
  }
}
