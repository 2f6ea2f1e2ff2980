/**
 * The training family, on the training ledger:
 *  - `score-commit` / `score-reveal`: an account commits a contribution score in an epoch and
 *    reveals it in the next;
 *  - `round-result` / `round-scores`: the validator that coordinated a training round commits its
 *    result, then reveals the participants' scores in a later block; the epoch's report pays the
 *    contributors' share of the emission to the scored accounts pro rata, on the ledger.
 * A `round-result` is accepted only if every listed participant is a bonded trainer (or a validator)
 * and signed its update commitment for the round (round-attestation.ts). One that is not is provably
 * false: every replica records it as forged with the reason, it never becomes a round (so its
 * coordinator is paid nothing for it), and the coordinator is convicted as a double signer
 * (`penalizeForgedRound`): it leaves the set, and the ledger slashes and tombstones it. The claimed
 * accuracy is re-measured by the validators before they vote (runtime/actors/training/result-check.ts),
 * not here: execution stays deterministic.
 */
import { forgedParticipants } from "../round-attestation.ts"
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

/** The evidence id of a forged round's slash (one slash per coordinator, round and block). */
export const forgedRoundEvidenceId = (coordinator: string, round: number, height: number): string => `forged-round/${coordinator}/${round}/${height}`

/**
 * The penalty for a provably false round result: convict the coordinator as for a double sign (a
 * signed, provably false statement): it leaves the set at once, and the epoch's report names it, so
 * the ledger slashes and jails it on the committee's ≥ 2/3 signatures (the contracts cannot
 * re-measure an accuracy: the committee's word is the proof, as for downtime).
 */
export const penalizeForgedRound = (state: TxState, ctx: TxContext, coordinator: string, signer: string, round: number): void => {
  // Refused only when it was convicted of double signing already: once is enough.
  state.convict({ pool: coordinator, address: signer, infraction: "doubleSign", evidenceId: forgedRoundEvidenceId(coordinator, round, ctx.height), inReport: true })
}

/**
 * Execute a `round-result`: only a validator coordinates a round; a provably false one is recorded
 * as forged and its coordinator slashed (the transaction succeeds: it is the evidence); an honest
 * one is recorded in this block's epoch.
 */
export const executeRoundResult = (state: TxState, tx: Tx<"round-result">, ctx: TxContext): TxResult => {
  const coordinator = ctx.operatorOf(tx.signer)
  if (coordinator === undefined) return failed(tx.type, `${tx.signer} is not a validator: only a validator coordinates a training round`)
  const forged = forgedParticipants({ chainId: ctx.chainId, trainerKey: ctx.trainerKey, verify: ctx.verify }, tx.round, tx.participants, tx.attestations)
  if (forged !== undefined) {
    state.training.recordForged({ round: tx.round, coordinator, height: ctx.height, reason: forged })
    penalizeForgedRound(state, ctx, coordinator, tx.signer, tx.round)
    return succeeded(tx.type)
  }
  return outcome(tx.type, state.training.recordRound({
    round: tx.round, modelHash: tx.modelHash, accuracy: tx.accuracy, loss: tx.loss, participants: tx.participants,
    coordinator: ctx.accountOf(tx.signer), height: ctx.height, epoch: ctx.epoch, scoresCommitment: tx.scoresCommitment,
  }))
}

/** Execute a `round-scores`: record the revealed scores (the epoch's report pays them on the ledger). */
export const executeRoundScores = (state: TxState, tx: Tx<"round-scores">, ctx: TxContext): TxResult =>
  outcome(tx.type, state.training.revealRoundScores(tx.round, ctx.accountOf(tx.signer), ctx.height, tx.scores, tx.salt))
