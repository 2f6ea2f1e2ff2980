/**
 * Double-sign evidence: two conflicting votes of one validator. The evidence is verified against the
 * validator set of its height and the validator is convicted: it leaves the set at the next height.
 * The slash is the ledger's (the node submits the votes to the Chain port, which checks them itself).
 */
import { verifyEvidence } from "../../consensus/evidence.ts"
import type { AppTx, DuplicateVoteEvidence } from "../../consensus/types.ts"
import { failed, succeeded, type TxContext, type TxResult, type TxState } from "./context.ts"

/** Evidence as it arrives in a block: its votes are not checked yet, they may even be missing. */
export type EvidenceTx = DuplicateVoteEvidence & AppTx & { readonly type: "evidence" }

/** Execute an `evidence` transaction: verify it, then slash the validator it convicts. */
export const executeEvidence = (state: TxState, tx: EvidenceTx, ctx: TxContext): TxResult => {
  const { voteA } = tx
  if (voteA === undefined || tx.voteB === undefined) return failed("evidence", "evidence needs voteA and voteB")
  if (!Number.isSafeInteger(voteA.height) || voteA.height < 1 || voteA.height > ctx.height) {
    return failed("evidence", `evidence height ${String(voteA.height)} is not a known height`)
  }
  const check = verifyEvidence(tx, ctx.chainId, ctx.validatorSet(voteA.height), ctx.verify)
  if (!check.valid) return failed("evidence", check.reason)
  const operator = ctx.operatorOf(voteA.validator)!
  const refused = state.convict({
    pool: operator, address: voteA.validator, infraction: "doubleSign",
    evidenceId: `double-sign/${voteA.validator}/${voteA.height}/${voteA.round}/${voteA.type}`,
  })
  return refused === undefined ? succeeded("evidence") : failed("evidence", refused)
}
