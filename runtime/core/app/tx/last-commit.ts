/**
 * The last-commit: the precommits that decided the parent block, first transaction of every block
 * above 1 (checked with the block, App.checkBlock). Executing it records who signed the parent, for
 * downtime slashing over `slashing.downtimeWindow`.
 */
import type { ValidatorSet } from "../../consensus/validator-set.ts"
import { RecentByObject } from "../../recent.ts"
import type { AppTx, Vote } from "../../consensus/types.ts"
import { succeeded, type TxContext, type TxResult, type TxState } from "./context.ts"

/** A last-commit as it arrives in a block. */
export type LastCommitTx = AppTx & { readonly type: "last-commit" }

/**
 * The flags of a set's signers, by precommit list and set: the replicas of a simulated world execute
 * the same decoded block (the same list) against the same set (committee.ts shares sets of one
 * snapshot), so the flags are made once per world. A few sets per list; a list is never changed
 * once it is in a block (a proposer appends late precommits to a copy: consensus-node.ts).
 */
const flagsOf = new RecentByObject<readonly Vote[], { readonly set: ValidatorSet; readonly flags: Uint8Array }>(4)

/** `flags[i]` = 1 when `set.validators[i]` signed one of `precommits` (read only: they may be shared). */
export const signerFlags = (set: ValidatorSet, precommits: readonly Vote[]): Uint8Array => {
  const known = flagsOf.find(precommits, (k) => k.set === set)
  if (known !== undefined) return known.flags
  const flags = new Uint8Array(set.size)
  for (const v of precommits) {
    const i = set.indexOf(v.validator)
    if (i >= 0) flags[i] = 1
  }
  return flagsOf.add(precommits, { set, flags }).flags
}

/** Execute a `last-commit`: every validator of the parent's set either signed it or missed it. */
export const executeLastCommit = (state: TxState, tx: LastCommitTx, ctx: TxContext): TxResult => {
  const set = ctx.validatorSet(ctx.height - 1)
  state.downtime.setWindow(ctx.params["slashing.downtimeWindow"])
  state.downtime.observe(set, signerFlags(set, tx.precommits as unknown as readonly Vote[]))
  return succeeded("last-commit")
}
