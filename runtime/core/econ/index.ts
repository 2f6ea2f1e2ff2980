/** The in-memory token & staking economy: the rules the contracts implement, in bigint. */
export { Economy, type PoolView, type PositionView, type UnbondingView } from "./economy.ts"
export type { EconOp, EconOpType, Receipt, ReceiptOf } from "./ops.ts"
export type {
  Address, Checkpoint, EconSnapshot, InsuranceState, LockTier, Owed, PoolId, PoolSnapshot, RewardState, SupplyBreakdown,
} from "./state.ts"
export { CONTRIBUTOR_PREFIX, PRECISION } from "./state.ts"
export { econConfig, isLockTier, LOCK_TIERS, tierMs, type EconConfig } from "./config.ts"
export { contributorPoolId } from "./staking.ts"
export { proRata, type ContributorPayoutReceipt, type ScoreEntry } from "./contributions.ts"
export { emissionFor, type PendingRewards } from "./rewards.ts"
export { FOREVER, type Infraction } from "./slashing.ts"
export type { Allocation, BurnReceipt, TransferReceipt } from "./token.ts"
export type { ClaimReceipt, FeeReceipt, FundReceipt } from "./rewards.ts"
export type { SlashReceipt, UnjailReceipt } from "./slashing.ts"
export type { BondContributorReceipt, BondReceiptPart, DelegateReceipt, RegisterValidatorReceipt, UnbondReceipt, WithdrawReceipt } from "./staking.ts"
export * from "./errors.ts"
export {
  buildSnapshot, FEE_ESCROW_ACCOUNT, FEE_WITHDRAWAL_DELAY_MS, RESERVE_ACCOUNT, type ConflictReceipt, type EpochSettlementReceipt, type FeeDepositReceipt,
  type FeeWithdrawalReceipt, type FeeWithdrawalRequestReceipt, type ReportContext,
} from "./committee.ts"
export type { AcceptedReport, CommitteeState } from "./state.ts"
export type { MarketState } from "./state.ts"
export { isReferee, MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT, MAX_CAPACITY, MAX_KIND_LENGTH, MAX_KINDS, MAX_PRICE, MAX_UNITS } from "./market.ts"
