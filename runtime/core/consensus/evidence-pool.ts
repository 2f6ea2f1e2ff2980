/**
 * The evidence pool: double-sign evidence waiting for a block. Pure — no network, no clock, no
 * telemetry: the node's context holds it, the consensus actor adds what its machine sees and what is
 * submitted from outside (after `check`), puts `pending()` in every block it proposes, and removes
 * what a decided block included (CometBFT's habit: consensus reaches its evidence pool through a
 * small interface, and never holds it itself).
 *
 * One piece of evidence per equivocation: a validator that signed three conflicting prevotes in one
 * round is one offence, whichever pair of votes shows it.
 */
import { verifyEvidence } from "./evidence.ts"
import type { ChainId, SignatureVerifier } from "./signing.ts"
import type { AppTx, DuplicateVoteEvidence } from "./types.ts"
import type { ValidatorSet } from "./validator-set.ts"

/** The equivocation a piece of evidence shows: validator, height, round and vote type. */
export const evidenceKey = (e: DuplicateVoteEvidence): string => `${e.voteA.validator}/${e.voteA.height}/${e.voteA.round}/${e.voteA.type}`

/** What the pool reads of the application to judge evidence submitted from outside. */
export interface EvidenceLedger {
  /** The last executed height. */
  readonly height: number
  readonly chainId: ChainId
  /** The validator set of a height from 1 up to the next one to execute. */
  validatorSet(height: number): ValidatorSet
  /** Whether the validator's double signing was punished already (its pool is tombstoned). */
  tombstoned(validator: string): boolean
}

export class EvidencePool {
  readonly #ledger: EvidenceLedger
  readonly #verify: SignatureVerifier
  /** Pending evidence by equivocation, in the order it was added (the order blocks carry it in). */
  readonly #pending = new Map<string, DuplicateVoteEvidence>()

  constructor(ledger: EvidenceLedger, verify: SignatureVerifier) {
    this.#ledger = ledger
    this.#verify = verify
  }

  /** Pieces of evidence waiting for a block. */
  get size(): number {
    return this.#pending.size
  }

  /**
   * Why evidence submitted from outside cannot be used, or undefined: its height must be known (up
   * to the next one), it must verify against that height's validator set, and the validator must
   * not be tombstoned already.
   */
  check(evidence: DuplicateVoteEvidence): string | undefined {
    const { validator, height } = evidence.voteA
    const ledger = this.#ledger
    if (!Number.isSafeInteger(height) || height < 1 || height > ledger.height + 1) return `evidence height ${height} is not a known height (executed up to ${ledger.height})`
    const check = verifyEvidence(evidence, ledger.chainId, ledger.validatorSet(height), this.#verify)
    if (!check.valid) return `invalid evidence: ${check.reason}`
    if (ledger.tombstoned(validator)) return `${validator} is tombstoned already: its double signing was punished`
    return undefined
  }

  /** Keep (checked) evidence until a block includes it; false when its equivocation is pending already. */
  add(evidence: DuplicateVoteEvidence): boolean {
    const key = evidenceKey(evidence)
    if (this.#pending.has(key)) return false
    this.#pending.set(key, evidence)
    return true
  }

  /** What goes in the next block this node proposes: every pending equivocation once, oldest first. */
  pending(): DuplicateVoteEvidence[] {
    return [...this.#pending.values()]
  }

  /** Forget the evidence a decided block included (its `evidence` transactions). */
  removeIncluded(txs: readonly AppTx[]): void {
    for (const tx of txs) if (tx.type === "evidence") this.#pending.delete(evidenceKey(tx as unknown as DuplicateVoteEvidence))
  }
}
