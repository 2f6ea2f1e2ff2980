/**
 * The settlement rule of an accepted epoch report: what moves, as a pure function of the report,
 * its snapshot and the ledger's reserve, emission clock and fee deposits. The ledger (the
 * in-memory `Economy`, contracts/Committee.sol on chain) applies the result; computing it apart
 * keeps the rule readable in one place and the same in both.
 *
 * Times are whole seconds, as the contract keeps them (⌊ms/1000⌋), so both round alike.
 *
 * 1. Downtime: every operator of `report.downtime` is slashed for downtime (then jailed), its
 *    infraction at the snapshot's time (the stake that gave it its power in the epoch), evidence id
 *    `downtimeEvidenceId(epoch, operator)`. A slash the staking rules refuse (already jailed,
 *    tombstoned) is skipped, not an error: the report is still true.
 * 2. Emission: the interval not yet paid for, [max(fromTime, emittedUntil), toTime), earns
 *    rewards.annualEmission × seconds / year (rounded down), capped by what is left in the reserve.
 *    rewards.contributorShare of it (mulWad) is the contributors' pot, paid to `scored` pro rata of
 *    `scores` (each ⌊pot × score / Σscores⌋, to the account's balance); the rest goes to the stakers
 *    (the `fundRewards` path). With no score above 0 the pot is not paid, and what the floors leave
 *    is not paid either: both stay in the reserve. `emittedUntil` moves to toTime, so no second of
 *    emission is ever paid twice and the total never exceeds annualEmission × elapsed / year.
 * 3. Fees: each payer pays min(fee, its deposit) from its fee deposit; of the total paid,
 *    mulWad(total, fees.burnFraction) is burnt (one rounding, on the total) and the rest goes to the
 *    stakers.
 *
 * The money parameters are those in force at settlement (the same the slashes use), not the
 * snapshot's: the contract reads the live values.
 */
import { YEAR_MS } from "../duration.ts"
import type { Params } from "../params.ts"
import { mulDiv, mulWad, tokens, toWad } from "../units.ts"
import { downtimeEvidenceId, secondsOf } from "./digest.ts"
import type { Account, EpochReport, Snapshot } from "./types.ts"

/** Seconds in the year of rewards.annualEmission (365 days). */
export const YEAR_SECONDS = BigInt(YEAR_MS / 1000)

export interface SettlementInput {
  readonly snapshot: Snapshot
  readonly report: EpochReport
  /** The parameters in force at settlement. */
  readonly params: Params
  /** Tokens left in the reward reserve. */
  readonly reserve: bigint
  /** Seconds up to which emission has been released. */
  readonly emittedUntil: bigint
  /** The fee deposit of an account. */
  readonly deposit: (account: Account) => bigint
}

export interface DowntimeSlash {
  readonly operator: Account
  readonly evidenceId: string
  /** ms: the snapshot's time. */
  readonly infractionTime: number
}

export interface EmissionSplit {
  /** Seconds paid for: [from, to). */
  readonly from: bigint
  readonly to: bigint
  /** annualEmission × (to − from) / year. */
  readonly due: bigint
  /** min(due, reserve). */
  readonly capped: bigint
  /** mulWad(capped, contributorShare). */
  readonly pot: bigint
  readonly payouts: ReadonlyArray<{ readonly account: Account; readonly score: bigint; readonly amount: bigint }>
  /** Σ payouts (≤ pot; 0 when no score is above 0). */
  readonly toContributors: bigint
  /** capped − pot. */
  readonly toStakers: bigint
  /** What leaves the reserve: toStakers + toContributors. */
  readonly released: bigint
}

export interface FeeSettlement {
  readonly payments: ReadonlyArray<{ readonly payer: Account; readonly ordered: bigint; readonly paid: bigint }>
  /** Σ paid. */
  readonly paid: bigint
  /** Σ (ordered − paid): fees the deposits could not cover. */
  readonly unpaid: bigint
  readonly burnt: bigint
  readonly toStakers: bigint
}

export interface Settlement {
  readonly downtime: readonly DowntimeSlash[]
  readonly emission: EmissionSplit
  readonly fees: FeeSettlement
  /** The emission clock after this report (seconds). */
  readonly emittedUntil: bigint
}

const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b)
const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b)

/** What an accepted report moves (pure; the report is well formed and verified). */
export const settlement = (input: SettlementInput): Settlement => {
  const { snapshot, report, params } = input
  const downtime = report.downtime.map((operator) => ({
    operator, evidenceId: downtimeEvidenceId(report.epoch, operator), infractionTime: snapshot.time,
  }))

  const from = maxBig(secondsOf(report.fromTime), input.emittedUntil)
  const to = secondsOf(report.toTime)
  const due = to > from ? mulDiv(tokens(params["rewards.annualEmission"]), to - from, YEAR_SECONDS) : 0n
  const capped = minBig(due, maxBig(input.reserve, 0n))
  const pot = mulWad(capped, toWad(params["rewards.contributorShare"]))
  const totalScore = report.scores.reduce((t, x) => t + x, 0n)
  const payouts = report.scored.map((account, i) => {
    const score = report.scores[i]!
    return { account, score, amount: totalScore === 0n ? 0n : mulDiv(pot, score, totalScore) }
  })
  const toContributors = payouts.reduce((t, p) => t + p.amount, 0n)
  const toStakers = capped - pot

  const payments = report.feePayers.map((payer, i) => {
    const ordered = report.fees[i]!
    return { payer, ordered, paid: minBig(ordered, maxBig(input.deposit(payer), 0n)) }
  })
  const paid = payments.reduce((t, p) => t + p.paid, 0n)
  const ordered = payments.reduce((t, p) => t + p.ordered, 0n)
  const burnt = mulWad(paid, toWad(params["fees.burnFraction"]))

  return {
    downtime,
    emission: { from, to: maxBig(to, from), due, capped, pot, payouts, toContributors, toStakers, released: toStakers + toContributors },
    fees: { payments, paid, unpaid: ordered - paid, burnt, toStakers: paid - burnt },
    emittedUntil: maxBig(input.emittedUntil, to),
  }
}
