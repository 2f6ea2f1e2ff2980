/**
 * The last-commit: the precommits that decided the parent block, first transaction of every block
 * above 1 (checked with the block, App.checkBlock). Executing it records who signed the parent, for
 * downtime slashing over `slashing.downtimeWindow`.
 */
import type { AppTx, Vote } from "../../consensus/types.ts"
import { succeeded, type TxContext, type TxResult, type TxState } from "./context.ts"

/** A last-commit as it arrives in a block. */
export type LastCommitTx = AppTx & { readonly type: "last-commit" }

/** Execute a `last-commit`: every validator of the parent's set either signed it or missed it. */
export const executeLastCommit = (state: TxState, tx: LastCommitTx, ctx: TxContext): TxResult => {
  const signers = new Set((tx.precommits as unknown as Vote[]).map((v) => v.validator))
  state.downtime.setWindow(ctx.params["slashing.downtimeWindow"])
  state.downtime.observe(ctx.validatorSet(ctx.height - 1).validators.map((v) => v.address), signers)
  return succeeded("last-commit")
}
