/**
 * The insurance pool.
 *
 * Policy (the contract will implement the same):
 * - Every slash pays `staking.insuranceFraction` of the slashed total (bonded + unbonding) into the
 *   pool; the rest is burnt. The deposit happens before the payout below, so a slash's own
 *   contribution can already cover its delegators.
 * - When a *validator* pool loses bonded tokens to a slash, the delegators (positions whose owner is
 *   not the operator) are compensated:
 *     delegatorLoss = bondedSlashed × delegatorShares / shares            (rounded down)
 *     payout        = min(available, mulWad(delegatorLoss, insuranceCoverage))
 *   credited pro rata by shares to the non-operator positions through the pool's insurance
 *   accumulator (O(1), no loop over delegators), and claimable with `claimRewards`.
 * - Not covered: the operator's own positions, any unbonding entry (of anyone), and contributor
 *   pools (their only owner is their operator).
 * - Rounding: the accumulator step is floored, the amount it cannot represent stays `available`;
 *   each position's claim is floored again, so < 1 wei per position and payout stays in `credited`
 *   as dust (still counted in the insurance pool, never lost, never paid twice).
 */
import { mulWad } from "../units.ts"
import { ceilDiv, minBig, owedOf, PRECISION, type EconState, type Pool, type Position } from "./state.ts"

/** Pay `amount` of a slash into the insurance pool. */
export const depositInsurance = (s: EconState, amount: bigint): void => {
  s.insurance.available += amount
  s.insurance.paidIn += amount
}

export interface InsurancePayout {
  /** Delegators' share of the bonded loss. */
  readonly delegatorLoss: bigint
  /** What the policy would pay with unlimited funds. */
  readonly covered: bigint
  /** What was credited to the delegators (≤ covered, ≤ available). */
  readonly paid: bigint
}

/** Compensate the delegators of `pool` for a bonded loss of `bondedSlashed` (see the policy above). */
export const compensateDelegators = (s: EconState, pool: Pool, bondedSlashed: bigint, coverage: bigint): InsurancePayout => {
  if (pool.kind !== "validator" || pool.delegatorShares === 0n || pool.shares === 0n || bondedSlashed === 0n) {
    return { delegatorLoss: 0n, covered: 0n, paid: 0n }
  }
  const delegatorLoss = (bondedSlashed * pool.delegatorShares) / pool.shares
  const covered = mulWad(delegatorLoss, coverage)
  const want = minBig(covered, s.insurance.available)
  const delta = (want * PRECISION) / pool.delegatorShares
  const paid = ceilDiv(delta * pool.delegatorShares, PRECISION) // ≤ want, since delta·shares ≤ want·PRECISION
  pool.insuranceAcc += delta
  s.insurance.available -= paid
  s.insurance.credited += paid
  s.insurance.paidOut += paid
  return { delegatorLoss, covered, paid }
}

/** Insurance a position has accrued since its last settlement (0 for the operator's own positions). */
export const positionInsurancePending = (pool: Pool, pos: Position): bigint =>
  pos.owner === pool.operator ? 0n : (pos.shares * (pool.insuranceAcc - pos.insuranceSnapshot)) / PRECISION

/** Move a position's accrued insurance into its owner's owed payouts. */
export const settlePositionInsurance = (s: EconState, pool: Pool, pos: Position): bigint => {
  const due = positionInsurancePending(pool, pos)
  pos.insuranceSnapshot = pool.insuranceAcc
  if (due > 0n) owedOf(s, pos.owner).insurance += due
  return due
}

/** Pay out claimed insurance (already settled into `owed`). */
export const releaseInsurance = (s: EconState, amount: bigint): void => {
  s.insurance.credited -= amount
  s.insurance.claimed += amount
}
