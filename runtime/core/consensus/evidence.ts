/**
 * Double-sign evidence: two votes of one validator for one (height, round, type) with different
 * block hashes. Anyone holding both can prove the equivocation to anyone else, including a contract
 * (see signing.ts for the digest it recomputes).
 */
import { verifySignature } from "../crypto.ts"
import { type ChainId, type SignatureVerifier, verifyVote } from "./signing.ts"
import type { ValidatorSet } from "./validator-set.ts"
import { type DuplicateVoteEvidence, type Hash, type Vote, ZERO_HASH } from "./types.ts"

const word = (hash: Hash | null): Hash => hash ?? ZERO_HASH

/** Evidence of two conflicting votes, in canonical order (smaller block hash first, nil = zero). */
export const duplicateVoteEvidence = (a: Vote, b: Vote): DuplicateVoteEvidence =>
  word(a.blockHash) < word(b.blockHash) ? { voteA: a, voteB: b } : { voteA: b, voteB: a }

/** The result of checking evidence: valid, or why not. */
export type EvidenceCheck = { readonly valid: true } | { readonly valid: false; readonly reason: string }

const invalid = (reason: string): EvidenceCheck => ({ valid: false, reason })

/**
 * Check evidence completely: same validator, height, round and type; different block hashes in
 * canonical order; the validator is in `validators` (the set of the evidence's height); both
 * signatures are the validator's on `chainId` (checked with `verify`, secp256k1 by default).
 */
export const verifyEvidence = (
  evidence: DuplicateVoteEvidence,
  chainId: ChainId,
  validators: ValidatorSet,
  verify: SignatureVerifier = verifySignature,
): EvidenceCheck => {
  const { voteA: a, voteB: b } = evidence
  if (a.validator !== b.validator) return invalid("the votes are from different validators")
  if (a.height !== b.height || a.round !== b.round) return invalid("the votes are for different heights or rounds")
  if (a.type !== b.type) return invalid("the votes are of different types")
  // Hex hashes of equal length compare as numbers when compared as strings.
  if (word(a.blockHash) >= word(b.blockHash)) {
    return invalid(a.blockHash === b.blockHash ? "the votes are for the same block" : "the votes are not in canonical order")
  }
  if (!validators.has(a.validator)) return invalid(`${a.validator} is not in the validator set`)
  if (!verifyVote(a, chainId, verify)) return invalid("voteA's signature is not the validator's")
  if (!verifyVote(b, chainId, verify)) return invalid("voteB's signature is not the validator's")
  return { valid: true }
}
