/**
 * The training feature's records, as the App replicates them:
 *  - contribution scores, committed in one epoch and revealed (matching the commitment) in the next;
 *  - training-round results (model hash, accuracy, participants, a commitment to their scores), in
 *    increasing round order, and each round's scores, revealed once by its coordinator in a later
 *    block and summed by account in the epoch the result was committed in;
 *  - the contributors' pot: emission set aside for contributors and not paid yet (the tokens stay in
 *    the reward reserve's balance in the economy; this only earmarks them).
 * Both kinds of scores count in the voting power of the validator set two epochs on (`contribution`).
 * Every refusal is a sentence, recorded in the app hash as the failed transaction's error: changing
 * one changes every trace hash.
 */
import { roundScoresCommitment, scoreCommitment } from "./txs.ts"

/** A training round's result as committed. */
export interface RoundRecord {
  readonly round: number
  readonly modelHash: string
  /** Millionths. */
  readonly accuracy: number
  /** Test loss of the aggregate, millionths (when the coordinator reported it). */
  readonly loss: number | undefined
  readonly participants: readonly string[]
  readonly coordinator: string
  readonly height: number
  readonly epoch: number
  readonly scoresCommitment: string
  /** Revealed scores by account, once the reveal is executed. */
  readonly scores: ReadonlyMap<string, number> | undefined
}

/** A round result every replica found provably false (round-attestation.ts): never a round, its coordinator earns nothing for it. */
export interface ForgedRound {
  readonly round: number
  readonly coordinator: string
  readonly height: number
  readonly reason: string
}

/** One account's score in a round. */
export interface RoundScore {
  readonly account: string
  readonly score: number
}

export class TrainingLedger {
  readonly #commitments = new Map<number, Map<string, string>>()
  readonly #scores = new Map<number, Map<string, number>>()
  readonly #rounds = new Map<number, RoundRecord>()
  readonly #roundScores = new Map<number, Map<string, number>>()
  readonly #forged: ForgedRound[] = []
  #lastRound = -1
  #pot = 0n

  /** Record `account`'s score commitment for `epoch`; why not, if refused (one per account and epoch). */
  commitScore(epoch: number, account: string, commitment: string): string | undefined {
    const commits = this.#commitments.get(epoch) ?? new Map<string, string>()
    if (commits.has(account)) return `${account} already committed a score for epoch ${epoch}`
    this.#commitments.set(epoch, commits.set(account, commitment))
    return undefined
  }

  /** Record `account`'s revealed score for `epoch`; why not, if it committed none, it does not match, or it was revealed already. */
  revealScore(epoch: number, account: string, score: number, salt: string): string | undefined {
    const commitment = this.#commitments.get(epoch)?.get(account)
    if (commitment === undefined) return `${account} committed no score for epoch ${epoch}`
    if (scoreCommitment(epoch, score, salt) !== commitment) return `the reveal of ${account} does not match its commitment for epoch ${epoch}`
    const scores = this.#scores.get(epoch) ?? new Map<string, number>()
    if (scores.has(account)) return `${account} already revealed for epoch ${epoch}`
    this.#scores.set(epoch, scores.set(account, score))
    return undefined
  }

  /** Revealed contribution scores of an epoch, by account. */
  scores(epoch: number): ReadonlyMap<string, number> {
    return this.#scores.get(epoch) ?? new Map()
  }

  /** Record a round's result (without scores); why not, if it is not after the last round or lists a participant twice. */
  recordRound(record: Omit<RoundRecord, "scores">): string | undefined {
    if (record.round <= this.#lastRound) return `round ${record.round} is not after the last committed round ${this.#lastRound}`
    if (new Set(record.participants).size !== record.participants.length) return `round ${record.round} lists a participant twice`
    this.#lastRound = record.round
    this.#rounds.set(record.round, { ...record, participants: [...record.participants], scores: undefined })
    return undefined
  }

  /**
   * Record the scores of `round`, revealed by `account` at `height`, and add them to the sums of the
   * round's epoch; why not, unless its coordinator reveals them once, in a later block, matching the
   * commitment, each participant at most once and nobody else.
   */
  revealRoundScores(round: number, account: string, height: number, scores: readonly RoundScore[], salt: string): string | undefined {
    const r = this.#rounds.get(round)
    if (r === undefined) return `round ${round} has no committed result`
    if (r.coordinator !== account) return `the scores of round ${round} are revealed by its coordinator ${r.coordinator}, not ${account}`
    if (r.height >= height) return `the scores of round ${round} are revealed in a block after its result`
    if (r.scores !== undefined) return `the scores of round ${round} were revealed already`
    if (roundScoresCommitment(round, scores, salt) !== r.scoresCommitment) return `the scores of round ${round} do not match its commitment`
    const seen = new Set<string>()
    for (const x of scores) {
      if (!r.participants.includes(x.account)) return `${x.account} did not take part in round ${round}`
      if (seen.has(x.account)) return `${x.account} is scored twice in round ${round}`
      seen.add(x.account)
    }
    const sums = this.#roundScores.get(r.epoch) ?? new Map<string, number>()
    for (const x of scores) sums.set(x.account, (sums.get(x.account) ?? 0) + x.score)
    this.#roundScores.set(r.epoch, sums)
    this.#rounds.set(round, { ...r, scores: new Map(scores.map((x) => [x.account, x.score])) })
    return undefined
  }

  /**
   * Record a provably false round result. It takes no round number (an honest coordinator may still
   * commit that round) and is never scored or paid: `revealRoundScores` finds no result for it.
   */
  recordForged(forged: ForgedRound): void {
    this.#forged.push(forged)
  }

  /** Provably false round results, in the order they were executed. */
  forged(): readonly ForgedRound[] {
    return this.#forged
  }

  /** Training-round results, by round. */
  rounds(): ReadonlyMap<number, RoundRecord> {
    return this.#rounds
  }

  /** The last round with a committed result (-1 before any). */
  get lastRound(): number {
    return this.#lastRound
  }

  /** Revealed training-round scores of an epoch, summed by account. */
  roundScores(epoch: number): ReadonlyMap<string, number> {
    return this.#roundScores.get(epoch) ?? new Map()
  }

  /** What `account` contributed in `epoch`: its revealed score plus its round scores (0 if none). */
  contribution(epoch: number, account: string): number {
    return (this.#scores.get(epoch)?.get(account) ?? 0) + (this.#roundScores.get(epoch)?.get(account) ?? 0)
  }

  /** Emission set aside for contributors, not yet paid by a round's revealed scores (base units). */
  get contributorPot(): bigint {
    return this.#pot
  }

  /** Earmark `amount` more of the reserve for contributors. */
  setAside(amount: bigint): void {
    if (amount < 0n) throw new RangeError(`cannot set aside a negative amount (${amount})`)
    this.#pot += amount
  }

  /** `amount` of the pot was paid out. */
  paidOut(amount: bigint): void {
    if (amount < 0n || amount > this.#pot) throw new RangeError(`cannot pay ${amount} out of a pot of ${this.#pot}`)
    this.#pot -= amount
  }
}
