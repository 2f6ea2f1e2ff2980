/**
 * The compute market's records, operations and receipts (issue 13 plan, "Rules v1" and "Decisions by
 * H-rules"): providers with a bond, jobs with a budget in escrow, debit notes paid as work is
 * delivered. Amounts and units are bigint base units; times are ms. The same shapes serve the
 * in-memory ledger (runtime/core/econ/market.ts) and the ComputeMarket contract's adapter.
 */

import type { ReportSignature } from "../committee/types.ts"

/** An account id (as the economy's `Address`). */
export type Account = string

/** A job's life on the ledger: `settled` and `expired` are final. */
export type JobState = "open" | "assigned" | "disputed" | "settled" | "expired"
/** The states a job can still change from. */
export const LIVE_JOB_STATES: readonly JobState[] = ["open", "assigned", "disputed"]

/** A debit note's life: paid once, or refuted by a referee and never paid. */
export type NoteState = "pending" | "disputed" | "paid" | "refuted"

/** A compute provider: what it serves, at what price, how many jobs at once, and the bond that answers for it. */
export interface Provider {
  readonly address: Account
  /** What is left of the bond in bonds custody (penalties and slashes take from it). */
  bond: bigint
  /** Job kinds served, e.g. "infer:mnist", "finetune:mnist". */
  kinds: readonly string[]
  pricePerUnit: bigint
  /** Jobs it may hold at once. */
  capacity: number
  /** Jobs assigned to it now (state assigned or disputed). */
  openJobs: number
  retired: boolean
  readonly registeredAt: number
  /** Everything taken from its bond so far (no-show penalties + wrong-result slashes). */
  penalized: bigint
}

/** A delivery of `units` of a job's work: what the provider is owed for it, once its window closes or it is confirmed. */
export interface DebitNote {
  /** 1, 2, 3… within its job. */
  readonly id: number
  readonly provider: Account
  readonly units: bigint
  /** The job's locked price when delivered. */
  readonly pricePerUnit: bigint
  /** units × pricePerUnit. */
  readonly amount: bigint
  /** 32-byte word (0x + 64 hex) naming the result. */
  readonly resultHash: string
  readonly deliveredAt: number
  state: NoteState
}

/** A job: a budget in escrow, paid out as notes are delivered and accepted. */
export interface Job {
  readonly id: number
  readonly requester: Account
  readonly kind: string
  readonly units: bigint
  readonly maxPricePerUnit: bigint
  /** units × maxPricePerUnit, escrowed at posting. */
  readonly budget: bigint
  readonly deadline: number
  readonly postedAt: number
  state: JobState
  /** The provider assigned now; on a final job the last one; undefined while open. */
  provider: Account | undefined
  /** The assigned provider's price, locked at assignment (0 while open). */
  pricePerUnit: bigint
  assignedAt: number
  /** Assignment, last delivery or last verdict for the provider: the no-show clock's start. */
  lastActivity: number
  /** Units of notes not refuted (pending, disputed, paid). */
  delivered: bigint
  /** Units of paid notes. */
  paidUnits: bigint
  /** What is left of the budget in escrow. */
  escrow: bigint
  /** Paid to providers (after fees). */
  paid: bigint
  /** Fees burnt. */
  feeBurnt: bigint
  /** Fees to stakers. */
  feeToStakers: bigint
  /** Escrow given back to the requester (at completion or refund). */
  returned: bigint
  /** Paid to the requester out of provider bonds (no-show penalties, wrong-result compensation): not part of the budget. */
  compensation: bigint
  notes: DebitNote[]
  /** Providers refuted on this job: never assigned to it again. */
  excluded: Account[]
  /** The ledger's newest committee snapshot when the job was last disputed (0: none then, or never disputed): a verdict's snapshot may not be older. */
  disputeSnapshot: number
}

// ---------------------------------------------------------------- operations

/** Every market operation the ledger accepts (`marketOp` on the Chain port). */
export type MarketOp =
  | { readonly type: "registerProvider"; readonly provider: Account; readonly bond: bigint; readonly kinds: readonly string[]; readonly pricePerUnit: bigint; readonly capacity: number }
  | { readonly type: "updateProvider"; readonly provider: Account; readonly pricePerUnit: bigint; readonly capacity: number }
  /** Add `amount` to a provider's bond (after penalties took it below market.minProviderBond). */
  | { readonly type: "addBond"; readonly provider: Account; readonly amount: bigint }
  | { readonly type: "retireProvider"; readonly provider: Account }
  | { readonly type: "withdrawBond"; readonly provider: Account }
  | { readonly type: "postJob"; readonly requester: Account; readonly kind: string; readonly units: bigint; readonly maxPricePerUnit: bigint; readonly deadline: number }
  | { readonly type: "assignJob"; readonly job: number; readonly provider: Account; readonly by: Account }
  | { readonly type: "deliver"; readonly job: number; readonly provider: Account; readonly units: bigint; readonly resultHash: string }
  | { readonly type: "confirm"; readonly job: number; readonly by: Account }
  | { readonly type: "settle"; readonly job: number }
  | { readonly type: "dispute"; readonly job: number; readonly by: Account }
  /**
   * The committee's verdict (core/market/verdict.ts): `signatures` over `verdictDigest` by validators of
   * snapshot `snapshotId` holding ≥ 2/3 of its power; `by` only submits it (anyone may).
   */
  | {
    readonly type: "resolveDispute"; readonly job: number; readonly providerRight: boolean; readonly snapshotId: number
    readonly signatures: readonly ReportSignature[]; readonly by: Account
  }
  | { readonly type: "reclaimNoShow"; readonly job: number; readonly by: Account }
  | { readonly type: "refund"; readonly job: number }

export type MarketOpType = MarketOp["type"]

// ---------------------------------------------------------------- receipts

/** One debit note paid: who got what. */
export interface NotePayment {
  readonly note: number
  readonly provider: Account
  readonly units: bigint
  readonly amount: bigint
  readonly toProvider: bigint
  readonly fee: bigint
  readonly burnt: bigint
  readonly toStakers: bigint
}

/** What a paying operation moved: the notes paid, escrow returned to the requester, the job's state after. */
export interface PayoutPart {
  readonly job: number
  readonly payments: readonly NotePayment[]
  /** Escrow returned to the requester (when the job completed or was refunded). */
  readonly returned: bigint
  readonly state: JobState
}

export interface RegisterProviderReceipt { readonly type: "registerProvider"; readonly provider: Account; readonly bond: bigint }
export interface UpdateProviderReceipt { readonly type: "updateProvider"; readonly provider: Account; readonly pricePerUnit: bigint; readonly capacity: number }
export interface AddBondReceipt { readonly type: "addBond"; readonly provider: Account; readonly amount: bigint; readonly bond: bigint }
export interface RetireProviderReceipt { readonly type: "retireProvider"; readonly provider: Account }
export interface WithdrawBondReceipt { readonly type: "withdrawBond"; readonly provider: Account; readonly amount: bigint }
export interface PostJobReceipt { readonly type: "postJob"; readonly job: number; readonly requester: Account; readonly kind: string; readonly budget: bigint; readonly deadline: number }
export interface AssignJobReceipt { readonly type: "assignJob"; readonly job: number; readonly provider: Account; readonly pricePerUnit: bigint }
export interface DeliverReceipt {
  readonly type: "deliver"; readonly job: number; readonly provider: Account; readonly note: number; readonly units: bigint; readonly amount: bigint
  /** The job's delivered units after this note. */
  readonly delivered: bigint
}
export interface ConfirmReceipt extends PayoutPart { readonly type: "confirm" }
export interface SettleReceipt extends PayoutPart { readonly type: "settle" }
export interface DisputeReceipt { readonly type: "dispute"; readonly job: number; readonly by: Account; readonly notes: readonly number[]; readonly amount: bigint }
/** A wrong result's slash: taken from the bond, the requester compensated first, the rest burnt. */
export interface WrongResultSlash { readonly provider: Account; readonly slashed: bigint; readonly toRequester: bigint; readonly burnt: bigint }
export interface ResolveDisputeReceipt extends PayoutPart {
  readonly type: "resolveDispute"
  readonly providerRight: boolean
  readonly provider: Account
  /** Notes refuted (provider wrong); empty when the provider was right. */
  readonly refuted: readonly number[]
  readonly slash: WrongResultSlash | undefined
  /** The snapshot whose validators signed the verdict, their operators (in the order given) and their power. */
  readonly snapshotId: number
  readonly signers: readonly Account[]
  readonly power: bigint
}
export interface NoShowReceipt { readonly type: "reclaimNoShow"; readonly job: number; readonly provider: Account; readonly penalty: bigint }
export interface RefundReceipt extends PayoutPart { readonly type: "refund" }

export type MarketReceipt =
  | RegisterProviderReceipt | UpdateProviderReceipt | AddBondReceipt | RetireProviderReceipt | WithdrawBondReceipt | PostJobReceipt | AssignJobReceipt
  | DeliverReceipt | ConfirmReceipt | SettleReceipt | DisputeReceipt | ResolveDisputeReceipt | NoShowReceipt | RefundReceipt

/** The receipt type of a market operation type. */
export type MarketReceiptOf<T extends MarketOpType> = Extract<MarketReceipt, { readonly type: T }>

// ---------------------------------------------------------------- read-only views

/** Which jobs a listing wants (every field optional; all given must match). */
export interface JobFilter {
  readonly requester?: Account
  readonly provider?: Account
  readonly state?: JobState
}

/** Whether `job` is one `filter` asks for. */
export const matchesJob = (job: Pick<Job, "requester" | "provider" | "state">, filter: JobFilter = {}): boolean =>
  (filter.requester === undefined || job.requester === filter.requester) &&
  (filter.provider === undefined || job.provider === filter.provider) &&
  (filter.state === undefined || job.state === filter.state)

/** A provider as a plain read-only copy. */
export type ProviderView = Readonly<Provider>
/** A job as a plain read-only copy (its notes copied). */
export type JobView = Readonly<Omit<Job, "notes" | "excluded">> & { readonly notes: readonly Readonly<DebitNote>[]; readonly excluded: readonly Account[] }
