/**
 * Contribution rewards: an amount (the contributors' share of emission, set aside block by block
 * by the application) is paid out when a training round's scores are revealed, pro rata of score.
 *
 * Solidity-style integer rounding: account i gets floor(amount × score_i / Σ score), computed as
 * one `mulDiv` per account, so the payouts never exceed `amount`; what the floors leave (< one
 * base unit per account) is not paid and stays with the funder for a later round. The paid total
 * leaves the funder's balance and is credited to the accounts' owed rewards (claimable with
 * `claimRewards`) and counted in `rewards.funded`, so the reward pool holds it until claimed and
 * minted = balances + bonded + unbonding + reward pool + insurance pool + burnt still holds exactly.
 */
import { Result } from "effect"
import { mulDiv } from "../units.ts"
import { TokenInvalidAmount, type EconError } from "./errors.ts"
import { owedOf, type Address, type EconState } from "./state.ts"
import { checkAddress, checkBalance, debit } from "./token.ts"

/** One scored account of a round. */
export interface ScoreEntry {
  readonly account: Address
  /** A non-negative safe integer (round scores are 0..1_000_000). */
  readonly score: number
}

export interface ContributorPayoutReceipt {
  readonly type: "payContributors"
  readonly from: Address
  /** What was offered (the contributors' pot). */
  readonly amount: bigint
  /** Σ payouts (≤ amount); 0 when every score is 0. */
  readonly paid: bigint
  /** amount − paid: rounding remainder, or everything when no account scored. */
  readonly unpaid: bigint
  readonly payouts: ReadonlyArray<{ readonly account: Address; readonly score: number; readonly amount: bigint }>
}

/** The payouts of `amount` pro rata of `scores` (pure: floor of amount × score / total per account). */
export const proRata = (amount: bigint, scores: readonly ScoreEntry[]): bigint[] => {
  const total = scores.reduce((s, x) => s + BigInt(x.score), 0n)
  return scores.map((x) => (total === 0n ? 0n : mulDiv(amount, BigInt(x.score), total)))
}

/** Why a score list cannot be paid, if it cannot. */
const checkScores = (scores: readonly ScoreEntry[]): EconError | undefined => {
  const seen = new Set<Address>()
  for (const [i, x] of scores.entries()) {
    const bad = checkAddress(`scores[${i}].account`, x.account)
    if (bad !== undefined) return bad
    if (!Number.isSafeInteger(x.score) || x.score < 0) return new TokenInvalidAmount({ op: `payContributors scores[${i}] (${x.account})`, amount: x.score })
    if (seen.has(x.account)) return new TokenInvalidAmount({ op: `payContributors: ${x.account} is scored twice`, amount: x.score })
    seen.add(x.account)
  }
  return undefined
}

/** Pay `amount` of `from`'s balance to the scored accounts' owed rewards, pro rata of score. */
export const payContributors = (
  s: EconState, from: Address, amount: bigint, scores: readonly ScoreEntry[],
): Result.Result<ContributorPayoutReceipt, EconError> => {
  const bad = checkAddress("funder", from) ??
    (typeof amount !== "bigint" || amount < 0n ? new TokenInvalidAmount({ op: "payContributors", amount }) : undefined) ??
    checkScores(scores) ?? checkBalance(s, from, amount)
  if (bad !== undefined) return Result.fail(bad)
  const amounts = proRata(amount, scores)
  const paid = amounts.reduce((t, x) => t + x, 0n)
  if (paid > 0n) {
    debit(s, from, paid)
    s.rewards.funded += paid
    scores.forEach((x, i) => {
      if (amounts[i]! > 0n) owedOf(s, x.account).rewards += amounts[i]!
    })
  }
  return Result.succeed({
    type: "payContributors", from, amount, paid, unpaid: amount - paid,
    payouts: scores.map((x, i) => ({ account: x.account, score: x.score, amount: amounts[i]! })),
  })
}
