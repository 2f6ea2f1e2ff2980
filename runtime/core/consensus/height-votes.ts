/**
 * All votes of one height, by round: the vote store one consensus actor keeps for its current height.
 *
 * Besides the per-round {@link VoteSet}s it answers, in O(1), the two questions that span rounds:
 *  - round skip (Algorithm 1, line 55): the highest round above ours in which validators with more
 *    than 1/3 of the power sent something (a prevote, a precommit or a proposal);
 *  - decision (line 49): the rounds in which a block hash has +2/3 precommits.
 *
 * Memory is bounded against byzantine validators, which could sign votes for any number of future
 * rounds: each validator may hold votes in at most `maxFutureRounds` rounds above the current one.
 * A vote for a further, higher round evicts that validator's votes from its lowest future round
 * (honest validators only move forward, so their newest rounds are the useful ones); a vote for a
 * lower one is refused. Rounds at or below the current round are never evicted. (CometBFT bounds
 * the same thing per peer with its "catch-up rounds".)
 */
import { minus, plus, type Amount, type ValidatorSet } from "./validator-set.ts"
import { type AddVoteResult, VoteSet } from "./votes.ts"
import type { Address, Hash, Vote } from "./types.ts"

/** The votes of one round. */
interface RoundVotes {
  readonly prevotes: VoteSet
  readonly precommits: VoteSet
  /** Validators that sent anything in this round (1 by index in the set), and their total power. */
  readonly active: Uint8Array
  activePower: Amount
  proposer: Address | undefined
}

export interface HeightVoteSetOptions {
  /** Future rounds (above the current one) a validator may hold votes in; default 2. */
  readonly maxFutureRounds?: number
}

export class HeightVoteSet {
  readonly height: number
  readonly validators: ValidatorSet
  readonly maxFutureRounds: number
  #round = 0
  readonly #rounds = new Map<number, RoundVotes>()
  /** Per validator, the rounds above `#round` it holds votes in, ascending (pruned lazily). */
  readonly #future = new Map<Address, number[]>()
  /** Rounds with a non-nil precommit majority, and its hash. */
  readonly #decisions = new Map<number, Hash>()
  #skipRound = -1
  #thresholds = 0

  constructor(height: number, validators: ValidatorSet, options: HeightVoteSetOptions = {}) {
    this.height = height
    this.validators = validators
    this.maxFutureRounds = options.maxFutureRounds ?? 2
  }

  /** The current round of the owner (votes at or below it are never evicted). */
  get round(): number {
    return this.#round
  }

  /** Move the current round (never backwards). */
  setRound(round: number): void {
    if (round > this.#round) this.#round = round
  }

  /**
   * How many times a vote crossed a threshold that a consensus guard reads: +2/3 of the power for
   * anything or for one hash (nil included) in a (round, type), or +1/3 of the power active in a
   * round above the current one. Only `add` moves it (an eviction only lowers tallies). A node that
   * counts votes here itself (`intake.ts`) tells its machine only when it moved: any other vote
   * leaves every guard's answer as it was.
   */
  get thresholds(): number {
    return this.#thresholds
  }

  /** Count a vote of this height whose signature the caller has verified. */
  add(vote: Vote): AddVoteResult {
    if (vote.height !== this.height) return { kind: "rejected", reason: `vote is for height ${vote.height}, not ${this.height}` }
    if (!Number.isSafeInteger(vote.round) || vote.round < 0) return { kind: "rejected", reason: `bad round ${vote.round}` }
    return this.#addAt(vote, this.validators.indexOf(vote.validator))
  }

  /**
   * Count `votes[start]`, `votes[start + 1]`, … (verified, as for `add`) one at a time, exactly as that
   * many calls of `add` would, and stop after the first vote that moved `thresholds` or was a conflict:
   * what a caller that tells its machine of those (intake.ts) must act on before the next vote counts.
   * A vote of another height is not counted: the run stops before it. Returns the result of the vote
   * it stopped after (undefined: none) and where the votes not yet counted start. For a certificate's
   * ≈ 2n/3 votes this is one call per threshold instead of a call chain per vote, and the voters'
   * positions in the set of a frozen list (a certificate's) are looked up once per list and set
   * (`ValidatorSet.positions`), shared by every replica of a simulated world that counts it.
   */
  addRun(votes: readonly Vote[], start: number): { readonly result: AddVoteResult | undefined; readonly next: number } {
    // Only a frozen list's positions are remembered; another's are looked up vote by vote, as `add` does.
    const positions = Object.isFrozen(votes) ? this.validators.positions(votes) : undefined
    const before = this.#thresholds
    for (let i = start; i < votes.length; i++) {
      const vote = votes[i]!
      if (vote.height !== this.height) return { result: undefined, next: i }
      const result = !Number.isSafeInteger(vote.round) || vote.round < 0 ? this.add(vote)
        : this.#addAt(vote, positions === undefined ? this.validators.indexOf(vote.validator) : positions[i]!)
      if (result.kind === "conflict" || this.#thresholds !== before) return { result, next: i + 1 }
    }
    return { result: undefined, next: votes.length }
  }

  /** `add` of a vote of this height and a valid round whose voter is at `index` in the set (-1: none). */
  #addAt(vote: Vote, index: number): AddVoteResult {
    if (index < 0) return { kind: "rejected", reason: `${vote.validator} is not a validator at height ${this.height}` }
    if (vote.round > this.#round && !this.#admitFuture(vote.validator, vote.round)) {
      return { kind: "rejected", reason: `${vote.validator} already holds votes in ${this.maxFutureRounds} higher future rounds` }
    }
    const rv = this.#roundVotes(vote.round)
    const set = vote.type === "prevote" ? rv.prevotes : rv.precommits
    const crossings = set.crossings
    const result = set.addAt(vote, index)
    if (set.crossings !== crossings) this.#thresholds++
    if (result.kind === "added") this.#markActive(vote.round, rv, index)
    // An equivocator's second vote counts for its own hash too, so it can complete a majority.
    if (result.kind === "added" || result.kind === "conflict") {
      const majority = set.majority()
      if (vote.type === "precommit" && majority !== undefined && majority.blockHash !== null) {
        this.#decisions.set(vote.round, majority.blockHash)
      }
    }
    return result
  }

  /** Record that `proposer` sent the proposal of `round` (a message of that round for the skip rule). */
  markProposer(round: number, proposer: Address): void {
    const index = this.validators.indexOf(proposer)
    if (index < 0) return
    const rv = this.#roundVotes(round)
    rv.proposer = proposer
    this.#markActive(round, rv, index)
  }

  prevotes(round: number): VoteSet | undefined {
    return this.#rounds.get(round)?.prevotes
  }

  precommits(round: number): VoteSet | undefined {
    return this.#rounds.get(round)?.precommits
  }

  /** The highest round in which validators with more than 1/3 of the power sent something; -1 if none. */
  highestFPlusOneRound(): number {
    return this.#skipRound
  }

  /** Rounds in which some block hash has +2/3 precommits, with that hash. */
  precommitMajorities(): ReadonlyMap<number, Hash> {
    return this.#decisions
  }

  /** Validators that sent something (a vote, or a proposal) in some round above `round`. */
  activeAbove(round: number): Set<Address> {
    const out = new Set<Address>()
    const validators = this.validators.validators
    for (const [r, rv] of this.#rounds) if (r > round) rv.active.forEach((on, i) => on === 1 && out.add(validators[i]!.address))
    return out
  }

  /** Rounds that hold any vote, ascending. */
  rounds(): number[] {
    return [...this.#rounds.keys()].sort((a, b) => a - b)
  }

  #roundVotes(round: number): RoundVotes {
    let rv = this.#rounds.get(round)
    if (rv === undefined) {
      rv = {
        prevotes: new VoteSet(this.height, round, "prevote", this.validators),
        precommits: new VoteSet(this.height, round, "precommit", this.validators),
        active: new Uint8Array(this.validators.size),
        activePower: this.validators.counting.zero,
        proposer: undefined,
      }
      this.#rounds.set(round, rv)
    }
    return rv
  }

  #markActive(round: number, rv: RoundVotes, index: number): void {
    if (rv.active[index] === 1) return
    rv.active[index] = 1
    rv.activePower = plus(rv.activePower, this.validators.counting.powers[index]!)
    if (round > this.#skipRound && rv.activePower >= this.validators.counting.fPlusOne) {
      this.#skipRound = round
      if (round > this.#round) this.#thresholds++
    }
  }

  /** May `validator` hold votes in future round `round`? Evicts its lowest future round if needed. */
  #admitFuture(validator: Address, round: number): boolean {
    let list = this.#future.get(validator)
    if (list === undefined) {
      list = []
      this.#future.set(validator, list)
    }
    while (list.length > 0 && list[0]! <= this.#round) list.shift() // now protected
    if (list.includes(round)) return true
    if (list.length >= this.maxFutureRounds) {
      const lowest = list[0]!
      if (round < lowest) return false
      list.shift()
      this.#evict(validator, lowest)
    }
    list.push(round)
    list.sort((a, b) => a - b)
    return true
  }

  #evict(validator: Address, round: number): void {
    const rv = this.#rounds.get(round)
    if (rv === undefined) return
    rv.prevotes.remove(validator)
    rv.precommits.remove(validator)
    const majority = rv.precommits.majority()
    if (majority === undefined || majority.blockHash === null) this.#decisions.delete(round)
    const index = this.validators.indexOf(validator)
    if (rv.proposer !== validator && index >= 0 && rv.active[index] === 1) {
      rv.active[index] = 0
      rv.activePower = minus(rv.activePower, this.validators.counting.powers[index]!)
      if (round === this.#skipRound) this.#skipRound = this.#recomputeSkipRound()
    }
  }

  #recomputeSkipRound(): number {
    let best = -1
    for (const [round, rv] of this.#rounds) if (round > best && rv.activePower >= this.validators.counting.fPlusOne) best = round
    return best
  }
}
