/**
 * Who may send a signed transaction of a type, so that a key holding nothing cannot take pool or
 * block space (issue 16: 10,050 transactions of an unfunded key jammed every pool). The rule is
 * read from the application as it stands after the last executed block:
 *  - `round-result`, `round-scores`: the signer is a validator's signing key (only a validator
 *    coordinates a training round; the executor refuses anyone else's);
 *  - `stake`, `score-commit`, `score-reveal`: the signer is a validator's signing key (it acts for
 *    its operator account, which may hold nothing liquid, e.g. a jailed validator that must
 *    unjail), or its account holds something in the economy: a balance, a position (bonded stake),
 *    an unbonding entry (it must be able to withdraw it) or pending rewards (it must be able to
 *    claim them).
 * The pool refuses the others at the door; execution is unchanged (a block that carries such a
 * transaction still executes it as failed), so every stored chain replays as before.
 */
import type { SignedTx } from "./txs.ts"

/** What the rule reads of the application (the App satisfies it). */
export interface StandingLedger {
  /** The economy account a signing address acts for: a validator's operator id, else the address itself. */
  accountOf(signer: string): string
  /** The operator id of a validator's signing address, undefined for any other address. */
  operatorOf(address: string): string | undefined
  readonly economy: {
    balanceOf(account: string): bigint
    positions(owner: string): readonly unknown[]
    unbonding(owner: string): readonly unknown[]
    pendingRewards(owner: string): { readonly total: bigint }
  }
}

/** Whether `account` holds anything in the economy: a balance, a position, an unbonding entry or pending rewards. */
export const holdsAnything = (ledger: StandingLedger, account: string): boolean => {
  const e = ledger.economy
  return e.balanceOf(account) > 0n || e.positions(account).length > 0 || e.unbonding(account).length > 0 || e.pendingRewards(account).total > 0n
}

/** Why `signer` may not send a transaction of `type` now, or undefined when it may. */
export const senderRefusal = (ledger: StandingLedger, signer: string, type: SignedTx["type"]): string | undefined => {
  if (ledger.operatorOf(signer) !== undefined) return undefined
  if (type === "round-result" || type === "round-scores") return `${signer} is not a validator: only a validator sends a ${type}`
  return holdsAnything(ledger, ledger.accountOf(signer)) ? undefined : `${signer} has no account: no balance, stake, unbonding or rewards`
}
