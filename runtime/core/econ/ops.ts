/**
 * The operations an economy accepts and the receipts it returns. Receipts say exactly what moved,
 * so the simulator can turn them into telemetry and machine events without reading the state.
 */
import type { BurnReceipt, TransferReceipt } from "./token.ts"
import type { ClaimReceipt, FeeReceipt, FundReceipt } from "./rewards.ts"
import type { Infraction, SlashReceipt, UnjailReceipt } from "./slashing.ts"
import type { Address, LockTier, PoolId } from "./state.ts"
import type { BondContributorReceipt, DelegateReceipt, RegisterValidatorReceipt, UnbondReceipt, WithdrawReceipt } from "./staking.ts"

export type EconOp =
  | { readonly type: "transfer"; readonly from: Address; readonly to: Address; readonly amount: bigint }
  | { readonly type: "burn"; readonly from: Address; readonly amount: bigint }
  /**
   * `commission` is a wad (1e18 = 100%). `signingKey`: the address of the consensus key that signs
   * its votes and epoch reports (a 0x address); without it, the operator's own chain address.
   */
  | { readonly type: "registerValidator"; readonly operator: Address; readonly amount: bigint; readonly tier: LockTier; readonly commission: bigint; readonly signingKey?: string }
  | { readonly type: "bondContributor"; readonly owner: Address; readonly amount: bigint; readonly tier: LockTier }
  | { readonly type: "delegate"; readonly owner: Address; readonly validator: Address; readonly amount: bigint; readonly tier: LockTier }
  /** `amount` in tokens; partial allowed; the position's whole value closes it. */
  | { readonly type: "unbond"; readonly owner: Address; readonly position: number; readonly amount: bigint }
  /** Releases all mature unbonding entries of the owner. */
  | { readonly type: "withdraw"; readonly owner: Address }
  /** All positions' rewards, commission and insurance payouts. */
  | { readonly type: "claimRewards"; readonly owner: Address }
  /** Burn share + stakers' share. */
  | { readonly type: "payFee"; readonly payer: Address; readonly amount: bigint }
  /** E.g. an epoch's emission from the reserve. */
  | { readonly type: "fundRewards"; readonly from: Address; readonly amount: bigint }
  | { readonly type: "slash"; readonly pool: PoolId; readonly infraction: Infraction; readonly infractionTime: number; readonly evidenceId: string }
  | { readonly type: "unjail"; readonly operator: Address }

export type EconOpType = EconOp["type"]

export type Receipt =
  | TransferReceipt
  | BurnReceipt
  | RegisterValidatorReceipt
  | BondContributorReceipt
  | DelegateReceipt
  | UnbondReceipt
  | WithdrawReceipt
  | ClaimReceipt
  | FeeReceipt
  | FundReceipt
  | SlashReceipt
  | UnjailReceipt

/** The receipt type of an operation type. */
export type ReceiptOf<T extends EconOpType> = Extract<Receipt, { readonly type: T }>
