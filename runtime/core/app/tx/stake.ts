/**
 * The stake family: refused. Stake moves only on the ledger (the Chain port: the API's and the
 * CLI's stake, `dai validator register`); the committee holds no economy (issue 12). The type stays
 * decodable so that a block carrying one still executes it, as a failed transaction.
 */
import type { SignedTx } from "../txs.ts"
import { failed, type TxContext, type TxResult, type TxState } from "./context.ts"

/** Why a `stake` transaction is refused. */
export const STAKE_ON_LEDGER = "stake moves only on the ledger: submit it to the Chain port (POST /stake, dai stake), not as a transaction"

/** Execute a `stake` transaction: refused, changing nothing but the nonce. */
export const executeStake = (_state: TxState, tx: Extract<SignedTx, { type: "stake" }>, _ctx: TxContext): TxResult => failed(tx.type, STAKE_ON_LEDGER)
