/**
 * Voting power from bonded stake, lock-up multiplier and measured contribution.
 *
 *   e_i   = stake_i × multiplier_i                      effective stake (base units)
 *   S     = Σ e_i                                       over candidates with e_i > 0
 *   c_i   = score_i / Σ score                           contribution share (all 0 when no scores)
 *   raw_i = (1 − w) · e_i + w · S · c_i                 w = consensus.contributionWeight
 *
 * then: keep the `maxValidators` largest raw_i (ties: lower address); cap every share at
 * m = consensus.maxPowerShare by water-filling (the excess of a capped validator goes to the
 * uncapped ones in proportion to their raw power, repeated until nobody is over the cap); and
 * quantise to whole power units (default: one token of effective stake), dropping zeros.
 *
 * Σ raw_i = S, so contribution redistributes power without inflating it: a validator with twice
 * another's score gains twice the contribution bonus, and with w = 0 (or no scores at all) power
 * is exactly effective stake. A candidate with no effective stake gets no power whatever its score:
 * power must always be backed by something to slash.
 *
 * Every step that decides anything is exact integer arithmetic: fractions are wads (1e18), raw
 * powers are kept as integer numerators over one common denominator, and the final cap is checked
 * on the quantised integers themselves (share_i ≤ m holds exactly, not just before rounding). When
 * the cap cannot be met (fewer than 1/m validators), every validator gets the same power.
 */
import type { Params } from "../params.ts"
import { TOKEN, toWad, WAD } from "../units.ts"
import { compareValidators, type Validator, ValidatorSet } from "./validator-set.ts"
import type { Address } from "./types.ts"

/** A would-be validator as the staking ledger reports it. */
export interface Candidate {
  readonly address: Address
  /** Bonded tokens, in base units. */
  readonly stake: bigint
  /** Lock-up multiplier as a wad (1e18 = 1×). */
  readonly multiplierWad: bigint
  /** Contribution score on any non-negative integer scale (only shares matter). */
  readonly contribution: bigint
}

export interface PowerParams {
  /** consensus.contributionWeight, a fraction in [0, 1]. */
  readonly contributionWeight: number
  /** consensus.maxPowerShare, a fraction in (0, 1]. */
  readonly maxPowerShare: number
  /** consensus.maxValidators. */
  readonly maxValidators: number
  /** Base units of effective stake per unit of power; default one token (1e18). */
  readonly powerUnit?: bigint
}

/** The power parameters out of the parameter registry. */
export const powerParams = (params: Params): PowerParams => ({
  contributionWeight: params["consensus.contributionWeight"],
  maxPowerShare: params["consensus.maxPowerShare"],
  maxValidators: params["consensus.maxValidators"],
})

/** Voting powers of the active validators, in validator-set order. Throws a RangeError on bad input. */
export const votingPowers = (candidates: readonly Candidate[], params: PowerParams): Validator[] => {
  const w = toWad(params.contributionWeight)
  const m = toWad(params.maxPowerShare)
  const unit = params.powerUnit ?? TOKEN
  if (w > WAD) throw new RangeError(`contributionWeight must be at most 1, got ${params.contributionWeight}`)
  if (m === 0n || m > WAD) throw new RangeError(`maxPowerShare must be in (0, 1], got ${params.maxPowerShare}`)
  if (!Number.isSafeInteger(params.maxValidators) || params.maxValidators < 1) throw new RangeError(`bad maxValidators ${params.maxValidators}`)
  if (unit <= 0n) throw new RangeError(`powerUnit must be positive, got ${unit}`)
  checkCandidates(candidates)

  const eligible = candidates
    .map((c) => ({ address: c.address, e: (c.stake * c.multiplierWad) / WAD, score: c.contribution }))
    .filter((c) => c.e > 0n)
  if (eligible.length === 0) return []
  const S = eligible.reduce((s, c) => s + c.e, 0n)
  const C = eligible.reduce((s, c) => s + c.score, 0n)
  // raw_i = N_i / D with one denominator for all: D = WAD·C, or 1 (stake only) without scores.
  const D = C > 0n ? WAD * C : 1n
  const raw = eligible
    .map((c) => ({ address: c.address, power: C > 0n ? (WAD - w) * c.e * C + w * S * c.score : c.e }))
    .filter((v) => v.power > 0n)
    .sort(compareValidators)
    .slice(0, params.maxValidators)
  const powers = waterFill(raw.map((v) => v.power), m).map((x) => x / (D * unit))
  const kept = raw.map((v, i) => ({ address: v.address, power: powers[i]! })).filter((v) => v.power > 0n)
  const capped = enforceCap(kept.map((v) => v.power), m)
  return kept.map((v, i) => ({ address: v.address, power: capped[i]! })).sort(compareValidators)
}

/** The validator set of an epoch starting at `startHeight`, from the candidates' stake and scores. */
export const validatorSetFromCandidates = (candidates: readonly Candidate[], params: PowerParams, startHeight = 1): ValidatorSet =>
  ValidatorSet.from(votingPowers(candidates, params), startHeight)

const checkCandidates = (candidates: readonly Candidate[]): void => {
  const seen = new Set<Address>()
  for (const c of candidates) {
    if (seen.has(c.address)) throw new RangeError(`candidate ${c.address} appears twice`)
    seen.add(c.address)
    if (c.stake < 0n || c.multiplierWad < 0n || c.contribution < 0n) {
      throw new RangeError(`candidate ${c.address}: stake, multiplier and contribution must be non-negative`)
    }
  }
}

/**
 * Water-filling of `values` (descending) under a share cap `m` (wad): the values after capping and
 * redistributing, over the same denominator as the input, rounded down. The total is preserved up
 * to rounding. With at most 1/m values the cap is unattainable and every value becomes the mean.
 */
const waterFill = (values: readonly bigint[], m: bigint): bigint[] => {
  const n = values.length
  const T = values.reduce((s, x) => s + x, 0n)
  if (n === 0 || T === 0n) return values.map(() => 0n)
  if (BigInt(n) * m <= WAD) return values.map(() => T / BigInt(n))
  // The smallest k such that, with the k largest capped at m·T, the largest uncapped one fits:
  // x_k · (1 − k·m) ≤ m · U_k, U_k = Σ_{i ≥ k} x_i. k = n − 1 always qualifies since n·m > 1.
  let U = T
  let k = 0
  while (k < n - 1 && values[k]! * (WAD - BigInt(k) * m) > m * U) {
    U -= values[k]!
    k++
  }
  const cap = (m * T) / WAD
  const rest = WAD - BigInt(k) * m
  return values.map((x, i) => (i < k ? cap : (x * rest * T) / (WAD * U)))
}

/**
 * Make `share_i ≤ m` hold exactly on integers (rounding in the water-fill can leave a capped value
 * a unit over, and flooring the small ones can leave the capped ones many units over): lower the k
 * largest to the largest common value A meeting the cap against the rest, with k the fewest that
 * works. `powers` must be non-increasing (the water-fill's output is).
 *
 * With R_k = Σ_{i ≥ k} p_i, a common value A for the first k meets the cap iff A·(1 − k·m) ≤ m·R_k,
 * so A_k = ⌊m·R_k / (1 − k·m)⌋, and k is the smallest with p_k ≤ A_k (then the rest, at most p_k,
 * fit too). Moving on from k means p_k·(1 − k·m) > m·R_k ≥ m·p_k, so (k + 1)·m < 1: the divisor
 * stays positive, and since n·m > 1 some k ≤ n − 1 qualifies.
 *
 * This is the fixed point of lowering each offender in turn to the largest value that meets the cap
 * against the others (the rule as first written) — that repetition never takes an offender below
 * A_k, and while one of them is above A_k the largest of them is still over — reached in one pass
 * rather than after a number of passes that grows like 1 ÷ (1 − 2m) as m nears ½ (thousands at
 * m = 0.49998, out of gas on chain). Exported for power.test.ts, which checks the two agree.
 */
export const enforceCap = (powers: readonly bigint[], m: bigint): bigint[] => {
  const p = [...powers]
  const n = p.length
  if (n === 0) return p
  let rest = p.reduce((s, x) => s + x, 0n)
  if (BigInt(n) * m <= WAD) {
    // Unattainable (or exactly tight): equal power is the closest to the cap there is.
    const mean = rest / BigInt(n)
    return p.map(() => (mean > 0n ? mean : 1n))
  }
  for (let k = 0; ; k++) {
    const A = (m * rest) / (WAD - BigInt(k) * m)
    if (p[k]! <= A) return p.map((x, i) => (i < k ? A : x))
    rest -= p[k]!
  }
}
