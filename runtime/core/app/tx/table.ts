/**
 * The App's dispatch table: one executor per transaction type. The table is typed over every type
 * a block may carry (the signed ones come from txs.ts), so a new transaction type without an
 * executor does not compile.
 */
import type { SignedTx } from "../txs.ts"
import type { TxContext, TxResult, TxState } from "./context.ts"
import { executeEvidence, type EvidenceTx } from "./evidence.ts"
import { executeLastCommit, type LastCommitTx } from "./last-commit.ts"
import { executeStake } from "./stake.ts"
import { executeRoundResult, executeRoundScores, executeScoreCommit, executeScoreReveal } from "./training.ts"

/** Every transaction type a block may carry. */
export type TxType = "last-commit" | "evidence" | SignedTx["type"]

/** The transaction an executor of type `K` receives (signed ones decoded, the others as they arrive). */
export type TxOf<K extends TxType> =
  K extends "last-commit" ? LastCommitTx : K extends "evidence" ? EvidenceTx : Extract<SignedTx, { readonly type: K }>

/** Apply one transaction to the state, in the block described by `ctx`. */
export type Executor<T> = (state: TxState, tx: T, ctx: TxContext) => TxResult

/** One executor for each transaction type. */
export type ExecutorTable = { readonly [K in TxType]: Executor<TxOf<K>> }

export const EXECUTORS: ExecutorTable = {
  "last-commit": executeLastCommit,
  evidence: executeEvidence,
  stake: executeStake,
  "score-commit": executeScoreCommit,
  "score-reveal": executeScoreReveal,
  "round-result": executeRoundResult,
  "round-scores": executeRoundScores,
}

/** Whether `type` is a transaction signed by an account (checked against its signer's nonce and signature). */
export const isSignedType = (type: string): type is SignedTx["type"] => type !== "last-commit" && type !== "evidence" && Object.hasOwn(EXECUTORS, type)

/** Run `tx` through the executor of its type. */
export const executeTx = <K extends TxType>(state: TxState, tx: TxOf<K> & { readonly type: K }, ctx: TxContext): TxResult =>
  (EXECUTORS[tx.type] as Executor<TxOf<K>>)(state, tx, ctx)
