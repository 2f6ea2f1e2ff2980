/**
 * Double-sign evidence as the ledger checks it (a rule, so in core). The consensus layer holds
 * evidence as two `Vote`s (evidence.ts); the Chain port takes two `SignedVote`s (`Staking.Vote`), and
 * a ledger without `ecrecover` (the in-memory one) needs the contract's check in TypeScript. Both
 * live here so that the evidence reporter, the in-memory ledger and the tests agree with Staking.sol:
 *
 *   evidenceId = keccak256(abi.encode(address signer, uint256 chainId, uint256 height, uint256 round, uint8 voteType))
 *
 * (`_checkDoubleSign`): one id per equivocation, whichever pair of votes shows it, so a piece of
 * evidence is punished once on every backend.
 */
import { keccak256, recoverAddress, toHex, fromHex, verifySignature } from "../crypto.ts"
import { encodePacked } from "./packed.ts"
import { type ChainId, type SignatureVerifier, voteDigest } from "./signing.ts"
import { type DuplicateVoteEvidence, type Vote, type VoteType, VOTE_TYPE_CODE, ZERO_HASH } from "./types.ts"

/**
 * One signed consensus vote as the ledger checks double-sign evidence: `Staking.Vote`, whose digest
 * is signing.ts's `voteDigest` (voteType 1 = prevote, 2 = precommit; blockHash the zero word for
 * nil; signature 65 bytes r‖s‖v).
 */
export interface SignedVote {
  readonly chainId: bigint
  readonly height: bigint
  readonly round: bigint
  readonly voteType: number
  readonly blockHash: string
  readonly signature: string
  /**
   * The signing address the vote claims (the consensus vote's `validator`). The contract ignores it
   * and recovers the signer from the signature; the in-memory ledger, whose signatures may be the
   * simulator's cheap scheme that cannot be recovered, checks the signature against it.
   */
  readonly validator?: string
}

const ZERO_ADDRESS = `0x${"0".repeat(40)}`
const TYPE_OF_CODE: Readonly<Record<number, VoteType>> = { 1: "prevote", 2: "precommit" }

/** A consensus vote on `chainId` as the Chain port takes it (with its claimed signer). */
export const signedVote = (vote: Vote, chainId: ChainId): SignedVote => ({
  chainId: BigInt(chainId),
  height: BigInt(vote.height),
  round: BigInt(vote.round),
  voteType: VOTE_TYPE_CODE[vote.type],
  blockHash: vote.blockHash ?? ZERO_HASH,
  signature: vote.signature,
  validator: vote.validator,
})

/** Both votes of a piece of evidence, in its canonical order, for `Chain.slashDoubleSign`. */
export const signedVotes = (evidence: DuplicateVoteEvidence, chainId: ChainId): readonly [SignedVote, SignedVote] =>
  [signedVote(evidence.voteA, chainId), signedVote(evidence.voteB, chainId)]

/** The evidence id Staking.sol gives an equivocation (see the module comment); 0x + 64 lowercase hex digits. */
export const doubleSignEvidenceId = (signer: string, chainId: bigint, height: bigint, round: bigint, voteType: number): string =>
  toHex(keccak256(encodePacked(
    { t: "uint256", v: BigInt(signer) },
    { t: "uint256", v: chainId },
    { t: "uint256", v: height },
    { t: "uint256", v: round },
    { t: "uint256", v: BigInt(voteType) },
  )))

/** What `checkDoubleSign` finds: the signer of two conflicting votes, or why they prove nothing. */
export type DoubleSignCheck =
  | { readonly valid: true; readonly signer: string; readonly evidenceId: string }
  | { readonly valid: false; readonly evidenceId: string; readonly reason: string }

const isWord = (x: bigint): boolean => x >= 0n && x < 1n << 256n
const isHash = (h: unknown): h is string => typeof h === "string" && /^0x[0-9a-fA-F]{64}$/.test(h)

/** The digest a vote's signature covers, or undefined when a field is out of its type's range. */
const digestOf = (v: SignedVote): Uint8Array | undefined => {
  const type = TYPE_OF_CODE[v.voteType]
  if (type === undefined || !isHash(v.blockHash) || !isWord(v.chainId)) return undefined
  if (v.height < 0n || v.height > BigInt(Number.MAX_SAFE_INTEGER) || v.round < 0n || v.round > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return voteDigest(v.chainId, type, Number(v.height), Number(v.round), v.blockHash === ZERO_HASH ? null : v.blockHash)
}

/** The address that signed `v`: its claimed `validator` when `verify` accepts it, else the secp256k1 recovery (as ecrecover). */
const signerOf = (v: SignedVote, verify: SignatureVerifier): string | undefined => {
  const digest = digestOf(v)
  if (digest === undefined) return undefined
  let signature: Uint8Array
  try {
    signature = fromHex(v.signature)
  } catch {
    return undefined
  }
  if (signature.length !== 65) return undefined
  if (v.validator !== undefined) return verify(v.validator, digest, signature) ? v.validator.toLowerCase() : undefined
  return recoverAddress(digest, signature)?.toLowerCase()
}

/**
 * Staking.sol's `_checkDoubleSign` over two votes: both signatures valid and by one key, both on
 * `consensusChainId`, same height, round and type, different block hashes. `verify` checks a claimed
 * signer (default secp256k1; the simulator passes its oracle). The reasons are the contract's.
 */
export const checkDoubleSign = (a: SignedVote, b: SignedVote, consensusChainId: bigint, verify: SignatureVerifier = verifySignature): DoubleSignCheck => {
  const sa = signerOf(a, verify)
  const sb = signerOf(b, verify)
  const evidenceId = isWord(a.chainId) && a.height >= 0n && a.round >= 0n && a.voteType >= 0 && a.voteType < 256
    ? doubleSignEvidenceId(sa ?? ZERO_ADDRESS, a.chainId, a.height, a.round, a.voteType)
    : toHex(new Uint8Array(32))
  const invalid = (reason: string): DoubleSignCheck => ({ valid: false, evidenceId, reason })
  if (sa === undefined || sb === undefined) {
    const claimed = (sa === undefined ? a : b).validator
    return invalid(claimed === undefined ? "a vote signature is malformed" : `a vote signature is not ${claimed}'s`)
  }
  if (sa !== sb) return invalid("the votes were signed by different keys")
  if (a.chainId !== consensusChainId || b.chainId !== consensusChainId) return invalid("a vote is from another chain")
  if (a.height !== b.height || a.round !== b.round || a.voteType !== b.voteType) return invalid("the votes are for different heights, rounds or types")
  if (a.blockHash.toLowerCase() === b.blockHash.toLowerCase()) return invalid("the votes are for the same block")
  return { valid: true, signer: sa, evidenceId }
}
