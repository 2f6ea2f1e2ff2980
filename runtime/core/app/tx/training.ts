/**
 * The training family, on the training ledger:
 *  - `score-commit` / `score-reveal`: an account commits a contribution score in an epoch and
 *    reveals it in the next;
 *  - `round-result` / `round-scores`: the validator that coordinated a training round commits its
 *    result, then reveals the participants' scores in a later block; the epoch's report pays the
 *    contributors' share of the emission to the scored accounts pro rata, on the ledger.
 */
import type { SignedTx } from "../txs.ts"
import { failed, succeeded, type TxContext, type TxResult, type TxState } from "./context.ts"

type Tx<K extends SignedTx["type"]> = Extract<SignedTx, { readonly type: K }>

/** The outcome of a ledger step that answers why it refused, or undefined. */
const outcome = (type: string, why: string | undefined): TxResult => (why === undefined ? succeeded(type) : failed(type, why))

/** Execute a `score-commit`: commitments are open for the current epoch only. */
export const executeScoreCommit = (state: TxState, tx: Tx<"score-commit">, ctx: TxContext): TxResult => {
  if (tx.epoch !== ctx.epoch) return failed(tx.type, `commitments for epoch ${tx.epoch} are not open (this is epoch ${ctx.epoch})`)
  return outcome(tx.type, state.training.commitScore(ctx.epoch, ctx.accountOf(tx.signer), tx.commitment))
}

/** Execute a `score-reveal`: an epoch's scores are revealed in the next epoch. */
export const executeScoreReveal = (state: TxState, tx: Tx<"score-reveal">, ctx: TxContext): TxResult => {
  if (tx.epoch !== ctx.epoch - 1) return failed(tx.type, `scores of epoch ${tx.epoch} are revealed in epoch ${tx.epoch + 1}, this is ${ctx.epoch}`)
  return outcome(tx.type, state.training.revealScore(tx.epoch, ctx.accountOf(tx.signer), tx.score, tx.salt))
}

/** Execute a `round-result`: only a validator coordinates a round; its result is recorded in this block's epoch. */
export const executeRoundResult = (state: TxState, tx: Tx<"round-result">, ctx: TxContext): TxResult => {
  if (ctx.operatorOf(tx.signer) === undefined) return failed(tx.type, `${tx.signer} is not a validator: only a validator coordinates a training round`)
  return outcome(tx.type, state.training.recordRound({
    round: tx.round, modelHash: tx.modelHash, accuracy: tx.accuracy, loss: tx.loss, participants: tx.participants,
    coordinator: ctx.accountOf(tx.signer), height: ctx.height, epoch: ctx.epoch, scoresCommitment: tx.scoresCommitment,
  }))
}

/** Execute a `round-scores`: record the revealed scores (the epoch's report pays them on the ledger). */
export const executeRoundScores = (state: TxState, tx: Tx<"round-scores">, ctx: TxContext): TxResult =>
  outcome(tx.type, state.training.revealRoundScores(tx.round, ctx.accountOf(tx.signer), ctx.height, tx.scores, tx.salt))
