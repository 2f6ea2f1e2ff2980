/**
 * Which provider a requester gives a job to, among those `findProviders` returned.
 *
 * Policy: **power of two choices over the eligible providers, scored by expected completion time
 * and price.** Eligible: serves under the job's price cap, has room (`queue < capacity`, as
 * `assignJob` demands), and was not excluded (a provider that already failed this job). Two distinct
 * eligible providers are drawn uniformly from the random source; the one with the lower score wins:
 *
 *   expectedMs = units × msPerUnit(provider) × (1 + queue / capacity)
 *   score      = expectedMs × (1 + priceWeight × price / maxPrice)
 *
 * `msPerUnit` is this requester's EWMA of the provider's measured time per unit, normalised by the
 * load the provider advertised when the job was given (so load is counted once, from the fresh
 * record, not again through a latency measured under yesterday's queue); a provider never measured
 * gets the mean of those measured. `1 + queue / capacity` is the slowdown of a provider sharing its
 * throughput among its open jobs. With `priceWeight` 1 (default), a provider at the price cap must be
 * twice as fast as a free one to tie.
 *
 * Why two random choices rather than the best score (or the cheapest): every requester acts on
 * records that are as old as its last `findProviders`, and many requesters read the same records.
 * Picking the best makes all of them pile onto the same provider until the records refresh (the herd
 * effect of join-the-shortest-queue under stale information: Mitzenmacher, "How useful is old
 * information?", 2000); cheapest-first does the same by price and ignores load entirely. Uniform
 * random choice never herds but leaves the maximum load at Θ(log n / log log n) above the mean;
 * taking the better of two random ones keeps randomness' immunity to herding while cutting the gap
 * to log log n / log 2 + O(1) (Azar, Broder, Karlin, Upfal, "Balanced allocations", 1994), and never
 * picks the worst eligible provider. Petals routes by measured latency and load in the same spirit.
 * bench/load-balance.ts (figures in bench/RESULTS.md) compares it with random, cheapest-first and
 * greedy on one simulated workload: two choices beats random (p99 −7 to −31 %) and cheapest-first by
 * far; greedy and `choices: 3` are faster below saturation there, because the rules' capacity check
 * refuses a herd within one round trip; the default stays 2 for the guarantee above, and the caller
 * may pass `choices`.
 *
 * Pure and deterministic: the same candidates (in any order), request, estimates and random draws
 * give the same choice.
 */
import type { ProviderRecord } from "../provider-record.ts"

/** A provider as found (the Network port's ProviderInfo has this shape). */
export interface Candidate {
  readonly peer: string
  readonly record: ProviderRecord
}

/** What the requester wants. */
export interface RoutingRequest {
  /** Units of work in the job (> 0). */
  readonly units: number
  /** The job's price cap per unit (the escrow was `units × maxPricePerUnit`). */
  readonly maxPricePerUnit: bigint
  /** Providers not to use for this job (they failed it, or were refused by the rules). */
  readonly exclude?: ReadonlySet<string>
}

/** Uniform integers in [0, n): the simulator's Prng, or the node's randomness. */
export interface RandomSource {
  int(n: number): number
}

export interface RoutingOptions {
  /** How much price counts against time (see the module doc). Default 1; 0 routes on time alone. */
  readonly priceWeight?: number
  /** How many eligible providers are drawn and compared (d of "power of d choices"). Default 2; ≥ the number eligible is the greedy best score. */
  readonly choices?: number
}

/** Why a candidate is not eligible (undefined: it is). */
export type Ineligibility = "over-price" | "full" | "excluded"

export type Choice =
  | { readonly ok: true; readonly provider: Candidate; readonly expectedMs: number; readonly score: number }
  | { readonly ok: false; readonly reason: string }

export interface LatencyOptions {
  /** Weight of the newest measurement, in (0, 1]. Default 0.3. */
  readonly alpha?: number
  /** Time per unit assumed before any provider has been measured. Default 100 ms. */
  readonly priorMsPerUnit?: number
}

/**
 * A requester's measured time per unit of each provider: an exponentially weighted moving average,
 * fed with each finished job's time from assignment to delivery.
 */
export class LatencyEstimator {
  readonly alpha: number
  readonly priorMsPerUnit: number
  readonly #estimates = new Map<string, number>()
  #sum = 0

  constructor(options: LatencyOptions = {}) {
    this.alpha = options.alpha ?? 0.3
    this.priorMsPerUnit = options.priorMsPerUnit ?? 100
    if (!(this.alpha > 0 && this.alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${this.alpha}`)
    if (!(this.priorMsPerUnit > 0 && Number.isFinite(this.priorMsPerUnit))) throw new RangeError(`priorMsPerUnit must be a finite number > 0, got ${this.priorMsPerUnit}`)
  }

  /**
   * One finished job of `units` at `peer` that took `ms`, given when the provider advertised
   * `load` = queue / capacity (the slowdown the score assumed; 0 when unknown).
   */
  observe(peer: string, ms: number, units: number, load = 0): void {
    if (!(ms >= 0 && Number.isFinite(ms) && units > 0 && load >= 0 && Number.isFinite(load))) return // nothing to learn from nonsense
    const sample = ms / (units * (1 + load))
    const old = this.#estimates.get(peer)
    const next = old === undefined ? sample : old + this.alpha * (sample - old)
    this.#sum += next - (old ?? 0)
    this.#estimates.set(peer, next)
  }

  /** The estimate of `peer`'s unloaded time per unit: its EWMA, else the mean of those measured, else the prior. */
  msPerUnit(peer: string): number {
    const own = this.#estimates.get(peer)
    if (own !== undefined) return own
    return this.#estimates.size > 0 ? Math.max(this.#sum / this.#estimates.size, Number.MIN_VALUE) : this.priorMsPerUnit
  }

  /** Whether `peer` has been measured. */
  known(peer: string): boolean {
    return this.#estimates.has(peer)
  }
}

/** Why `candidate` may not take the job (undefined: it may). */
export function ineligibility(candidate: Candidate, request: RoutingRequest): Ineligibility | undefined {
  if (request.exclude?.has(candidate.peer) === true) return "excluded"
  if (candidate.record.pricePerUnit > request.maxPricePerUnit) return "over-price"
  if (candidate.record.queue >= candidate.record.capacity) return "full"
  return undefined
}

/** The expected time from assignment to delivery of `units` at `candidate`. */
export function expectedCompletionMs(candidate: Candidate, units: number, latency: LatencyEstimator): number {
  const { queue, capacity } = candidate.record
  return units * latency.msPerUnit(candidate.peer) * (1 + queue / capacity)
}

/** The price as a fraction of the cap, in [0, 1] for an eligible candidate (to 1e-9). */
const priceShare = (price: bigint, cap: bigint): number => (cap === 0n ? 0 : Number((price * 1_000_000_000n) / cap) / 1e9)

/** The score of an eligible candidate: lower is better (see the module doc). */
export function score(candidate: Candidate, request: RoutingRequest, latency: LatencyEstimator, options: RoutingOptions = {}): number {
  const weight = options.priceWeight ?? 1
  return expectedCompletionMs(candidate, request.units, latency) * (1 + weight * priceShare(candidate.record.pricePerUnit, request.maxPricePerUnit))
}

const byPeer = (a: Candidate, b: Candidate) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0)

/** The candidates that may take the job, ordered by peer id. */
export function eligibleProviders(candidates: readonly Candidate[], request: RoutingRequest): Candidate[] {
  return candidates.filter((c) => ineligibility(c, request) === undefined).sort(byPeer)
}

/** The best of `choices` (default two) eligible providers drawn from `random` (power of d choices); a reason when none is eligible. */
export function chooseProvider(candidates: readonly Candidate[], request: RoutingRequest, latency: LatencyEstimator, random: RandomSource, options: RoutingOptions = {}): Choice {
  if (!(Number.isFinite(request.units) && request.units > 0)) return { ok: false, reason: `a job needs units > 0, got ${request.units}` }
  if (request.maxPricePerUnit < 0n) return { ok: false, reason: `maxPricePerUnit must be >= 0, got ${request.maxPricePerUnit}` }
  const eligible = eligibleProviders(candidates, request)
  const pick = (c: Candidate): Choice => ({ ok: true, provider: c, expectedMs: expectedCompletionMs(c, request.units, latency), score: score(c, request, latency, options) })
  if (eligible.length === 1) return pick(eligible[0]!)
  if (eligible.length === 0) {
    const counts: Record<Ineligibility, number> = { "over-price": 0, full: 0, excluded: 0 }
    for (const c of candidates) counts[ineligibility(c, request)!]++
    return {
      ok: false,
      reason: candidates.length === 0
        ? "no provider found for this job kind"
        : `none of ${candidates.length} providers can take the job: ${counts["over-price"]} over the price cap of ${request.maxPricePerUnit} per unit, ${counts.full} full, ${counts.excluded} excluded (failed this job); retry later or raise the cap`,
    }
  }
  const d = Math.max(2, Math.min(Math.floor(options.choices ?? 2), eligible.length))
  // d distinct draws (a partial Fisher–Yates shuffle of the indexes).
  const order = eligible.map((_, k) => k)
  let best: { readonly index: number; readonly score: number } | undefined
  for (let k = 0; k < d; k++) {
    const r = k + random.int(order.length - k)
    ;[order[k], order[r]] = [order[r]!, order[k]!]
    const index = order[k]!
    const s = score(eligible[index]!, request, latency, options)
    // A tie goes to the lower peer id, so the choice does not depend on the order of the draws.
    if (best === undefined || s < best.score || (s === best.score && index < best.index)) best = { index, score: s }
  }
  return pick(eligible[best!.index]!)
}
