/**
 * The votes of one (height, round, type): who voted for what, and the power behind each block hash.
 *
 * Every query the consensus rules ask (is there +2/3 for X, for anything, +1/3 at all) is O(1): the
 * tallies are kept up to date as votes arrive, so adding a vote is O(1) and a round of n votes
 * costs O(n), never O(n²). The set is a mutable object owned by one consensus actor.
 *
 * Counting follows the paper: "2f+1 ⟨PREVOTE, h, r, id(v)⟩" counts the validators that signed a
 * vote for id(v). A validator that signs two different votes (equivocation) therefore counts for
 * each hash it signed — once per hash, and once in the "any kind" total — and its second vote is
 * also returned as evidence. Safety is unaffected (two +2/3 quorums overlap in more than 1/3 of the
 * power, so in an honest validator, who never signs both); counting only a validator's first vote,
 * as it arrived here, would instead let an equivocator show different nodes different polkas, and
 * a node locked on a polka that others cannot see can stall a chain whose honest power is just
 * above 2/3. (CometBFT reaches the same end with "+2/3 majority claims" from peers.) Memory stays
 * bounded: at most `maxHashesPerValidator` different hashes are counted per validator; further
 * ones are only reported.
 */
import { duplicateVoteEvidence } from "./evidence.ts"
import { amountOf, minus, plus, type Amount, type Counting, type ValidatorSet } from "./validator-set.ts"
import type { Address, DuplicateVoteEvidence, Hash, Vote, VoteType } from "./types.ts"

/** What happened to a vote given to {@link VoteSet.add}. */
export type AddVoteResult =
  | { readonly kind: "added" }
  /** The validator already voted for the same block hash. */
  | { readonly kind: "duplicate" }
  /**
   * The validator already voted for another hash: evidence. The vote is still counted for its own
   * hash (up to `maxHashesPerValidator` hashes); `first` is true for the validator's first conflict here.
   */
  | { readonly kind: "conflict"; readonly evidence: DuplicateVoteEvidence; readonly first: boolean }
  /** Not a vote of this set (other height/round/type) or not from a validator of the set. */
  | { readonly kind: "rejected"; readonly reason: string }

/** A block hash with +2/3 of the power (null: nil). */
export interface Majority {
  readonly blockHash: Hash | null
}

// The results without data, shared (they are read, never changed).
const ADDED: AddVoteResult = { kind: "added" }
const DUPLICATE: AddVoteResult = { kind: "duplicate" }

const NO_EQUIVOCATORS: ReadonlySet<Address> = new Set()

// Tally key for nil votes; cannot collide with a 0x-hex hash.
const NIL = "nil"
const key = (hash: Hash | null): string => hash ?? NIL

export class VoteSet {
  readonly height: number
  readonly round: number
  readonly type: VoteType
  readonly validators: ValidatorSet
  /** Different block hashes counted per validator (its first vote plus conflicting ones). */
  readonly maxHashesPerValidator: number
  /**
   * Each validator's counted vote by its index in the set: the vote itself, or all of them (its first
   * one first) once it signed a second, conflicting one. (No array per vote: a node counts ≈ 2n votes a
   * height, and at 1,000 validators a simulated world's million one-element arrays were its GC's work.)
   */
  readonly #votes: (Vote | Vote[] | undefined)[]
  /** How many validators voted. */
  #voters = 0
  readonly #tally = new Map<string, Amount>()
  /** Made at the first conflict (few sets ever see one). */
  #equivocators: Set<Address> | undefined
  readonly #counting: Counting
  #sum: Amount
  #crossings = 0
  #majority: Majority | undefined

  constructor(height: number, round: number, type: VoteType, validators: ValidatorSet, maxHashesPerValidator = 4) {
    this.height = height
    this.round = round
    this.type = type
    this.validators = validators
    this.maxHashesPerValidator = maxHashesPerValidator
    this.#votes = new Array<Vote | Vote[] | undefined>(validators.size).fill(undefined)
    this.#counting = validators.counting
    this.#sum = this.#counting.zero
  }

  /**
   * How many times an `add` took the "any kind" total or one hash's tally from below +2/3 of the
   * power to +2/3 (a `remove` can take them back down; a later add that crosses again counts again).
   */
  get crossings(): number {
    return this.#crossings
  }

  /** Count a vote whose signature the caller has verified. */
  add(vote: Vote): AddVoteResult {
    return this.addAt(vote, this.validators.indexOf(vote.validator))
  }

  /** `add`, when the caller has looked up the voter's index in the set (-1: not a validator). */
  addAt(vote: Vote, index: number): AddVoteResult {
    if (vote.height !== this.height || vote.round !== this.round || vote.type !== this.type) {
      return { kind: "rejected", reason: `vote is for ${vote.height}/${vote.round}/${vote.type}, this set is ${this.height}/${this.round}/${this.type}` }
    }
    if (index < 0) return { kind: "rejected", reason: `${vote.validator} is not a validator at height ${this.height}` }
    const power = this.#counting.powers[index]!
    const counted = this.#votes[index]
    if (counted === undefined) {
      this.#votes[index] = vote
      this.#voters++
      const quorum = this.#counting.quorum
      const sum = plus(this.#sum, power)
      const crossed = this.#sum < quorum && sum >= quorum
      this.#sum = sum
      if (this.#count(vote.blockHash, power) || crossed) this.#crossings++
      return ADDED
    }
    if (!Array.isArray(counted) && counted.blockHash === vote.blockHash) return DUPLICATE
    const earlier = Array.isArray(counted) ? counted : [counted]
    if (earlier.some((v) => v.blockHash === vote.blockHash)) return DUPLICATE
    this.#equivocators ??= new Set()
    const first = !this.#equivocators.has(vote.validator)
    this.#equivocators.add(vote.validator)
    if (earlier.length < this.maxHashesPerValidator) {
      earlier.push(vote)
      this.#votes[index] = earlier
      if (this.#count(vote.blockHash, power)) this.#crossings++
    }
    return { kind: "conflict", evidence: duplicateVoteEvidence(earlier[0]!, vote), first }
  }

  /** Adds `power` to `hash`'s tally; whether the tally crossed +2/3. */
  #count(hash: Hash | null, power: Amount): boolean {
    const k = key(hash)
    const before = this.#tally.get(k) ?? this.#counting.zero
    const tally = plus(before, power)
    this.#tally.set(k, tally)
    const quorum = this.#counting.quorum
    if (this.#majority === undefined && tally >= quorum) this.#majority = { blockHash: hash }
    return before < quorum && tally >= quorum
  }

  /**
   * Forget a validator's votes (the tallies go down). Used only to bound the memory a validator
   * can claim with votes for far-future rounds (see HeightVoteSet); returns whether it had any.
   */
  remove(validator: Address): boolean {
    const index = this.validators.indexOf(validator)
    const counted = index < 0 ? undefined : this.#votes[index]
    if (counted === undefined) return false
    const votes = Array.isArray(counted) ? counted : [counted]
    const power = this.#counting.powers[index]!
    this.#votes[index] = undefined
    this.#voters--
    this.#sum = minus(this.#sum, power)
    for (const vote of votes) {
      const k = key(vote.blockHash)
      const tally = minus(this.#tally.get(k) ?? this.#counting.zero, power)
      if (tally === this.#counting.zero) this.#tally.delete(k)
      else this.#tally.set(k, tally)
    }
    if (this.#majority !== undefined && !this.quorumFor(this.#majority.blockHash)) {
      this.#majority = undefined
      for (const [k, tally] of this.#tally) if (tally >= this.#counting.quorum) this.#majority = { blockHash: k === NIL ? null : k }
    }
    return true
  }

  /** The first vote of `validator` seen here, if any. */
  get(validator: Address): Vote | undefined {
    const index = this.validators.indexOf(validator)
    const counted = index < 0 ? undefined : this.#votes[index]
    return Array.isArray(counted) ? counted[0] : counted
  }

  /** Number of validators that voted. */
  get size(): number {
    return this.#voters
  }

  /** Total power of the validators that voted (each once, whatever it voted). */
  get sum(): bigint {
    return amountOf(this.#sum)
  }

  /** Power of the validators that voted for `hash` (null: nil). */
  power(hash: Hash | null): bigint {
    return amountOf(this.#tally.get(key(hash)) ?? this.#counting.zero)
  }

  /** +2/3 of the power voted, for anything ("2f+1 ⟨VOTE, h, r, ∗⟩"). */
  hasQuorumAny(): boolean {
    return this.#sum >= this.#counting.quorum
  }

  /** +2/3 of the power voted for `hash` (null: nil). */
  quorumFor(hash: Hash | null): boolean {
    return (this.#tally.get(key(hash)) ?? this.#counting.zero) >= this.#counting.quorum
  }

  /** The first hash seen to reach +2/3 of the power, if any (with less than 1/3 faulty, the only one). */
  majority(): Majority | undefined {
    return this.#majority
  }

  /** +1/3 of the power voted: at least one honest validator is in this round. */
  hasFPlusOne(): boolean {
    return this.#sum >= this.#counting.fPlusOne
  }

  /** Validators seen signing two different votes here. */
  equivocators(): ReadonlySet<Address> {
    return this.#equivocators ?? NO_EQUIVOCATORS
  }

  /** The votes for `hash` (null: nil), one per validator, in validator-set order: a commit certificate's precommits. */
  votesFor(hash: Hash | null): Vote[] {
    const out: Vote[] = []
    for (const counted of this.#votes) {
      if (counted === undefined) continue
      const vote = Array.isArray(counted) ? counted.find((x) => x.blockHash === hash) : counted.blockHash === hash ? counted : undefined
      if (vote !== undefined) out.push(vote)
    }
    return out
  }

  /** Every counted vote (conflicting ones included), by validator in set order (a validator's first vote first). */
  votes(): Vote[] {
    const out: Vote[] = []
    for (const counted of this.#votes) {
      if (counted === undefined) continue
      if (Array.isArray(counted)) out.push(...counted)
      else out.push(counted)
    }
    return out
  }
}
