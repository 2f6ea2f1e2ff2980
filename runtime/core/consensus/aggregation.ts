/**
 * Vote aggregation: O(n) messages per consensus step instead of n².
 *
 * In the gossip protocol every validator publishes each vote to every other: n² deliveries per step.
 * With aggregation a validator sends its vote to one node, the round's **aggregator** (the round's
 * proposer), which publishes the votes it collected as certificates (codec.ts `certificate`: the
 * signers of one (type, height, round, blockHash), each with its own signature) once the signers
 * hold +2/3 of the power (of any kind), and later-arriving votes in one follow-up batch: ≈ 2n
 * deliveries per step. Receivers verify every signature of a certificate and count each vote as a
 * received vote, so the machine still applies every Tendermint rule to individual votes; a
 * certificate carries nothing the votes themselves do not.
 *
 * Why the proposer: a faulty proposer already costs its round (it can withhold or spoil its
 * proposal), so choosing it adds no new way for a faulty node to cost a round. A node that has not
 * received the round's proposal does not know where to send (no peer is learned for the proposer):
 * it publishes its vote to all, as in the gossip protocol. A voter that has not counted +2/3 of its
 * step's votes a while after voting (an aggregator that withholds certificates, or sends them to
 * some only) publishes its vote to all too: a faulty aggregator costs time, never safety or
 * liveness. Double signing stays visible: an equivocator's two votes reach the aggregator, whose
 * own machine reports them, and go into two certificates that every receiver counts.
 *
 * This file is the aggregator's pool, pure; the node (runtime/actors/consensus) and the machine's
 * test harness (sim/harness/consensus.ts) do the sending and the timers.
 */
import type { VoteCertificate } from "./codec.ts"
import type { ValidatorSet } from "./validator-set.ts"
import type { Address, Hash, Vote, VoteType } from "./types.ts"

/** How votes travel: to the round's aggregator (certificates back), or from every node to every node. */
export type VoteRouting = "aggregated" | "gossip"

/** Most distinct block hashes pooled per validator and (round, type), as VoteSet counts. */
const MAX_HASHES_PER_VALIDATOR = 4

interface Slot {
  /** Signers' power, each validator once. */
  power: bigint
  readonly byValidator: Map<Address, Hash[]>
  /** Votes not yet published, in arrival order. */
  unsent: Vote[]
  /** The first batch went out (the signers held +2/3). */
  opened: boolean
}

/** The votes an aggregator collected at one height, per (round, type). */
export class VotePool {
  readonly height: number
  readonly validators: ValidatorSet
  readonly #slots = new Map<string, Slot>()

  constructor(height: number, validators: ValidatorSet) {
    this.height = height
    this.validators = validators
  }

  #slot(round: number, type: VoteType): Slot {
    const k = `${round}/${type}`
    let s = this.#slots.get(k)
    if (s === undefined) this.#slots.set(k, (s = { power: 0n, byValidator: new Map(), unsent: [], opened: false }))
    return s
  }

  /**
   * Pool a verified vote of this height; false if it is not new (already pooled, not a validator of
   * the set, another height, or a validator's fifth different hash in the slot).
   */
  add(vote: Vote): boolean {
    if (vote.height !== this.height) return false
    const power = this.validators.power(vote.validator)
    if (power === 0n) return false
    const s = this.#slot(vote.round, vote.type)
    const hashes = s.byValidator.get(vote.validator)
    const hash = vote.blockHash ?? "nil"
    if (hashes === undefined) {
      s.byValidator.set(vote.validator, [hash])
      s.power += power
    } else {
      if (hashes.includes(hash) || hashes.length >= MAX_HASHES_PER_VALIDATOR) return false
      hashes.push(hash)
    }
    s.unsent.push(vote)
    return true
  }

  /**
   * What to publish now for (round, type): nothing before the signers hold +2/3 of the power; then
   * every pooled vote not yet published, one certificate per block hash (nil included). `opened`
   * tells whether the first batch went out earlier (later ones are follow-ups).
   */
  take(round: number, type: VoteType): { readonly certificates: VoteCertificate[]; readonly followUp: boolean } {
    const s = this.#slots.get(`${round}/${type}`)
    if (s === undefined || s.unsent.length === 0 || s.power < this.validators.quorum) return { certificates: [], followUp: false }
    const followUp = s.opened
    s.opened = true
    const byHash = new Map<string, Vote[]>()
    for (const v of s.unsent) {
      const k = v.blockHash ?? "nil"
      const list = byHash.get(k)
      if (list === undefined) byHash.set(k, [v])
      else list.push(v)
    }
    s.unsent = []
    const certificates = [...byHash.values()].map((votes): VoteCertificate => ({
      kind: "certificate", type, height: this.height, round, blockHash: votes[0]!.blockHash,
      signers: votes.map((v) => ({ validator: v.validator, signature: v.signature })),
    }))
    return { certificates, followUp }
  }

  /** Whether the first batch of (round, type) went out. */
  opened(round: number, type: VoteType): boolean {
    return this.#slots.get(`${round}/${type}`)?.opened ?? false
  }
}
