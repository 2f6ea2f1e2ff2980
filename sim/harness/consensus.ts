/**
 * Test support for the consensus machine (imported only by consensus*.test.ts; not part of the
 * node): N consensus actors on ONE simulator scheduler, each with its own SimClock, around a small
 * stand-in for the node that the real runtime/node will provide.
 *
 * The stand-in node signs with a key derived from the seed, keeps a slashing-protection record,
 * verifies signatures (once per distinct message, cached across nodes: every node would reach the
 * same verdict), gossips (relays every new message to every peer, and every `gossipInterval`
 * re-sends every message it holds of its current height, its own and others', as a gossip layer
 * does for peers that missed them: "what one correct node received, every correct node receives"),
 * announces its height (an unsigned status ping, at each new height and with the gossip) so that a
 * peer that has decided that height answers with its commit certificate, and starts the next
 * height after each decision. The network delivers with a latency drawn from the seeded Prng,
 * and until `healAt` it may lose messages at random and cut a partition.
 *
 * Byzantine nodes run the same machine behind a wrapper that equivocates: as proposer it makes two
 * different blocks and sends one to each half of the network; as voter it sends each half a
 * different vote for the same (height, round, type) — the other twin block, nil, or a block nobody
 * has. Byzantine nodes collude: they learn each other's twin blocks.
 *
 * With `votes: "aggregated"` (core/consensus/aggregation.ts, as the real node does) a node that
 * received the round's proposal sends its vote to the round's proposer only, which publishes
 * certificates once it holds +2/3 of the power (and stragglers in one batch after a short wait);
 * a voter that has not counted +2/3 of its step `aggregationFallback` after voting publishes its
 * vote to all. Votes and certificates are then not relayed by receivers (the periodic gossip still
 * re-sends what each node holds). A byzantine voter sends both twin votes to the aggregator; a
 * byzantine aggregator sends its certificates to one half only; a `withholding` node is honest but,
 * as aggregator, never publishes a certificate.
 */
import { createActor, type Actor } from "xstate"
import { Prng, Scheduler, SimClock } from "../kernel/index.ts"
import { addressOfPrivateKey, keccak256, toHex, utf8ToBytes } from "../../runtime/core/crypto.ts"
import { blockHash } from "../../runtime/core/consensus/block.ts"
import { signProposal, signVote, verifyProposal, verifyVote } from "../../runtime/core/consensus/signing.ts"
import { ValidatorSet } from "../../runtime/core/consensus/validator-set.ts"
import { type Block, type DuplicateVoteEvidence, type Hash, type Proposal, type Vote, ZERO_HASH } from "../../runtime/core/consensus/types.ts"
import type { ConsensusMessage } from "../../runtime/core/consensus/codec.ts"
import { voteEvent } from "../../runtime/core/consensus/intake.ts"
import { certificateVotes } from "../../runtime/core/consensus/codec.ts"
import { VotePool, type VoteRouting } from "../../runtime/core/consensus/aggregation.ts"
import { proposer } from "../../runtime/core/consensus/proposer.ts"
import { consensusMachine, type ConsensusEvent, type ConsensusTimeouts, type DecideParams, type BroadcastVoteParams, type ProposeParams } from "../../runtime/machines/consensus.ts"

export const CHAIN_ID = 31337

export const TEST_TIMEOUTS: ConsensusTimeouts = { propose: 200, prevote: 100, precommit: 100, delta: 50, commit: 50 }

export interface NetOptions {
  readonly seed: number
  /** Voting power of each validator (their number is the length). */
  readonly powers: readonly bigint[]
  readonly latency?: { readonly min: number; readonly max: number }
  /** Until this virtual time, messages may be lost and the partition holds; default 0 (never). */
  readonly healAt?: number
  /** Chance (num/den) that a message is lost before `healAt`. */
  readonly drop?: { readonly num: number; readonly den: number }
  /** Groups of node indices that cannot reach each other before `healAt`. */
  readonly partition?: readonly (readonly number[])[]
  /** Indices of equivocating validators. */
  readonly byzantine?: readonly number[]
  /** Indices of validators that send nothing at all. */
  readonly silent?: readonly number[]
  readonly timeouts?: ConsensusTimeouts
  readonly gossipInterval?: number
  /** Optional validator set for heights at or after `at` (same keys, new powers). */
  readonly nextSet?: { readonly at: number; readonly powers: readonly bigint[] }
  /**
   * Votes are counted by the node and the machine hears only of crossed thresholds
   * (core/consensus/intake.ts), as the real node does; false: one `vote.received` per vote. Default true.
   */
  readonly thresholdEvents?: boolean
  /** How votes travel (see the module doc); default "gossip". */
  readonly votes?: VoteRouting
  /** Aggregated votes: indices of (otherwise honest) nodes that never publish the certificates they aggregate. */
  readonly withholding?: readonly number[]
  /** Aggregated votes: a voter without +2/3 of its step this long after voting publishes its vote to all (default: timeouts.prevote). */
  readonly aggregationFallback?: number
}

/** What the harness's network carries: consensus messages, and a node's "I am at height h". */
type NetMessage = ConsensusMessage | { readonly kind: "status"; readonly height: number; readonly from: number }

interface Sent {
  readonly msg: ConsensusMessage
  readonly to: readonly number[]
}

const heightOf = (m: NetMessage): number =>
  m.kind === "vote" ? m.vote.height : m.kind === "proposal" ? m.proposal.height : m.kind === "commit" ? m.block.height : m.height

const idOf = (m: ConsensusMessage): string =>
  m.kind === "vote" ? m.vote.signature
  : m.kind === "proposal" ? m.proposal.signature
  : m.kind === "certificate" ? `cert:${m.signers.map((x) => x.signature).join("")}`
  : `commit:${m.block.height}:${blockHash(m.block)}`

/** One node: a consensus actor and the stand-in node around it. */
export class SimNode {
  readonly index: number
  readonly name: string
  readonly key: Uint8Array
  readonly address: string
  readonly byzantine: boolean
  readonly silent: boolean
  actor!: Actor<typeof consensusMachine>
  /** The height this node works on: the last decided height + 1. */
  height = 1
  /** Decided blocks with their certificates, by height. */
  readonly chain = new Map<number, { readonly block: Block; readonly precommits: readonly Vote[] }>()
  readonly evidence: DuplicateVoteEvidence[] = []
  readonly seen = new Map<number, Set<string>>()
  /** Messages of recent heights this node holds (its own, and others' it verified), for re-gossip. */
  readonly held = new Map<number, Sent[]>()
  /** Slashing protection: (height/round/type) → the hash signed. */
  readonly signed = new Map<string, Hash | null>()
  readonly lastCatchUp = new Map<string, number>()
  /** The first vote this node saw per "validator/round/type", by height (SimNet.exposed). */
  readonly witnessed = new Map<number, Map<string, Hash | null>>()
  /** Proposals of the next height, held until this node has committed their parent and can judge them. */
  pending: Proposal[] = []
  /** Aggregated votes: never publishes a certificate. */
  withholding = false
  /** Aggregated votes: the votes this node aggregates at its height, and follow-ups waiting (by "round/type"). */
  pool: VotePool | undefined
  readonly followUps = new Set<string>()
  /** Aggregated votes: "height/round" of the proposals received (this node knows where those rounds' votes go). */
  readonly proposalsSeen = new Set<string>()

  constructor(index: number, seed: number, byzantine: boolean, silent: boolean) {
    this.index = index
    this.name = `v${index}`
    this.key = keccak256(utf8ToBytes(`dai/test-key/${seed}/${this.name}`))
    this.address = addressOfPrivateKey(this.key)
    this.byzantine = byzantine
    this.silent = silent
  }

  get honest(): boolean {
    return !this.byzantine
  }

  /** Highest decided height (0 if none). */
  get decidedHeight(): number {
    return this.height - 1
  }
}

export class SimNet {
  readonly scheduler = new Scheduler(0)
  readonly nodes: SimNode[]
  readonly sets: { readonly first: ValidatorSet; readonly next?: { readonly at: number; readonly set: ValidatorSet } }
  /** The first block any honest node decided at each height. */
  readonly decided = new Map<number, Hash>()
  readonly safetyViolations: string[] = []
  /** Validators some honest node reported evidence against. */
  readonly accused = new Set<string>()
  /**
   * Validators whose two conflicting votes for one (height, round, type) both reached one honest
   * node that speaks (not silent) and were handed to its machine: the equivocations that node's
   * consensus could prove. An equivocation whose twin only ever reached silent or byzantine nodes
   * is invisible to the honest nodes that speak, and cannot be reported.
   */
  readonly exposed = new Set<string>()
  readonly options: NetOptions
  readonly #prng: Prng
  readonly #verified = new Map<string, boolean>()
  /** Twin blocks of byzantine proposers, by "height/round" (shared: they collude). */
  readonly #twins = new Map<string, readonly [Hash, Hash]>()
  messages = 0
  /** Events sent to the machines (all nodes): what threshold events save. */
  machineEvents = 0

  constructor(options: NetOptions) {
    this.options = options
    this.#prng = Prng.fromSeed(options.seed).child("net")
    const byz = new Set(options.byzantine ?? [])
    const silent = new Set(options.silent ?? [])
    this.nodes = options.powers.map((_, i) => new SimNode(i, options.seed, byz.has(i), silent.has(i)))
    for (const i of options.withholding ?? []) this.nodes[i]!.withholding = true
    const first = ValidatorSet.from(this.nodes.map((n, i) => ({ address: n.address, power: options.powers[i]! })))
    const nx = options.nextSet
    this.sets = nx === undefined
      ? { first }
      : { first, next: { at: nx.at, set: ValidatorSet.from(this.nodes.map((n, i) => ({ address: n.address, power: nx.powers[i]! })), nx.at) } }
    for (const node of this.nodes) this.#spawn(node)
  }

  validatorsAt(height: number): ValidatorSet {
    const next = this.sets.next
    return next !== undefined && height >= next.at ? next.set : this.sets.first
  }

  /** Start every node at height 1 and the gossip timers. */
  start(): this {
    for (const node of this.nodes) {
      node.actor.start()
      this.#tell(node, { type: "height.start", height: 1, validators: this.validatorsAt(1) })
    }
    const interval = this.options.gossipInterval ?? 1000
    const gossip = () => {
      for (const node of this.nodes) {
        for (const s of node.held.get(node.height) ?? []) this.#sendTo(node, s.to, s.msg)
        this.#announce(node)
      }
      this.scheduler.after(interval, gossip, "gossip")
    }
    this.scheduler.after(interval, gossip, "gossip")
    return this
  }

  /** Run until virtual time `time`, or earlier when `until` holds. */
  run(time: number, until?: () => boolean): void {
    this.scheduler.runUntil(until === undefined ? { time } : { time, predicate: until })
  }

  #tell(node: SimNode, event: ConsensusEvent): void {
    this.machineEvents++
    node.actor.send(event)
  }

  honestNodes(): SimNode[] {
    return this.nodes.filter((n) => n.honest)
  }

  #spawn(node: SimNode): void {
    const machine = consensusMachine.provide({
      actions: {
        propose: (_, p) => this.#propose(node, p),
        broadcastVote: (_, p) => this.#vote(node, p),
        decide: (_, p) => this.#decide(node, p),
        reportEvidence: (_, p) => {
          node.evidence.push(p.evidence)
          if (node.honest) this.accused.add(p.evidence.voteA.validator)
        },
      },
    })
    node.actor = createActor(machine, {
      clock: new SimClock(this.scheduler, `timer:${node.name}`),
      input: { self: node.address, timeouts: this.options.timeouts ?? TEST_TIMEOUTS },
    })
  }

  // ── the node's side of the actions ──────────────────────────────────────────────────────────

  #propose(node: SimNode, p: ProposeParams): void {
    const parent = node.chain.get(p.height - 1)
    const make = (variant: string): Block => ({
      height: p.height,
      round: p.round,
      proposer: node.address,
      parentHash: parent === undefined ? ZERO_HASH : blockHash(parent.block),
      time: this.scheduler.now,
      txs: [{ type: "note", by: node.name, variant }, ...node.evidence.slice(0, 4).map((e) => ({ type: "evidence", voteA: e.voteA, voteB: e.voteB }))],
      appHash: ZERO_HASH,
    })
    const sign = (block: Block): Proposal =>
      signProposal(node.key, CHAIN_ID, { height: p.height, round: p.round, polRound: p.validValue === undefined ? -1 : p.validRound, block })
    const a = sign(p.validValue ?? make("a"))
    if (!node.byzantine) return this.#publish(node, { kind: "proposal", proposal: a }, this.#others(node))
    const b = sign(make("b"))
    this.#twins.set(`${p.height}/${p.round}`, [blockHash(a.block), blockHash(b.block)])
    const [even, odd] = this.#halves(node)
    this.#publish(node, { kind: "proposal", proposal: a }, even)
    this.#publish(node, { kind: "proposal", proposal: b }, odd, false)
  }

  #vote(node: SimNode, p: BroadcastVoteParams): void {
    const slot = `${p.height}/${p.round}/${p.type}`
    const before = node.signed.get(slot)
    // Slashing protection: an honest node never signs two different votes for one slot.
    if (before !== undefined && before !== p.blockHash && node.honest) throw new Error(`${node.name} asked to double-sign ${slot}`)
    node.signed.set(slot, p.blockHash)
    const vote = signVote(node.key, CHAIN_ID, p)
    if (this.options.votes === "aggregated") return this.#voteAggregated(node, p, vote)
    if (!node.byzantine) return this.#publish(node, { kind: "vote", vote }, this.#others(node))
    const twins = this.#twins.get(`${p.height}/${p.round}`)
    const other: Hash | null = twins !== undefined
      ? (p.blockHash === twins[0] ? twins[1] : twins[0])
      : p.blockHash === null ? toHex(keccak256(utf8ToBytes(`phantom/${slot}`))) : null
    const [even, odd] = this.#halves(node)
    this.#publish(node, { kind: "vote", vote }, even)
    this.#publish(node, { kind: "vote", vote: signVote(node.key, CHAIN_ID, { ...p, blockHash: other }) }, odd, false)
  }

  // ── aggregated votes ────────────────────────────────────────────────────────────────────────

  #aggregator(height: number, round: number): SimNode {
    const address = proposer(this.validatorsAt(height), height, round)
    return this.nodes.find((n) => n.address === address)!
  }

  /** A node's own vote (and a byzantine node's twin) to the round's aggregator, if it knows it; the fallback timer. */
  #voteAggregated(node: SimNode, p: BroadcastVoteParams, vote: Vote): void {
    const votes = [vote]
    if (node.byzantine) {
      const slot = `${p.height}/${p.round}/${p.type}`
      const twins = this.#twins.get(`${p.height}/${p.round}`)
      const other: Hash | null = twins !== undefined
        ? (p.blockHash === twins[0] ? twins[1] : twins[0])
        : p.blockHash === null ? toHex(keccak256(utf8ToBytes(`phantom/${slot}`))) : null
      votes.push(signVote(node.key, CHAIN_ID, { ...p, blockHash: other }))
    }
    const aggregator = this.#aggregator(p.height, p.round)
    const known = node.proposalsSeen.has(`${p.height}/${p.round}`)
    for (const [i, v] of votes.entries()) {
      const msg: ConsensusMessage = { kind: "vote", vote: v }
      // Held for the periodic gossip to all (eventual delivery), sent now to the aggregator only.
      this.#hold(node, p.height, { msg, to: this.#others(node) })
      if (i === 0) this.scheduler.after(0, () => this.#receive(node, msg), "loopback")
      if (aggregator === node) this.scheduler.after(0, () => this.#collect(node, v), "aggregate")
      else this.#sendTo(node, known ? [aggregator.index] : this.#others(node), msg)
    }
    if (aggregator === node || !known) return
    this.scheduler.after(this.options.aggregationFallback ?? (this.options.timeouts ?? TEST_TIMEOUTS).prevote, () => {
      if (node.height !== vote.height) return
      const state = node.actor.getSnapshot().context.heightState
      const set = vote.type === "prevote" ? state?.votes.prevotes(vote.round) : state?.votes.precommits(vote.round)
      if (state?.height === vote.height && set?.hasQuorumAny() === true) return
      for (const v of votes) this.#sendTo(node, this.#others(node), { kind: "vote", vote: v })
    }, "fallback")
  }

  /** The aggregator pools a vote of a round it proposes, and publishes what is ready. */
  #collect(node: SimNode, vote: Vote): void {
    // The height being decided, or (late precommits, for the next block's last-commit) the one just decided.
    if (vote.height > node.height || vote.height < node.height - 1 || this.#aggregator(vote.height, vote.round) !== node) return
    if (node.pool?.height !== vote.height) {
      if (vote.height !== node.height) return
      node.pool = new VotePool(vote.height, this.validatorsAt(vote.height))
      node.followUps.clear()
    }
    const pool = node.pool
    if (!pool.add(vote)) return
    if (!pool.opened(vote.round, vote.type)) return this.#flush(node, vote.round, vote.type)
    const k = `${vote.round}/${vote.type}`
    if (node.followUps.has(k)) return
    node.followUps.add(k)
    this.scheduler.after(Math.max(1, Math.floor((this.options.timeouts ?? TEST_TIMEOUTS).prevote / 10)), () => {
      node.followUps.delete(k)
      if (node.pool === pool) this.#flush(node, vote.round, vote.type)
    }, "follow-up")
  }

  #flush(node: SimNode, round: number, type: Vote["type"]): void {
    const { certificates } = node.pool!.take(round, type)
    if (node.withholding) return
    for (const c of certificates) {
      // A byzantine aggregator serves one half only.
      const to = node.byzantine ? this.#halves(node)[0] : this.#others(node)
      this.#hold(node, c.height, { msg: c, to })
      this.#sendTo(node, to, c)
    }
  }

  #decide(node: SimNode, d: DecideParams): void {
    const hash = blockHash(d.block)
    if (node.chain.has(d.height)) throw new Error(`${node.name} decided height ${d.height} twice`)
    node.chain.set(d.height, { block: d.block, precommits: d.precommits })
    if (node.honest) {
      const first = this.decided.get(d.height)
      if (first === undefined) this.decided.set(d.height, hash)
      else if (first !== hash) this.safetyViolations.push(`height ${d.height}: ${node.name} decided ${hash}, another node ${first}`)
    }
    node.height = d.height + 1
    const next = node.height
    this.scheduler.after(0, () => {
      this.#tell(node, { type: "height.start", height: next, validators: this.validatorsAt(next) })
      const held = node.pending.filter((p) => p.height === next)
      node.pending = node.pending.filter((p) => p.height > next)
      for (const p of held) this.#deliverProposal(node, p)
    }, "height.start")
    this.#announce(node)
    for (const h of node.seen.keys()) if (h < next - 1) node.seen.delete(h)
    for (const h of node.held.keys()) if (h < next - 1) node.held.delete(h)
    for (const h of node.witnessed.keys()) if (h < next - 1) node.witnessed.delete(h)
    for (const k of node.proposalsSeen) if (Number(k.slice(0, k.indexOf("/"))) < next) node.proposalsSeen.delete(k)
  }

  // ── the network ─────────────────────────────────────────────────────────────────────────────

  #others(node: SimNode): number[] {
    return this.nodes.filter((n) => n !== node).map((n) => n.index)
  }

  /** The two halves (by index parity, itself excluded) a byzantine node splits its messages between. */
  #halves(node: SimNode): [number[], number[]] {
    const even = this.nodes.filter((n) => n !== node && n.index % 2 === 0).map((n) => n.index)
    const odd = this.nodes.filter((n) => n !== node && n.index % 2 === 1).map((n) => n.index)
    return [even, odd]
  }

  /** Send a node's own message to `to`, remember it for re-gossip, and (if `self`) feed it back. */
  #publish(node: SimNode, msg: ConsensusMessage, to: readonly number[], self = true): void {
    const h = heightOf(msg)
    this.#hold(node, h, { msg, to })
    if (self) this.scheduler.after(0, () => this.#receive(node, msg), "loopback")
    this.#sendTo(node, to, msg)
  }

  #announce(node: SimNode): void {
    this.#sendTo(node, this.#others(node), { kind: "status", height: node.height, from: node.index })
  }

  #announceTo(node: SimNode, peer: SimNode): void {
    const key = `status/${peer.index}/${node.height}`
    const last = node.lastCatchUp.get(key)
    if (last !== undefined && this.scheduler.now - last < 200) return
    node.lastCatchUp.set(key, this.scheduler.now)
    this.#sendTo(node, [peer.index], { kind: "status", height: node.height, from: node.index })
  }

  #hold(node: SimNode, h: number, sent: Sent): void {
    let held = node.held.get(h)
    if (held === undefined) node.held.set(h, (held = []))
    held.push(sent)
  }

  #sendTo(from: SimNode, to: readonly number[], msg: NetMessage): void {
    if (from.silent) return
    for (const i of to) this.#send(from, this.nodes[i]!, msg)
  }

  #send(from: SimNode, to: SimNode, msg: NetMessage): void {
    const now = this.scheduler.now
    const { healAt = 0, drop, partition, latency = { min: 5, max: 40 } } = this.options
    if (now < healAt) {
      if (partition !== undefined && partition.findIndex((g) => g.includes(from.index)) !== partition.findIndex((g) => g.includes(to.index))) return
      if (drop !== undefined && drop.num > 0 && this.#prng.chance(drop.num, drop.den)) return
    }
    this.messages++
    this.scheduler.after(this.#prng.range(latency.min, latency.max), () => this.#receive(to, msg), "deliver")
  }

  #receive(node: SimNode, msg: NetMessage): void {
    const h = heightOf(msg)
    if (msg.kind === "status") {
      const peer = this.nodes[msg.from]!
      // A peer ahead of us: tell it where we are, so that it sends us the commit we lack.
      return h > node.height ? this.#announceTo(node, peer) : this.#helpCatchUp(node, peer, h)
    }
    if (h < node.height && msg.kind !== "commit" && msg.kind !== "certificate") {
      const author = msg.kind === "vote" ? msg.vote.validator : msg.proposal.proposer
      const peer = this.nodes.find((n) => n.address === author)
      return peer === undefined ? undefined : this.#helpCatchUp(node, peer, h)
    }
    // Further ahead than the machine can buffer, or a commit for another height: useless now, and
    // not marked as seen, so a later copy still counts.
    if (h > node.height + 1 || (msg.kind === "commit" && h !== node.height)) return
    const id = idOf(msg)
    let seen = node.seen.get(h)
    if (seen === undefined) node.seen.set(h, (seen = new Set()))
    if (seen.has(id)) return
    seen.add(id)
    if (!this.#authentic(msg)) return
    const all = this.#others(node)
    const aggregated = this.options.votes === "aggregated"
    // gossip: relay every new message (aggregated: votes and certificates go where they must already)
    if (!aggregated || (msg.kind !== "vote" && msg.kind !== "certificate")) this.#sendTo(node, all, msg)
    if (msg.kind !== "commit") this.#hold(node, h, { msg, to: all })
    if (msg.kind === "vote" || msg.kind === "certificate") {
      for (const vote of msg.kind === "vote" ? [msg.vote] : certificateVotes(msg)) {
        if (node.honest && !node.silent) this.#witness(node, vote)
        if (this.options.thresholdEvents === false) this.#tell(node, { type: "vote.received", vote })
        else {
          const event = voteEvent(node.actor.getSnapshot().context, vote)
          if (event !== undefined) this.#tell(node, event)
        }
      }
      if (aggregated && msg.kind === "vote") this.#collect(node, msg.vote)
    }
    else if (msg.kind === "proposal") {
      if (aggregated && msg.proposal.proposer === this.#aggregator(h, msg.proposal.round).address) node.proposalsSeen.add(`${h}/${msg.proposal.round}`)
      if (h === node.height) this.#deliverProposal(node, msg.proposal)
      else node.pending.push(msg.proposal)
    }
    else this.#tell(node, { type: "commit.received", block: msg.block, precommits: msg.precommits })
  }

  /** Note which vote `node` saw from a validator for a slot; a second, different one exposes the signer. */
  #witness(node: SimNode, vote: Vote): void {
    let seen = node.witnessed.get(vote.height)
    if (seen === undefined) node.witnessed.set(vote.height, (seen = new Map()))
    const slot = `${vote.validator}/${vote.round}/${vote.type}`
    const before = seen.get(slot)
    if (before === undefined) seen.set(slot, vote.blockHash)
    else if (before !== vote.blockHash) this.exposed.add(vote.validator)
  }

  /** The node's verdict on a block: the right height, on top of the block it committed before. */
  #deliverProposal(node: SimNode, p: Proposal): void {
    const parent = node.chain.get(p.height - 1)
    const parentHash = parent === undefined ? ZERO_HASH : blockHash(parent.block)
    const valid = p.block.height === p.height && p.block.parentHash === parentHash && (p.height === 1 || parent !== undefined)
    this.#tell(node, { type: "proposal.received", proposal: p, valid })
  }

  /** A peer is behind (it is at, or sent a message of, a height we decided): send it that height's commit. */
  #helpCatchUp(node: SimNode, peer: SimNode, h: number): void {
    const cert = node.chain.get(h)
    if (cert === undefined || peer === node) return
    const key = `${peer.index}/${h}`
    const last = node.lastCatchUp.get(key)
    if (last !== undefined && this.scheduler.now - last < 200) return
    node.lastCatchUp.set(key, this.scheduler.now)
    this.#sendTo(node, [peer.index], { kind: "commit", block: cert.block, precommits: cert.precommits })
  }

  /** Signature checks, once per distinct message for the whole network. */
  #authentic(msg: ConsensusMessage): boolean {
    if (msg.kind === "vote") return this.#cached(msg.vote.signature + msg.vote.blockHash + msg.vote.type + msg.vote.height + "/" + msg.vote.round, () => verifyVote(msg.vote, CHAIN_ID))
    if (msg.kind === "proposal") {
      const p = msg.proposal
      return this.#cached(`${p.signature}${blockHash(p.block)}/${p.height}/${p.round}/${p.polRound}`, () => verifyProposal(p, CHAIN_ID))
    }
    const votes = msg.kind === "certificate" ? certificateVotes(msg) : msg.precommits
    return votes.every((v) => this.#cached(v.signature + v.blockHash + v.type + v.height + "/" + v.round, () => verifyVote(v, CHAIN_ID)))
  }

  #cached(key: string, check: () => boolean): boolean {
    let ok = this.#verified.get(key)
    if (ok === undefined) this.#verified.set(key, (ok = check()))
    return ok
  }
}
