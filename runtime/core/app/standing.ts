/**
 * Who may send a signed transaction of a type, so that a key holding nothing cannot take pool or
 * block space (issue 16: 10,050 transactions of an unfunded key jammed every pool). The rule is
 * read from the committee snapshot in force after the last executed block (the App holds no
 * economy, issue 12):
 *  - `round-result`, `round-scores`: the signer is a validator's signing key (only a validator
 *    coordinates a training round; the executor refuses anyone else's);
 *  - `stake`: nobody (stake moves only on the ledger, through the Chain port);
 *  - `score-commit`, `score-reveal`: the signer is a validator's signing key, or its account is a
 *    bonded trainer or a validator operator in the snapshot in force.
 * This is the one rule for both: the pool refuses the others at the door (mempool.ts), and a block
 * that carries one is invalid (App.checkSignedTx), so honest validators prevote nil on a byzantine
 * proposer's block that spends space on a key with no stake. (A chain stored before this rule that
 * holds such a transaction, executed then as failed, no longer replays: start it again.)
 */
import { STAKE_ON_LEDGER } from "./tx/stake.ts"
import type { SignedTx } from "./txs.ts"

/** What the rule reads of the application (the App satisfies it). */
export interface StandingLedger {
  /** The ledger account a signing address acts for: a validator's operator id, else the address itself. */
  accountOf(signer: string): string
  /** The operator id of a validator's signing address, undefined for any other address. */
  operatorOf(address: string): string | undefined
  /** Whether an account is a bonded trainer or a validator operator in the snapshot in force. */
  isMember(account: string): boolean
}

/** Why `signer` may not send a transaction of `type` now, or undefined when it may. */
export const senderRefusal = (ledger: StandingLedger, signer: string, type: SignedTx["type"]): string | undefined => {
  if (type === "stake") return STAKE_ON_LEDGER
  if (ledger.operatorOf(signer) !== undefined) return undefined
  if (type === "round-result" || type === "round-scores") return `${signer} is not a validator: only a validator sends a ${type}`
  return ledger.isMember(ledger.accountOf(signer)) ? undefined : `${signer} has no stake on the ledger: only bonded trainers and validators send a ${type}`
}
