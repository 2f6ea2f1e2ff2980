/**
 * The stake family (transfer, burn, register a validator, bond, delegate, unbond, withdraw, claim,
 * pay a fee, fund rewards, unjail): one economy operation, run for the signer's account. A validator's
 * signing address acts for its operator id; nobody may act for another account.
 * (Moved from the App as it was: the next issue changes which ledger owns stake.)
 */
import { Result } from "effect"
import type { EconOp } from "../../econ/index.ts"
import { actorOf, type SignedTx } from "../txs.ts"
import { failed, succeeded, type TxContext, type TxResult, type TxState } from "./context.ts"

/** Execute a `stake` transaction: its operation on the economy, if the signer acts for the operation's account. */
export const executeStake = (state: TxState, tx: Extract<SignedTx, { type: "stake" }>, ctx: TxContext): TxResult => {
  const account = ctx.accountOf(tx.signer)
  const op = tx.op as EconOp
  if (actorOf(op) !== account) return failed(tx.type, `${tx.signer} (account ${account}) may not act for ${actorOf(op)}`)
  const r = state.economy.apply(op, ctx.time)
  return Result.isSuccess(r) ? succeeded("stake", [r.success]) : failed(tx.type, r.failure.message)
}
