/**
 * Contribution scores: how much each trainer's update helped, as an integer 0..1_000_000 (the unit
 * of the `score-reveal` transaction).
 *
 *   robustContributionScores(updates, options?) → Map<id, score>      (recommended)
 *   contributionScores(updates, reference, options?) → Map<id, score>
 *     score = 1e6 · clamp(cos(delta, reference), 0, 1) · normAgreement(delta)
 *     reference: a robust aggregate a minority of byzantine updates cannot move far — the robust
 *       variant uses the coordinate-wise median of the other updates (leave-one-out), the plain
 *       one takes any reference (e.g. the median of all, or a trusted validation-gradient);
 *     normAgreement = min(r, 1/r) with r = ‖delta‖ / median of the updates' norms: an update far
 *       smaller (a free rider's zero or token update) or far larger (a boosted poison) than the
 *       typical one scores low even when it points the right way;
 *     options.previous: last round's aggregate — an update that merely replays it (cosine above
 *       options.staleCosine, default 0.99) is a stale free rider and scores 0.
 *   cohortScore(lossBefore, lossAfter) → one score for a whole cohort
 *
 * So: a zero or stale update scores 0, a sign-flipped one 0 (negative cosine), random noise about 0
 * (nearly orthogonal to the reference in high dimension), honest updates well above 0.
 *
 * Trade-off under secure aggregation: the aggregator learns only the SUM of the cohort's updates —
 * that is the whole point of the protocol — so it cannot compare one trainer's update with the
 * reference, and per-update scores are impossible by design. What remains is a cohort-level score:
 * judge the aggregate by the validation improvement it brings (cohortScore) and give every member
 * of the cohort the same score. A free rider or a poisoner then hides in its cohort and dilutes
 * everyone's score; robust aggregation is likewise unavailable (only the sum exists). Rounds choose:
 * privacy of individual updates (secure aggregation) or per-trainer accountability (plain updates).
 */
import { l2Norm } from "./dp.ts"
import type { ClientUpdate } from "./types.ts"

/** The top of the score scale (a perfect contribution). */
export const SCORE_MAX = 1_000_000

export interface ScoreOptions {
  /** Last round's aggregate: updates replaying it score 0. */
  readonly previous?: Float32Array
  /** Cosine with `previous` above which an update counts as stale (default 0.99). */
  readonly staleCosine?: number
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/** Cosine similarity; 0 when either vector is zero. */
export const cosine = (a: Float32Array, b: Float32Array): number => {
  const na = l2Norm(a)
  const nb = l2Norm(b)
  return na === 0 || nb === 0 ? 0 : dot(a, b) / (na * nb)
}

const medianOf = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const toScore = (x: number): number => Math.round(SCORE_MAX * Math.min(1, Math.max(0, x)))

/** A score per update against a given reference, integers in 0..1_000_000 (see the file header). */
export const contributionScores = (updates: readonly ClientUpdate[], reference: Float32Array, options: ScoreOptions = {}): Map<string, number> => {
  for (const u of updates) {
    if (u.delta.length !== reference.length) {
      throw new RangeError(`scores: update "${u.id}" has ${u.delta.length} parameters, the reference ${reference.length}`)
    }
  }
  return scoresFromCosines(updates, updates.map((u) => cosine(u.delta, reference)), options)
}

/**
 * A score per update against the coordinate-wise median of the OTHER updates (leave-one-out), so
 * that no update is compared with a reference it helped make: with a shared median, a pure-noise
 * update correlates with the median through its own contribution (about 0.1 in a cohort of 12).
 * Same cost as one median (one sort per coordinate). Needs at least 2 updates.
 */
export const robustContributionScores = (updates: readonly ClientUpdate[], options: ScoreOptions = {}): Map<string, number> => {
  const n = updates.length
  if (n < 2) throw new RangeError(`scores: a leave-one-out reference needs at least 2 updates, got ${n}`)
  const d = updates[0]!.delta.length
  for (const u of updates) if (u.delta.length !== d) throw new RangeError(`scores: update "${u.id}" has ${u.delta.length} parameters, expected ${d}`)
  const dots = new Float64Array(n)
  const refSquares = new Float64Array(n)
  const column = new Float64Array(n)
  const m = n - 1 // values left after removing one
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) column[i] = updates[i]!.delta[j]!
    column.sort()
    for (let i = 0; i < n; i++) {
      const v = updates[i]!.delta[j]!
      const r = lowerBound(column, v)
      // The k-th smallest of the column without (one copy of) v.
      const at = (k: number) => (k < r ? column[k]! : column[k + 1]!)
      const loo = m % 2 === 1 ? at((m - 1) / 2) : (at(m / 2 - 1) + at(m / 2)) / 2
      dots[i]! += v * loo
      refSquares[i]! += loo * loo
    }
  }
  const cosines = updates.map((u, i) => {
    const na = l2Norm(u.delta)
    return na === 0 || refSquares[i] === 0 ? 0 : dots[i]! / (na * Math.sqrt(refSquares[i]!))
  })
  return scoresFromCosines(updates, cosines, options)
}

/** First index of a sorted array whose value is ≥ v. */
const lowerBound = (sorted: Float64Array, v: number): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]! < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Cosines → scores: norm agreement with the typical update, stale replays zeroed, scaled to integers. */
const scoresFromCosines = (updates: readonly ClientUpdate[], cosines: readonly number[], options: ScoreOptions): Map<string, number> => {
  const staleCosine = options.staleCosine ?? 0.99
  if (!(staleCosine > 0 && staleCosine <= 1)) throw new RangeError(`scores: staleCosine must be in (0, 1], got ${staleCosine}`)
  const previous = options.previous
  if (previous && updates.some((u) => u.delta.length !== previous.length)) {
    throw new RangeError(`scores: the previous aggregate has ${previous.length} parameters, the updates ${updates[0]!.delta.length}`)
  }
  const norms = updates.map((u) => l2Norm(u.delta))
  // The typical norm among updates that did something (zero updates would drag it down).
  const nonzero = norms.filter((x) => x > 0)
  const typical = nonzero.length > 0 ? medianOf(nonzero) : 0
  const scores = new Map<string, number>()
  updates.forEach((u, i) => {
    const norm = norms[i]!
    if (norm === 0 || typical === 0 || !Number.isFinite(norm)) return void scores.set(u.id, 0)
    if (previous && cosine(u.delta, previous) > staleCosine) return void scores.set(u.id, 0)
    const r = norm / typical
    scores.set(u.id, toScore(cosines[i]! * Math.min(r, 1 / r)))
  })
  return scores
}

/**
 * One score for a cohort whose members are known only through their sum (secure aggregation):
 * the relative improvement of the validation loss the aggregate brought, (before − after) / before,
 * clamped to [0, 1] and scaled to 0..1_000_000. Every member gets this score.
 */
export const cohortScore = (lossBefore: number, lossAfter: number): number => {
  if (!(Number.isFinite(lossBefore) && lossBefore > 0)) throw new RangeError(`scores: lossBefore must be positive and finite, got ${lossBefore}`)
  if (!Number.isFinite(lossAfter)) throw new RangeError(`scores: lossAfter must be finite, got ${lossAfter}`)
  return toScore((lossBefore - lossAfter) / lossBefore)
}

/** The cohort score for every member (secure aggregation: all members are indistinguishable). */
export const cohortScores = (members: readonly string[], lossBefore: number, lossAfter: number): Map<string, number> => {
  const s = cohortScore(lossBefore, lossAfter)
  return new Map(members.map((id) => [id, s]))
}
