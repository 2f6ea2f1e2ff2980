/**
 * What a transaction executor sees: the state it may change, the block it runs in, and its result.
 * An executor is a plain function `(state, tx, ctx) → TxResult` (Lodestar's `processOperations`
 * habit): the App decodes a block's transactions and dispatches each by its `type` (table.ts).
 */
import type { ValidatorSet } from "../../consensus/validator-set.ts"
import type { Receipt } from "../../econ/index.ts"
import type { Params } from "../../params.ts"
import type { DowntimeTracker } from "../downtime.ts"
import type { TrainingLedger } from "../training-ledger.ts"

/** The signature scheme's check: true when `signature` over `digest` is `address`'s. */
export type Verifier = (address: string, digest: Uint8Array, signature: Uint8Array) => boolean

/** The outcome of one transaction; a failed one is recorded (it still uses its nonce) and changes nothing else. */
export type TxResult =
  | { readonly ok: true; readonly type: string; readonly receipts: readonly Receipt[] }
  | { readonly ok: false; readonly type: string; readonly error: string }

/** A validator convicted by the committee: it leaves the set at once; the ledger slashes it. */
export interface Conviction {
  /** Operator account on the ledger. */
  readonly pool: string
  /** Its signing address. */
  readonly address: string
  readonly infraction: "doubleSign" | "downtime"
  readonly evidenceId: string
  /**
   * Settled by the epoch's report (its operator named in the report's `downtime` list, which the
   * ledger slashes and jails on the signatures of ≥ 2/3 of the power) rather than by evidence the
   * ledger checks itself: a provably forged round result, which no contract can re-measure.
   */
  readonly inReport?: true
}

/** The state executors change (the App holds no economy: value moves on the ledger). */
export interface TxState {
  /** Convict a validator; why not, when it was convicted of a double sign already. */
  readonly convict: (c: Conviction) => string | undefined
  /** Training-round results, contribution scores and the contributors' pot. */
  readonly training: TrainingLedger
  /** Who signed the recent blocks (fed by each block's last-commit). */
  readonly downtime: DowntimeTracker
}

/** The block a transaction executes in, and what the chain knows that executors only read. */
export interface TxContext {
  readonly chainId: number
  /** Height, time and epoch of the block being executed. */
  readonly height: number
  readonly time: number
  readonly epoch: number
  /** Parameters in force at the start of the block. */
  readonly params: Params
  readonly verify: Verifier
  /** The economy account a signing address acts for: a validator's operator id, else the address itself. */
  readonly accountOf: (signer: string) => string
  /** The operator id of a validator's signing address, undefined for any other address. */
  readonly operatorOf: (address: string) => string | undefined
  /** The key a training participant signs with: a bonded trainer's, or an active validator's; undefined for anyone else. */
  readonly trainerKey: (account: string) => string | undefined
  /** The validator set of a height up to this block's. */
  readonly validatorSet: (height: number) => ValidatorSet
  /** The time of an executed height (up to this block's), undefined for one this node never executed. */
  readonly timeOf: (height: number) => number | undefined
}

/** A refused transaction of `type`, saying why. */
export const failed = (type: string, error: string): TxResult => ({ ok: false, type, error })

/** An accepted transaction of `type` with what it moved. */
export const succeeded = (type: string, receipts: readonly Receipt[] = []): TxResult => ({ ok: true, type, receipts })
