/**
 * The data of consensus: blocks, votes, proposals and double-sign evidence.
 *
 * Everything here is plain JSON-able data (numbers are safe integers, bytes are 0x-hex strings,
 * lowercase), so a message decoded from the wire, a value in a trace and a value in the machine's
 * context are the same thing, and equality of two hashes or addresses is string equality.
 */

/** An Ethereum-style address: `0x` + 40 lowercase hex digits. */
export type Address = string
/** A 32-byte hash: `0x` + 64 lowercase hex digits. */
export type Hash = string
/** A 65-byte recoverable secp256k1 signature r ‖ s ‖ v (v = 27 or 28): `0x` + 130 lowercase hex digits. */
export type Signature = string

/** The hash that stands for "no block" (nil) wherever a bytes32 is required (digests, ordering). */
export const ZERO_HASH: Hash = `0x${"0".repeat(64)}`

/** A JSON value. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/**
 * One application transaction, opaque to consensus: a JSON object tagged by `type`. The application
 * state machine (built elsewhere) gives each `type` its meaning; consensus only orders, hashes and
 * ships txs. Known tags so far: `evidence` (see {@link EvidenceTx}); the application adds `stake`,
 * `score`, `receipt`, ... without touching consensus.
 */
export interface AppTx {
  readonly type: string
  readonly [field: string]: Json
}

/** Double-sign evidence carried in a block, so the application (and the chain) can slash. */
export interface EvidenceTx extends AppTx {
  readonly type: "evidence"
  readonly voteA: Vote
  readonly voteB: Vote
}

/** A block. Its identity is {@link blockHash} (block.ts); `round` is the round it was first proposed in. */
export interface Block {
  readonly height: number
  readonly round: number
  readonly proposer: Address
  /** Hash of the block at `height - 1`; {@link ZERO_HASH} at height 1. */
  readonly parentHash: Hash
  /** Proposer's time in ms (virtual in the simulator). */
  readonly time: number
  readonly txs: readonly AppTx[]
  /** Application state after the parent block (deferred execution, as in CometBFT). */
  readonly appHash: Hash
}

export type VoteType = "prevote" | "precommit"

/** The byte that stands for a vote type in the signed digest (see signing.ts). */
export const VOTE_TYPE_CODE: { readonly [T in VoteType]: number } = { prevote: 1, precommit: 2 }

/**
 * A signed prevote or precommit; `blockHash` null is a vote for nil. (A type alias, not an
 * interface, so that a vote is itself a JSON object and can ride inside an {@link AppTx}.)
 */
export type Vote = {
  readonly type: VoteType
  readonly height: number
  readonly round: number
  readonly blockHash: Hash | null
  readonly validator: Address
  readonly signature: Signature
}

/** A vote before it is signed. */
export type UnsignedVote = Omit<Vote, "signature">

/** A signed proposal of `block` for (height, round); `polRound` is the proposer's valid round, -1 if none. */
export interface Proposal {
  readonly height: number
  readonly round: number
  readonly polRound: number
  readonly block: Block
  readonly proposer: Address
  readonly signature: Signature
}

/** A proposal before it is signed. */
export type UnsignedProposal = Omit<Proposal, "signature">

/**
 * Proof that `voteA.validator` signed two different votes of one (height, round, type). Canonical
 * order: `voteA`'s block hash (nil as {@link ZERO_HASH}) is numerically below `voteB`'s, so one
 * double sign has exactly one evidence and a contract can reject reordered duplicates.
 */
export interface DuplicateVoteEvidence {
  readonly voteA: Vote
  readonly voteB: Vote
}

/** A commit certificate: a block and the precommits (+2/3 of the power, one round) that decided it. */
export interface CommitCertificate {
  readonly block: Block
  readonly precommits: readonly Vote[]
}
