/** The compute market's rules (pure): records, operations, receipts, errors and arithmetic; the ledger's side is runtime/core/econ/market.ts. */
export type {
  Account, AddBondReceipt, JobFilter, AssignJobReceipt, ConfirmReceipt, DebitNote, DeliverReceipt, DisputeReceipt, Job, JobState, JobView, MarketOp, MarketOpType, MarketReceipt,
  MarketReceiptOf, NotePayment, NoShowReceipt, NoteState, PayoutPart, PostJobReceipt, Provider, ProviderView, RefundReceipt, RegisterProviderReceipt,
  ResolveDisputeReceipt, RetireProviderReceipt, SettleReceipt, UpdateProviderReceipt, WithdrawBondReceipt, WrongResultSlash,
} from "./types.ts"
export { LIVE_JOB_STATES, matchesJob } from "./types.ts"
export {
  jobBudget, marketConfig, maxNoteAmount, maxNoteUnits, noShowPenalty, noteTooLarge, paymentSplit, wrongResultSlash, type MarketConfig, type PaymentSplit,
} from "./math.ts"
export * from "./errors.ts"
export { frozenNotes, VERDICT_TAG, verdictDigest, verdictDigestHex, type MarketVerdict } from "./verdict.ts"
