/**
 * The compute market on the one ledger (issue 13 plan, "Rules v1" and "Decisions by H-rules"; what
 * contracts/ComputeMarket.sol does on chain): providers bond tokens and offer a price, requesters
 * escrow a job's budget, deliveries become debit notes paid on confirmation or after the dispute
 * window, the committee's verdict (signed by ≥ 2/3 of a snapshot's power: market/verdict.ts) pays or
 * refutes disputed notes, and a job that fails moves to another
 * provider without being paid twice.
 *
 * Custody, as accounts of the economy so the supply identity keeps holding to the wei: budgets sit
 * in the balance of `MARKET_ESCROW_ACCOUNT`, bonds in `MARKET_BONDS_ACCOUNT`; each job and provider
 * records its share. A payment's fee is burnt in part and paid to the stakers (the `payFee` path);
 * penalties and slashes come out of bonds, never out of a budget.
 *
 * The providers' side (custody constants, bounds, register / update / addBond / retire / withdraw)
 * is market-providers.ts; this file holds the jobs, the dispatch and the views.
 *
 * Every operation validates everything before its first mutation: a refusal changes nothing. The
 * checks run in the order written here, which the contract follows, so both refuse a bad operation
 * with the same error.
 */
import { Result } from "effect"
import {
  MarketBeforeDeadline, MarketDisputeWindowClosed, MarketDisputeWindowOpen, MarketInsufficientBond, MarketInvalidDelivery, MarketInvalidJob,
  MarketJobDisputed, MarketJobFinal, MarketJobNotAssigned, MarketJobNotOpen, MarketKindNotServed, MarketNoShowNotDue, MarketNotDisputed,
  MarketNotesPending, MarketNoteTooLarge, MarketNothingToDispute, MarketNothingToPay, MarketNotProvider, MarketNotReferee, MarketNotRequester, MarketOverDelivery,
  MarketPastDeadline, MarketPriceTooHigh, MarketProviderExcluded, MarketProviderFull, MarketProviderRetired, MarketUnknownJob, type MarketError,
} from "../market/errors.ts"
import { jobBudget, marketConfig, maxNoteAmount, noShowPenalty, noteTooLarge, paymentSplit, wrongResultSlash } from "../market/math.ts"
import type {
  AssignJobReceipt, ConfirmReceipt, DebitNote, DeliverReceipt, DisputeReceipt, Job, JobState, JobView, MarketOp, MarketReceipt, NotePayment,
  NoShowReceipt, PayoutPart, PostJobReceipt, RefundReceipt, ResolveDisputeReceipt, SettleReceipt,
} from "../market/types.ts"
import type { Params } from "../params.ts"
import { LedgerUnknownOperation, type EconError } from "./errors.ts"
import { CommitteeBadSignature, CommitteeStaleSnapshot, CommitteeUnknownSnapshot, type CommitteeError } from "../committee/errors.ts"
import { ZERO_ADDRESS } from "../committee/digest.ts"
import { verifyReport, type VerifiedSigners } from "../committee/verify.ts"
import { frozenNotes, verdictDigest } from "../market/verdict.ts"
import type { ReportContext } from "./committee.ts"
import {
  addBond, isKind, isPositive, isReferee, MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT, MAX_KIND_LENGTH, MAX_PRICE, MAX_UNITS, providerOf,
  registerProvider, retireProvider, updateProvider, withdrawBond, type R,
} from "./market-providers.ts"
import { distributeToStakers } from "./rewards.ts"
import type { Address, EconState } from "./state.ts"
import { checkAddress, checkBalance, credit, debit } from "./token.ts"

export {
  addBond, isReferee, MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT, MAX_CAPACITY, MAX_KIND_LENGTH, MAX_KINDS, MAX_PRICE, MAX_UNITS, providerView,
  registerProvider, retireProvider, updateProvider, withdrawBond,
} from "./market-providers.ts"

const RESULT_HASH = /^0x[0-9a-fA-F]{64}$/

// ---------------------------------------------------------------- checks (no mutation)

/** The job `id`, refused when unknown or already final. */
const liveJob = (s: EconState, id: number): Result.Result<Job, MarketError> => {
  const j = Number.isSafeInteger(id) ? s.market.jobs.get(id) : undefined
  if (j === undefined) return Result.fail(new MarketUnknownJob({ job: id }))
  if (j.state === "settled" || j.state === "expired") return Result.fail(new MarketJobFinal({ job: id, state: j.state }))
  return Result.succeed(j)
}

/** Refuse unless the live job is assigned (a disputed one waits for its verdict). */
const checkAssigned = (j: Job): MarketError | undefined =>
  j.state === "disputed" ? new MarketJobDisputed({ job: j.id }) : j.state !== "assigned" ? new MarketJobNotAssigned({ job: j.id, state: j.state }) : undefined

const checkRequester = (j: Job, caller: Address): MarketNotRequester | undefined =>
  caller === j.requester ? undefined : new MarketNotRequester({ job: j.id, caller: String(caller), requester: j.requester })

const pendingNotes = (j: Job): DebitNote[] => j.notes.filter((n) => n.state === "pending")

// ---------------------------------------------------------------- mutations (callers validated)

/** Pay `notes` of `j` from escrow: the provider's part, the fee burnt in part and the rest to stakers. */
const payNotes = (s: EconState, params: Params, j: Job, notes: readonly DebitNote[]): NotePayment[] =>
  notes.map((n) => {
    const split = paymentSplit(n.amount, params)
    debit(s, MARKET_ESCROW_ACCOUNT, n.amount)
    credit(s, n.provider, split.toProvider)
    s.burnt += split.burnt
    if (split.toStakers > 0n) distributeToStakers(s, split.toStakers)
    n.state = "paid"
    j.escrow -= n.amount
    j.paidUnits += n.units
    j.paid += split.toProvider
    j.feeBurnt += split.burnt
    j.feeToStakers += split.toStakers
    return { note: n.id, provider: n.provider, units: n.units, amount: n.amount, toProvider: split.toProvider, fee: split.fee, burnt: split.burnt, toStakers: split.toStakers }
  })

/** Take the job from its provider (its slot freed); the job keeps its record of who it was only when final. */
const releaseProvider = (s: EconState, j: Job): void => {
  if (j.provider === undefined) return
  const p = s.market.providers.get(j.provider)
  if (p !== undefined && (j.state === "assigned" || j.state === "disputed")) p.openJobs -= 1
}

/** End the job in `state`: what is left of its escrow goes back to the requester, the provider's slot is freed. */
const finish = (s: EconState, j: Job, state: "settled" | "expired"): bigint => {
  const returned = j.escrow
  debit(s, MARKET_ESCROW_ACCOUNT, returned)
  credit(s, j.requester, returned)
  j.escrow = 0n
  j.returned += returned
  releaseProvider(s, j)
  j.state = state
  return returned
}

/** Back to `open` for another provider (failover). */
const reopen = (s: EconState, j: Job): void => {
  releaseProvider(s, j)
  j.state = "open"
  j.provider = undefined
  j.pricePerUnit = 0n
}

/** Pay `notes`, and settle the job at once when that paid its last unit. */
const payout = (s: EconState, params: Params, j: Job, notes: readonly DebitNote[]): PayoutPart => {
  const payments = payNotes(s, params, j, notes)
  const returned = j.paidUnits === j.units ? finish(s, j, "settled") : 0n
  return { job: j.id, payments, returned, state: j.state }
}


/** Post a job: its budget (units × maxPricePerUnit) moves from the requester into escrow. */
export const postJob = (s: EconState, op: Extract<MarketOp, { type: "postJob" }>, now: number): R<PostJobReceipt> => {
  const { requester, kind, units, maxPricePerUnit, deadline } = op
  const bad = checkAddress("requester", requester)
  if (bad !== undefined) return Result.fail(bad)
  if (!isKind(kind)) return Result.fail(new MarketInvalidJob({ reason: `kind ${JSON.stringify(kind)} is not a non-empty string of at most ${MAX_KIND_LENGTH} characters` }))
  if (!isPositive(units) || units > MAX_UNITS) return Result.fail(new MarketInvalidJob({ reason: `units ${String(units)} is not a bigint from 1 to 2^64 − 1` }))
  if (!isPositive(maxPricePerUnit) || maxPricePerUnit > MAX_PRICE) {
    return Result.fail(new MarketInvalidJob({ reason: `max price per unit ${String(maxPricePerUnit)} is not a bigint from 1 to 2^128 − 1 (base units)` }))
  }
  if (typeof deadline !== "number" || !Number.isSafeInteger(deadline) || deadline <= now) {
    return Result.fail(new MarketInvalidJob({ reason: `deadline ${String(deadline)} is not a time (ms) after now (t=${now}ms)` }))
  }
  const budget = jobBudget(units, maxPricePerUnit)
  const short = checkBalance(s, requester, budget)
  if (short !== undefined) return Result.fail(short)
  debit(s, requester, budget)
  credit(s, MARKET_ESCROW_ACCOUNT, budget)
  const id = s.market.nextJobId++
  s.market.jobs.set(id, {
    id, requester, kind, units, maxPricePerUnit, budget, deadline, postedAt: now, state: "open", provider: undefined, pricePerUnit: 0n,
    assignedAt: 0, lastActivity: 0, delivered: 0n, paidUnits: 0n, escrow: budget, paid: 0n, feeBurnt: 0n, feeToStakers: 0n, returned: 0n,
    compensation: 0n, notes: [], excluded: [], disputeSnapshot: 0,
  })
  return Result.succeed({ type: "postJob", job: id, requester, kind, budget, deadline })
}

/** The requester gives its open job to `provider`, whose price is locked for the job. */
export const assignJob = (s: EconState, params: Params, op: Extract<MarketOp, { type: "assignJob" }>, now: number): R<AssignJobReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  const notRequester = checkRequester(j, op.by)
  if (notRequester !== undefined) return Result.fail(notRequester)
  if (j.state !== "open") return Result.fail(new MarketJobNotOpen({ job: j.id, state: j.state }))
  if (now >= j.deadline) return Result.fail(new MarketPastDeadline({ job: j.id, deadline: j.deadline, now }))
  const pf = providerOf(s, op.provider)
  if (Result.isFailure(pf)) return Result.fail(pf.failure)
  const p = pf.success
  if (p.retired) return Result.fail(new MarketProviderRetired({ provider: p.address }))
  if (j.excluded.includes(p.address)) return Result.fail(new MarketProviderExcluded({ job: j.id, provider: p.address }))
  if (!p.kinds.includes(j.kind)) return Result.fail(new MarketKindNotServed({ provider: p.address, kind: j.kind }))
  if (p.pricePerUnit > j.maxPricePerUnit) return Result.fail(new MarketPriceTooHigh({ job: j.id, provider: p.address, price: p.pricePerUnit, maxPrice: j.maxPricePerUnit }))
  const minimum = marketConfig(params).minProviderBond
  if (p.bond < minimum) return Result.fail(new MarketInsufficientBond({ provider: p.address, bond: p.bond, minimum }))
  if (p.openJobs >= p.capacity) return Result.fail(new MarketProviderFull({ provider: p.address, capacity: p.capacity }))
  p.openJobs += 1
  j.state = "assigned"
  j.provider = p.address
  j.pricePerUnit = p.pricePerUnit
  j.assignedAt = now
  j.lastActivity = now
  return Result.succeed({ type: "assignJob", job: j.id, provider: p.address, pricePerUnit: p.pricePerUnit })
}

/**
 * The assigned provider delivers `units` more: a pending debit note of units × the locked price. Its bond
 * must still be ≥ market.minProviderBond (a provider slashed or penalized below it keeps no job going) and
 * must answer for the note (`noteTooLarge`, math.ts: a note worth more would make a made-up result pay).
 */
export const deliver = (s: EconState, params: Params, op: Extract<MarketOp, { type: "deliver" }>, now: number): R<DeliverReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  const notAssigned = checkAssigned(j)
  if (notAssigned !== undefined) return Result.fail(notAssigned)
  if (op.provider !== j.provider) return Result.fail(new MarketNotProvider({ job: j.id, caller: String(op.provider), provider: j.provider }))
  if (!isPositive(op.units)) return Result.fail(new MarketInvalidDelivery({ job: j.id, reason: `units ${String(op.units)} is not a bigint > 0` }))
  if (typeof op.resultHash !== "string" || !RESULT_HASH.test(op.resultHash)) {
    return Result.fail(new MarketInvalidDelivery({ job: j.id, reason: `result hash ${JSON.stringify(op.resultHash)} is not a 32-byte word (0x and 64 hex digits)` }))
  }
  if (now >= j.deadline) return Result.fail(new MarketPastDeadline({ job: j.id, deadline: j.deadline, now }))
  if (j.delivered + op.units > j.units) return Result.fail(new MarketOverDelivery({ job: j.id, units: op.units, delivered: j.delivered, total: j.units }))
  const p = s.market.providers.get(j.provider!)!
  const minimum = marketConfig(params).minProviderBond
  if (p.bond < minimum) return Result.fail(new MarketInsufficientBond({ provider: p.address, bond: p.bond, minimum }))
  const amount = op.units * j.pricePerUnit
  if (noteTooLarge(amount, p.bond, params)) return Result.fail(new MarketNoteTooLarge({ job: j.id, amount, maxAmount: maxNoteAmount(p.bond, params)! }))
  const note: DebitNote = {
    id: j.notes.length + 1, provider: j.provider, units: op.units, pricePerUnit: j.pricePerUnit, amount,
    resultHash: op.resultHash.toLowerCase(), deliveredAt: now, state: "pending",
  }
  j.notes.push(note)
  j.delivered += op.units
  j.lastActivity = now
  return Result.succeed({ type: "deliver", job: j.id, provider: j.provider, note: note.id, units: note.units, amount: note.amount, delivered: j.delivered })
}

/** The requester accepts every pending delivery: each is paid now. */
export const confirm = (s: EconState, params: Params, op: Extract<MarketOp, { type: "confirm" }>): R<ConfirmReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  const bad = checkRequester(j, op.by) ?? checkAssigned(j)
  if (bad !== undefined) return Result.fail(bad)
  const due = pendingNotes(j)
  if (due.length === 0) return Result.fail(new MarketNothingToPay({ job: j.id }))
  return Result.succeed({ type: "confirm", ...payout(s, params, j, due) })
}

/** Anyone pays the job's pending deliveries whose dispute window has closed. */
export const settle = (s: EconState, params: Params, op: Extract<MarketOp, { type: "settle" }>, now: number): R<SettleReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  const notAssigned = checkAssigned(j)
  if (notAssigned !== undefined) return Result.fail(notAssigned)
  const window = marketConfig(params).disputeWindow
  const due = pendingNotes(j).filter((n) => now >= n.deliveredAt + window)
  if (due.length === 0) return Result.fail(new MarketNothingToPay({ job: j.id }))
  return Result.succeed({ type: "settle", ...payout(s, params, j, due) })
}

/** The requester or a referee freezes the job's pending deliveries while the newest is still in its window. */
export const dispute = (s: EconState, params: Params, op: Extract<MarketOp, { type: "dispute" }>, now: number): R<DisputeReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  if (op.by !== j.requester && !isReferee(s, op.by)) return Result.fail(new MarketNotReferee({ job: j.id, caller: String(op.by) }))
  const notAssigned = checkAssigned(j)
  if (notAssigned !== undefined) return Result.fail(notAssigned)
  const pending = pendingNotes(j)
  const newest = pending[pending.length - 1]
  if (newest === undefined) return Result.fail(new MarketNothingToDispute({ job: j.id }))
  const closedAt = newest.deliveredAt + marketConfig(params).disputeWindow
  if (now >= closedAt) return Result.fail(new MarketDisputeWindowClosed({ job: j.id, closedAt, now }))
  let amount = 0n
  for (const n of pending) {
    n.state = "disputed"
    amount += n.amount
  }
  j.state = "disputed"
  // The committee in office now (or a later one) gives the verdict, never one that has since left.
  j.disputeSnapshot = s.committee.snapshots.length
  return Result.succeed({ type: "dispute", job: j.id, by: op.by, notes: pending.map((n) => n.id), amount })
}

/**
 * Check the committee's signatures of a verdict on the disputed job `j` (verdict.ts): snapshot not older
 * than the one of the dispute (`CommitteeStaleSnapshot`), known (`CommitteeUnknownSnapshot`), then
 * `verifyReport`'s refusals (unknown or duplicate signer, bad signature, `CommitteeInsufficientPower`).
 */
const checkVerdict = (
  s: EconState, j: Job, op: Extract<MarketOp, { type: "resolveDispute" }>, ctx: ReportContext | undefined,
): Result.Result<VerifiedSigners, CommitteeError> => {
  const id = op.snapshotId
  if (!Number.isSafeInteger(id) || id < j.disputeSnapshot) return Result.fail(new CommitteeStaleSnapshot({ snapshotId: id, latest: j.disputeSnapshot }))
  const snapshot = id >= 1 ? s.committee.snapshots[id - 1] : undefined
  if (snapshot === undefined) return Result.fail(new CommitteeUnknownSnapshot({ snapshotId: id, latest: s.committee.snapshots.length }))
  if (ctx === undefined) return Result.fail(new CommitteeBadSignature({ signer: "?", reason: "this ledger was given no consensus chain id and verifier, so it cannot check a verdict's signatures" }))
  const digest = verdictDigest(ctx.chainId, ctx.ledger ?? ZERO_ADDRESS, { job: j.id, providerRight: op.providerRight === true, snapshotId: id }, frozenNotes(j))
  return verifyReport(snapshot, digest, op.signatures, ctx.verify)
}

/**
 * The committee's verdict on the frozen deliveries, signed by ≥ 2/3 of a snapshot's power (checkVerdict):
 * paid (provider right), or refuted with the provider slashed and the job reopened. Anyone submits it.
 */
export const resolveDispute = (
  s: EconState, params: Params, op: Extract<MarketOp, { type: "resolveDispute" }>, now: number, ctx: ReportContext | undefined,
): Result.Result<ResolveDisputeReceipt, MarketError | EconError | CommitteeError> => {
  const badSubmitter = checkAddress("verdict submitter", op.by)
  if (badSubmitter !== undefined) return Result.fail(badSubmitter)
  const j = s.market.jobs.get(op.job)
  if (j === undefined || !Number.isSafeInteger(op.job)) return Result.fail(new MarketUnknownJob({ job: op.job }))
  if (j.state !== "disputed") return Result.fail(new MarketNotDisputed({ job: j.id, state: j.state }))
  const verified = checkVerdict(s, j, op, ctx)
  if (Result.isFailure(verified)) return Result.fail(verified.failure)
  const signed = { snapshotId: op.snapshotId, signers: verified.success.signers, power: verified.success.power }
  const provider = j.provider!
  const frozen = frozenNotes(j)
  if (op.providerRight === true) {
    j.state = "assigned"
    j.lastActivity = now
    const part = payout(s, params, j, frozen)
    return Result.succeed({ type: "resolveDispute", providerRight: true, provider, refuted: [], slash: undefined, ...signed, ...part })
  }
  const p = s.market.providers.get(provider)!
  let frozenAmount = 0n
  for (const n of frozen) {
    n.state = "refuted"
    j.delivered -= n.units
    frozenAmount += n.amount
  }
  const cut = wrongResultSlash(p.bond, frozenAmount, params)
  p.bond -= cut.slashed
  p.penalized += cut.slashed
  debit(s, MARKET_BONDS_ACCOUNT, cut.slashed)
  credit(s, j.requester, cut.toRequester)
  s.burnt += cut.burnt
  j.compensation += cut.toRequester
  j.excluded.push(provider)
  reopen(s, j)
  return Result.succeed({
    type: "resolveDispute", providerRight: false, provider, refuted: frozen.map((n) => n.id), slash: { provider, ...cut }, ...signed,
    job: j.id, payments: [], returned: 0n, state: j.state,
  })
}

/** The requester takes the job from a provider that delivered nothing for noShowTimeout: it pays noShowPenalty of its bond, the job reopens. */
export const reclaimNoShow = (s: EconState, params: Params, op: Extract<MarketOp, { type: "reclaimNoShow" }>, now: number): R<NoShowReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  const bad = checkRequester(j, op.by) ?? checkAssigned(j)
  if (bad !== undefined) return Result.fail(bad)
  const pending = pendingNotes(j).length
  if (pending > 0) return Result.fail(new MarketNotesPending({ job: j.id, notes: pending }))
  const dueAt = j.lastActivity + marketConfig(params).noShowTimeout
  if (now < dueAt) return Result.fail(new MarketNoShowNotDue({ job: j.id, dueAt, now }))
  const provider = j.provider!
  const p = s.market.providers.get(provider)!
  const penalty = noShowPenalty(p.bond, params)
  p.bond -= penalty
  p.penalized += penalty
  debit(s, MARKET_BONDS_ACCOUNT, penalty)
  credit(s, j.requester, penalty)
  j.compensation += penalty
  reopen(s, j)
  return Result.succeed({ type: "reclaimNoShow", job: j.id, provider, penalty })
}

/** After the deadline (and every delivery's window), anyone ends the job: pending deliveries paid, the rest of the escrow returned. */
export const refund = (s: EconState, params: Params, op: Extract<MarketOp, { type: "refund" }>, now: number): R<RefundReceipt> => {
  const found = liveJob(s, op.job)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const j = found.success
  if (j.state === "disputed") return Result.fail(new MarketJobDisputed({ job: j.id }))
  if (now < j.deadline) return Result.fail(new MarketBeforeDeadline({ job: j.id, deadline: j.deadline, now }))
  const pending = pendingNotes(j)
  const window = marketConfig(params).disputeWindow
  const closesAt = pending.reduce((t, n) => Math.max(t, n.deliveredAt + window), 0)
  if (now < closesAt) return Result.fail(new MarketDisputeWindowOpen({ job: j.id, closesAt, now }))
  const payments = payNotes(s, params, j, pending)
  const state: JobState = j.paidUnits === j.units ? "settled" : "expired"
  const returned = finish(s, j, state)
  return Result.succeed({ type: "refund", job: j.id, payments, returned, state })
}

// ---------------------------------------------------------------- dispatch and views

/**
 * Apply one market operation at `now`; a refusal changes nothing. `ctx` (the ledger's consensus chain id,
 * signature check and address) verifies a verdict's signatures: without it `resolveDispute` is refused.
 */
export const applyMarketOp = (
  s: EconState, params: Params, op: MarketOp, now: number, ctx?: ReportContext,
): Result.Result<MarketReceipt, MarketError | EconError | CommitteeError> => {
  switch (op.type) {
    case "registerProvider": return registerProvider(s, params, op, now)
    case "updateProvider": return updateProvider(s, op)
    case "addBond": return addBond(s, op)
    case "retireProvider": return retireProvider(s, op)
    case "withdrawBond": return withdrawBond(s, op)
    case "postJob": return postJob(s, op, now)
    case "assignJob": return assignJob(s, params, op, now)
    case "deliver": return deliver(s, params, op, now)
    case "confirm": return confirm(s, params, op)
    case "settle": return settle(s, params, op, now)
    case "dispute": return dispute(s, params, op, now)
    case "resolveDispute": return resolveDispute(s, params, op, now, ctx)
    case "reclaimNoShow": return reclaimNoShow(s, params, op, now)
    case "refund": return refund(s, params, op, now)
    default: return Result.fail(new LedgerUnknownOperation({ type: (op as { type?: unknown }).type }))
  }
}

/** A job as a plain read-only copy. */
export const jobView = (j: Job): JobView => ({ ...j, notes: j.notes.map((n) => ({ ...n })), excluded: [...j.excluded] })
