/**
 * The committee side of the ledger (what contracts/Committee.sol does on chain): snapshots of the
 * validator set, fee deposits, and epoch reports verified against a snapshot and settled.
 *
 * Custody, as accounts of the economy so that minted = balances + bonded + unbonding + reward pool
 * + insurance pool + burnt keeps holding to the wei: the reward reserve is the balance of
 * `RESERVE_ACCOUNT` ("reserve", the genesis reserve); fee deposits sit in the balance of
 * `FEE_ESCROW_ACCOUNT`, with each depositor's share recorded here. (On chain both are the
 * Committee contract's token balance.)
 *
 * Every operation validates everything before its first mutation: a refusal changes nothing.
 */
import { Result } from "effect"
import { votingPowers, powerParams } from "../consensus/power.ts"
import type { Params } from "../params.ts"
import { WAD } from "../units.ts"
import { accountWord, conflictEvidenceId, reportDigest, ZERO_ADDRESS } from "../committee/digest.ts"
import {
  CommitteeBadReport, CommitteeEpochReported, CommitteeInsufficientDeposit, CommitteeNoWithdrawal, CommitteeNotConflicting, CommitteeStaleEpoch,
  CommitteeStaleSnapshot, CommitteeUnknownSnapshot, CommitteeWithdrawalNotReady, type CommitteeError,
} from "../committee/errors.ts"
import { settlement, type Settlement } from "../committee/settle.ts"
import type { EpochReport, ReportSignature, Snapshot, SnapshotTrainer, SnapshotValidator } from "../committee/types.ts"
import { checkReport, quorumOf, validSigners, verifyReport, type ReportVerifier } from "../committee/verify.ts"
import { toHex } from "../crypto.ts"
import type { EconError } from "./errors.ts"
import { distributeToStakers, isActive } from "./rewards.ts"
import { slash, type SlashReceipt } from "./slashing.ts"
import type { AcceptedReport, Address, EconState } from "./state.ts"
import { balanceOf, checkAddress, checkAmount, checkBalance, credit, debit } from "./token.ts"

/** The account whose balance is the reward reserve the committee releases emission from. */
export const RESERVE_ACCOUNT = "reserve"
/** The account whose balance holds every fee deposit. */
export const FEE_ESCROW_ACCOUNT = "committee:fees"

/** What the ledger needs to check a report's signatures: the consensus chain id and the signature scheme. */
export interface ReportContext {
  readonly chainId: bigint | number
  readonly verify: ReportVerifier
  /** The ledger's address in the digest (the Committee contract; the zero address in the simulator). */
  readonly ledger?: string
}

// ---------------------------------------------------------------- snapshots

/** The committee now: active validator pools with their voting power, active contributor pools, the params. */
export const buildSnapshot = (s: EconState, params: Params, id: number, now: number): Snapshot => {
  const validators = [...s.pools.values()].filter((p) => p.kind === "validator" && isActive(p) && p.tokens > 0n && p.shares > 0n)
  const candidates = validators.map((p) => ({
    address: p.operator, stake: p.tokens, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: s.committee.contribution.get(p.operator) ?? 0n,
  }))
  const byOperator = new Map(candidates.map((c) => [c.address, c]))
  const powered: SnapshotValidator[] = votingPowers(candidates, powerParams(params)).map((v) => {
    const c = byOperator.get(v.address)!
    return Object.freeze({
      operator: c.address, signingKey: s.signingKeys.get(c.address) ?? accountWord(c.address), stake: c.stake,
      multiplierWad: c.multiplierWad, contribution: c.contribution, power: v.power,
    })
  })
  const trainers: SnapshotTrainer[] = [...s.pools.values()]
    .filter((p) => p.kind === "contributor" && isActive(p) && p.tokens > 0n)
    .map((p) => Object.freeze({ owner: p.operator, stake: p.tokens }))
  const totalPower = powered.reduce((t, v) => t + v.power, 0n)
  return Object.freeze({
    id, time: now, validators: Object.freeze(powered), trainers: Object.freeze(trainers), params, totalPower, quorum: quorumOf(totalPower),
  })
}

/** Record a new snapshot (anyone may call; `caller` only names who did). */
export const takeSnapshot = (s: EconState, params: Params, caller: Address, now: number): Result.Result<Snapshot, EconError> => {
  const bad = checkAddress("snapshot caller", caller)
  if (bad !== undefined) return Result.fail(bad)
  const snap = buildSnapshot(s, params, s.committee.snapshots.length + 1, now)
  s.committee.snapshots.push(snap)
  return Result.succeed(snap)
}

// ---------------------------------------------------------------- fee deposits

export interface FeeDepositReceipt {
  readonly type: "depositFees"
  readonly account: Address
  readonly amount: bigint
  /** The account's deposit after this one. */
  readonly deposit: bigint
}

/** Move `amount` of `account`'s balance into its fee deposit (what the fees the committee orders are paid from). */
export const depositFees = (s: EconState, account: Address, amount: bigint): Result.Result<FeeDepositReceipt, EconError> => {
  const bad = checkAddress("depositor", account) ?? checkAmount("depositFees", amount) ?? checkBalance(s, account, amount)
  if (bad !== undefined) return Result.fail(bad)
  debit(s, account, amount)
  credit(s, FEE_ESCROW_ACCOUNT, amount)
  const deposit = (s.committee.feeDeposits.get(account) ?? 0n) + amount
  s.committee.feeDeposits.set(account, deposit)
  s.committee.feeDepositTotal += amount
  return Result.succeed({ type: "depositFees", account, amount, deposit })
}

/** How long after asking a fee deposit can be withdrawn (Committee.sol's FEE_WITHDRAWAL_DELAY, 1 day). */
export const FEE_WITHDRAWAL_DELAY_MS = 86_400_000

export interface FeeWithdrawalRequestReceipt {
  readonly type: "requestFeeWithdrawal"
  readonly account: Address
  readonly amount: bigint
  readonly readyAt: number
}

/** Ask to withdraw `amount` of `account`'s fee deposit a day from now (replaces an earlier ask). */
export const requestFeeWithdrawal = (s: EconState, account: Address, amount: bigint, now: number): Result.Result<FeeWithdrawalRequestReceipt, EconError | CommitteeError> => {
  const bad = checkAddress("depositor", account) ?? checkAmount("requestFeeWithdrawal", amount)
  if (bad !== undefined) return Result.fail(bad)
  const deposit = s.committee.feeDeposits.get(account) ?? 0n
  if (amount > deposit) return Result.fail(new CommitteeInsufficientDeposit({ account, deposit, needed: amount }))
  const readyAt = now + FEE_WITHDRAWAL_DELAY_MS
  s.committee.feeWithdrawals.set(account, { amount, readyAt })
  return Result.succeed({ type: "requestFeeWithdrawal", account, amount, readyAt })
}

export interface FeeWithdrawalReceipt {
  readonly type: "withdrawFees"
  readonly account: Address
  /** What was withdrawn: the asked amount, or what fees have left of it. */
  readonly amount: bigint
  readonly deposit: bigint
}

/** Withdraw the asked amount (or what fees left of it) once its day is over. */
export const withdrawFees = (s: EconState, account: Address, now: number): Result.Result<FeeWithdrawalReceipt, EconError | CommitteeError> => {
  const bad = checkAddress("depositor", account)
  if (bad !== undefined) return Result.fail(bad)
  const w = s.committee.feeWithdrawals.get(account)
  if (w === undefined) return Result.fail(new CommitteeNoWithdrawal({ account }))
  if (now < w.readyAt) return Result.fail(new CommitteeWithdrawalNotReady({ account, readyAt: w.readyAt, now }))
  s.committee.feeWithdrawals.delete(account)
  const deposit = s.committee.feeDeposits.get(account) ?? 0n
  const amount = w.amount < deposit ? w.amount : deposit
  const left = deposit - amount
  if (left === 0n) s.committee.feeDeposits.delete(account)
  else s.committee.feeDeposits.set(account, left)
  s.committee.feeDepositTotal -= amount
  debit(s, FEE_ESCROW_ACCOUNT, amount)
  credit(s, account, amount)
  return Result.succeed({ type: "withdrawFees", account, amount, deposit: left })
}

// ---------------------------------------------------------------- epoch reports

export interface EpochSettlementReceipt {
  readonly type: "epochReport"
  readonly epoch: number
  readonly snapshotId: number
  readonly digest: string
  readonly signers: readonly Address[]
  readonly power: bigint
  readonly quorum: bigint
  readonly totalPower: bigint
  /** The rule's result (settle.ts): what was due and where it went. */
  readonly settlement: Settlement
  /** The downtime slashes applied. */
  readonly slashes: readonly SlashReceipt[]
  /** Downtime operators not slashed, and why (already jailed, tombstoned). */
  readonly skipped: ReadonlyArray<{ readonly operator: Address; readonly reason: string }>
}

const snapshotOf = (s: EconState, id: number): Snapshot | undefined => s.committee.snapshots[id - 1]

/** Refuse, verify and settle one epoch report; on any refusal nothing changed. */
export const submitEpochReport = (
  s: EconState, params: Params, report: EpochReport, signatures: readonly ReportSignature[], submitter: Address, ctx: ReportContext, now: number,
): Result.Result<EpochSettlementReceipt, EconError | CommitteeError> => {
  const c = s.committee
  const badSubmitter = checkAddress("report submitter", submitter)
  if (badSubmitter !== undefined) return Result.fail(badSubmitter)
  const malformed = checkReport(report, undefined, now)
  if (malformed !== undefined) return Result.fail(malformed)
  const snapshot = snapshotOf(s, report.snapshotId)
  if (snapshot === undefined) return Result.fail(new CommitteeUnknownSnapshot({ snapshotId: report.snapshotId, latest: c.snapshots.length }))
  const stranger = checkReport(report, snapshot, now)
  if (stranger !== undefined) return Result.fail(stranger)
  const digest = reportDigest(ctx.chainId, ctx.ledger ?? ZERO_ADDRESS, report)
  const digestHex = toHex(digest)
  const prior = c.reports.get(report.epoch)
  if (prior !== undefined) return Result.fail(new CommitteeEpochReported({ epoch: report.epoch, same: prior.digest === digestHex }))
  if (report.epoch < c.lastEpoch) return Result.fail(new CommitteeStaleEpoch({ epoch: report.epoch, latest: c.lastEpoch }))
  if (report.snapshotId < c.lastSnapshotId) return Result.fail(new CommitteeStaleSnapshot({ snapshotId: report.snapshotId, latest: c.lastSnapshotId }))
  const verified = verifyReport(snapshot, digest, signatures, ctx.verify)
  if (Result.isFailure(verified)) return Result.fail(verified.failure)

  // Accepted: from here on nothing refuses.
  const plan = settlement({
    snapshot, report, params, reserve: balanceOf(s, RESERVE_ACCOUNT), emittedUntil: c.emittedUntil,
    deposit: (a) => c.feeDeposits.get(a) ?? 0n,
  })
  const slashes: SlashReceipt[] = []
  const skipped: Array<{ operator: Address; reason: string }> = []
  for (const d of plan.downtime) {
    const r = slash(s, params, d.operator, "downtime", d.infractionTime, d.evidenceId, now)
    if (Result.isSuccess(r)) slashes.push(r.success)
    else skipped.push({ operator: d.operator, reason: r.failure._tag })
  }
  const e = plan.emission
  if (e.released > 0n) {
    debit(s, RESERVE_ACCOUNT, e.released)
    for (const p of e.payouts) credit(s, p.account, p.amount)
    if (e.toStakers > 0n) distributeToStakers(s, e.toStakers)
  }
  const f = plan.fees
  if (f.paid > 0n) {
    for (const p of f.payments) {
      if (p.paid === 0n) continue
      const left = (c.feeDeposits.get(p.payer) ?? 0n) - p.paid
      if (left === 0n) c.feeDeposits.delete(p.payer)
      else c.feeDeposits.set(p.payer, left)
    }
    c.feeDepositTotal -= f.paid
    debit(s, FEE_ESCROW_ACCOUNT, f.paid)
    s.burnt += f.burnt
    if (f.toStakers > 0n) distributeToStakers(s, f.toStakers)
  }
  c.emittedUntil = plan.emittedUntil
  c.contribution = new Map(report.scored.map((a, i) => [a, report.scores[i]!]))
  c.lastEpoch = report.epoch
  c.lastSnapshotId = report.snapshotId
  const receipt: EpochSettlementReceipt = {
    type: "epochReport", epoch: report.epoch, snapshotId: report.snapshotId, digest: digestHex, signers: verified.success.signers,
    power: verified.success.power, quorum: snapshot.quorum, totalPower: snapshot.totalPower, settlement: plan, slashes, skipped,
  }
  const accepted: AcceptedReport = Object.freeze({
    report: freezeReport(report), digest: digestHex, signers: verified.success.signers, signingKeys: verified.success.signingKeys,
    power: verified.success.power, submitter, acceptedAt: now,
  })
  c.reports.set(report.epoch, accepted)
  return Result.succeed(receipt)
}

const freezeReport = (r: EpochReport): EpochReport => Object.freeze({
  epoch: r.epoch, snapshotId: r.snapshotId, fromTime: r.fromTime, toTime: r.toTime, downtime: Object.freeze([...r.downtime]),
  scored: Object.freeze([...r.scored]), scores: Object.freeze([...r.scores]), feePayers: Object.freeze([...r.feePayers]), fees: Object.freeze([...r.fees]),
})

// ---------------------------------------------------------------- conflicting reports

export interface ConflictReceipt {
  readonly type: "reportConflict"
  readonly epoch: number
  /** Digest of the conflicting report (the accepted one's is in `epochReport(epoch)`). */
  readonly digest: string
  /** Operators that signed both reports and were slashed as double signers. */
  readonly slashes: readonly SlashReceipt[]
  /** Double signers not slashed (already tombstoned), and why. */
  readonly skipped: ReadonlyArray<{ readonly operator: Address; readonly reason: string }>
}

/** Why a conflicting report cannot even be hashed as the contract would, if so. */
const unencodable = (report: EpochReport): CommitteeBadReport | undefined => {
  if (typeof report !== "object" || report === null) return new CommitteeBadReport({ epoch: undefined, reason: "it is not a report object" })
  const r = report as Partial<Record<keyof EpochReport, unknown>>
  const u64 = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0
  const accounts = (x: unknown) => Array.isArray(x) && x.every((a) => typeof a === "string" && a.length > 0)
  const amounts = (x: unknown) => Array.isArray(x) && x.every((a) => typeof a === "bigint" && a >= 0n && a < 1n << 256n)
  return u64(r.epoch) && u64(r.snapshotId) && u64(r.fromTime) && u64(r.toTime) && accounts(r.downtime) && accounts(r.scored) &&
      amounts(r.scores) && accounts(r.feePayers) && amounts(r.fees)
    ? undefined
    : new CommitteeBadReport({ epoch: r.epoch, reason: "a field is not of its type (ids and times whole numbers ≥ 0, lists of account ids and of uint256)" })
}

/**
 * Evidence: `report` differs from the accepted report of its epoch, and `signatures` sign it. Every
 * signer whose key also signed the accepted report (a validator of the accepted report's snapshot)
 * is slashed as a double signer and tombstoned, evidence id `conflictEvidenceId(epoch, operator)`,
 * infraction at that snapshot's time. As Committee.sol does: signatures of anyone who did not sign
 * the accepted report are ignored, a double signer's signature that does not verify or a double
 * signer twice refuses the whole submission, a double signer the staking rules will not slash again
 * (already tombstoned, this evidence already used) is skipped, and when nobody is slashed the
 * submission is refused (`CommitteeNotConflicting`). Needs no quorum: one signature on each side
 * proves the equivocation.
 */
export const reportConflict = (
  s: EconState, params: Params, report: EpochReport, signatures: readonly ReportSignature[], submitter: Address, ctx: ReportContext, now: number,
): Result.Result<ConflictReceipt, EconError | CommitteeError> => {
  const badSubmitter = checkAddress("evidence submitter", submitter)
  if (badSubmitter !== undefined) return Result.fail(badSubmitter)
  const malformed = unencodable(report)
  if (malformed !== undefined) return Result.fail(malformed)
  const accepted = s.committee.reports.get(report.epoch)
  if (accepted === undefined) return Result.fail(new CommitteeNotConflicting({ epoch: report.epoch, reason: "the epoch has no accepted report to conflict with" }))
  const digest = reportDigest(ctx.chainId, ctx.ledger ?? ZERO_ADDRESS, report)
  const digestHex = toHex(digest)
  if (digestHex === accepted.digest) return Result.fail(new CommitteeNotConflicting({ epoch: report.epoch, reason: "it is the accepted report itself" }))
  const committee = snapshotOf(s, accepted.report.snapshotId)!
  const signedAccepted = new Set(accepted.signingKeys)
  const doubles = validSigners(
    { ...committee, validators: committee.validators.filter((v) => signedAccepted.has(v.signingKey.toLowerCase())) },
    digest,
    Array.isArray(signatures) ? signatures.filter((x) => typeof x?.signer === "string" && signedAccepted.has(x.signer.toLowerCase())) : signatures,
    ctx.verify,
  )
  if (Result.isFailure(doubles)) return Result.fail(doubles.failure)
  // A refused slash changes nothing, so applying them in turn and refusing when none was applied leaves the ledger untouched.
  const slashes: SlashReceipt[] = []
  const skipped: Array<{ operator: Address; reason: string }> = []
  for (const v of doubles.success) {
    const r = slash(s, params, v.operator, "doubleSign", committee.time, conflictEvidenceId(report.epoch, v.operator), now)
    if (Result.isSuccess(r)) slashes.push(r.success)
    else skipped.push({ operator: v.operator, reason: r.failure._tag })
  }
  if (slashes.length === 0) {
    return Result.fail(new CommitteeNotConflicting({ epoch: report.epoch, reason: "no unslashed signer of the accepted report signed it" }))
  }
  return Result.succeed({ type: "reportConflict", epoch: report.epoch, digest: digestHex, slashes, skipped })
}
