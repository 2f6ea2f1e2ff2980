/**
 * What one validator knows about the height it is deciding: the proposals of each round, the blocks
 * they carried (with the node's verdict on their validity), all the votes, and a commit certificate
 * if one arrived. The consensus machine keeps one of these in its context and asks it the questions
 * of Algorithm 1 ("the proposal of round r", "a block with +2/3 precommits in some round"), each in
 * O(1) or O(rounds with a decision).
 *
 * It is a mutable object owned by one actor (see runtime/machines/consensus.ts for why).
 */
import { blockHash } from "./block.ts"
import { HeightVoteSet } from "./height-votes.ts"
import { proposer } from "./proposer.ts"
import type { ValidatorSet } from "./validator-set.ts"
import type { AddVoteResult } from "./votes.ts"
import type { Block, Hash, Proposal, Vote } from "./types.ts"

/** A proposal as stored: its block's hash and whether the node found the block valid. */
export interface StoredProposal {
  readonly proposal: Proposal
  readonly blockHash: Hash
  readonly valid: boolean
}

/** A decided block and the precommits (one round, +2/3 of the power) that decided it. */
export interface Decision {
  readonly round: number
  readonly block: Block
  readonly blockHash: Hash
  readonly precommits: readonly Vote[]
  /** `votes`: this node counted the precommits itself; `certificate`: a peer's commit certificate. */
  readonly source: "votes" | "certificate"
}

export type AddProposalResult =
  | { readonly kind: "added" }
  | { readonly kind: "duplicate" }
  /** Not usable: wrong height or proposer, malformed, too far ahead, or a second different proposal. */
  | { readonly kind: "ignored"; readonly reason: string }

export interface HeightStateOptions {
  /** Proposals are kept for rounds up to this far above the current one; default 32. */
  readonly maxRoundsAhead?: number
  /** Future rounds a validator may hold votes in (see HeightVoteSet); default 2. */
  readonly maxFutureRounds?: number
}

export class HeightState {
  readonly height: number
  readonly validators: ValidatorSet
  readonly votes: HeightVoteSet
  readonly maxRoundsAhead: number
  readonly #proposals = new Map<number, StoredProposal>()
  readonly #blocks = new Map<Hash, { readonly block: Block; readonly valid: boolean }>()
  /** Rounds whose proposer's second, different block is remembered. */
  readonly #secondBlocks = new Set<number>()
  #certificate: Decision | undefined

  constructor(height: number, validators: ValidatorSet, options: HeightStateOptions = {}) {
    this.height = height
    this.validators = validators
    this.maxRoundsAhead = options.maxRoundsAhead ?? 32
    this.votes = new HeightVoteSet(height, validators, options.maxFutureRounds === undefined ? {} : { maxFutureRounds: options.maxFutureRounds })
  }

  /** The owner's current round. */
  get round(): number {
    return this.votes.round
  }

  /** Move the current round forward. */
  setRound(round: number): void {
    this.votes.setRound(round)
  }

  /** The proposer of `round` at this height. */
  proposer(round: number): string {
    return proposer(this.validators, this.height, round)
  }

  /**
   * Store the proposal of a round (signature already verified by the node; `valid` is the node's
   * verdict on the block). The first proposal from the round's proposer wins: a second, different
   * one from the same proposer is ignored (and reported as such to the caller), though its block is
   * remembered for decisions.
   */
  addProposal(p: Proposal, valid: boolean): AddProposalResult {
    if (p.height !== this.height) return { kind: "ignored", reason: `proposal is for height ${p.height}, not ${this.height}` }
    if (!Number.isSafeInteger(p.round) || p.round < 0 || !Number.isSafeInteger(p.polRound) || p.polRound < -1 || p.polRound >= p.round) {
      return { kind: "ignored", reason: `malformed rounds (round ${p.round}, polRound ${p.polRound})` }
    }
    // Checked before computing the proposer, whose cost grows with the round.
    if (p.round > this.round + this.maxRoundsAhead) return { kind: "ignored", reason: `round ${p.round} is too far ahead of ${this.round}` }
    const expected = this.proposer(p.round)
    if (p.proposer !== expected) return { kind: "ignored", reason: `${p.proposer} is not the proposer of round ${p.round} (${expected} is)` }
    const hash = blockHash(p.block)
    // A block for another height can never be valid here, whatever the node said.
    const ok = valid && p.block.height === this.height
    const earlier = this.#proposals.get(p.round)
    if (earlier !== undefined) {
      if (earlier.blockHash === hash) return { kind: "duplicate" }
      // The proposer equivocated. The first proposal stays the round's proposal, but one other
      // block per round is remembered, so that if +2/3 precommit it this node can still decide.
      if (!this.#secondBlocks.has(p.round) && !this.#blocks.has(hash)) {
        this.#secondBlocks.add(p.round)
        this.#blocks.set(hash, { block: p.block, valid: ok })
      }
      return { kind: "ignored", reason: `a second, different proposal for round ${p.round}` }
    }
    this.#proposals.set(p.round, { proposal: p, blockHash: hash, valid: ok })
    if (!this.#blocks.has(hash)) this.#blocks.set(hash, { block: p.block, valid: ok })
    this.votes.markProposer(p.round, p.proposer)
    return { kind: "added" }
  }

  /** The stored proposal of `round`. */
  proposal(round: number): StoredProposal | undefined {
    return this.#proposals.get(round)
  }

  /** A block seen in some proposal of this height, by hash. */
  block(hash: Hash): { readonly block: Block; readonly valid: boolean } | undefined {
    return this.#blocks.get(hash)
  }

  /** Count a vote (signature already verified by the node). */
  addVote(vote: Vote): AddVoteResult {
    return this.votes.add(vote)
  }

  /** Count `votes` from `start` until one moves `thresholds` or conflicts (HeightVoteSet.addRun). */
  addVotes(votes: readonly Vote[], start: number): { readonly result: AddVoteResult | undefined; readonly next: number } {
    return this.votes.addRun(votes, start)
  }

  /** Votes that crossed a threshold a guard reads so far (HeightVoteSet.thresholds). */
  get thresholds(): number {
    return this.votes.thresholds
  }

  /**
   * Accept a commit certificate for this height (signatures already verified by the node) after
   * checking that it is one: precommits of one round for this block, from distinct validators of
   * this height's set, with +2/3 of the power. Returns why not, or undefined when accepted.
   */
  addCertificate(block: Block, precommits: readonly Vote[]): string | undefined {
    if (block.height !== this.height) return `certificate is for height ${block.height}, not ${this.height}`
    const hash = blockHash(block)
    const round = precommits[0]?.round
    if (round === undefined) return "certificate has no precommits"
    const signers = new Set<string>()
    let power = 0n
    for (const v of precommits) {
      if (v.type !== "precommit" || v.height !== this.height || v.round !== round || v.blockHash !== hash) {
        return `certificate holds a vote that is not a precommit of ${this.height}/${round} for its block`
      }
      if (signers.has(v.validator)) continue
      signers.add(v.validator)
      power += this.validators.power(v.validator)
    }
    if (power < this.validators.quorum) return `certificate has ${power} of the ${this.validators.quorum} power a commit needs`
    this.#certificate = { round, block, blockHash: hash, precommits, source: "certificate" }
    return undefined
  }

  /**
   * Whether this height has a decision (Algorithm 1, line 49): a round with +2/3 precommits for a
   * block hash whose block is known and valid, or an accepted commit certificate.
   */
  hasDecision(): boolean {
    for (const [, hash] of this.votes.precommitMajorities()) if (this.#blocks.get(hash)?.valid === true) return true
    return this.#certificate !== undefined
  }

  /** The decision itself (`hasDecision` says whether there is one without gathering its precommits). */
  decision(): Decision | undefined {
    for (const [round, hash] of this.votes.precommitMajorities()) {
      const known = this.#blocks.get(hash)
      if (known?.valid) return { round, block: known.block, blockHash: hash, precommits: this.votes.precommits(round)!.votesFor(hash), source: "votes" }
    }
    return this.#certificate
  }
}
