/**
 * The consensus machine alone: one actor on a virtual clock, its peers played by the test, which
 * signs their votes and proposals by hand. Each test walks one rule of Algorithm 1.
 * (Whole networks are in consensus.network.test.ts, random faults in consensus.property.test.ts.)
 */
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { Scheduler, SimClock } from "../../sim/kernel/index.ts"
import { addressOfPrivateKey, keccak256, utf8ToBytes } from "../core/crypto.ts"
import { blockHash } from "../core/consensus/block.ts"
import { verifyEvidence } from "../core/consensus/evidence.ts"
import { proposer } from "../core/consensus/proposer.ts"
import { signProposal, signVote } from "../core/consensus/signing.ts"
import { ValidatorSet } from "../core/consensus/validator-set.ts"
import { type Block, type DuplicateVoteEvidence, type Hash, type VoteType, ZERO_HASH } from "../core/consensus/types.ts"
import { DEFAULT_PARAMS } from "../core/params.ts"
import { consensusMachine, type BroadcastVoteParams, type DecideParams, type ProposeParams, timeoutsFromParams } from "./consensus.ts"

const CHAIN = 7
const T = { propose: 300, prevote: 100, precommit: 100, delta: 50, commit: 40 }
const keys = [0, 1, 2, 3].map((i) => keccak256(utf8ToBytes(`dai/solo-key/${i}`)))
const addrs = keys.map(addressOfPrivateKey)
const SET = ValidatorSet.from(addrs.map((address) => ({ address, power: 10n })))

/** The index of the proposer of (height, round). */
const proposerIndex = (height: number, round: number, set = SET) => addrs.indexOf(proposer(set, height, round))

/** Drive one machine for validator `me` (by default one that does not propose round 0 of height 1). */
const solo = (me = (proposerIndex(1, 0) + 1) % 4, input: { self?: string } = {}) => {
  const scheduler = new Scheduler(0)
  const proposals: ProposeParams[] = []
  const votes: BroadcastVoteParams[] = []
  const decisions: DecideParams[] = []
  const evidence: DuplicateVoteEvidence[] = []
  const machine = consensusMachine.provide({
    actions: {
      propose: (_, p) => void proposals.push(p),
      broadcastVote: (_, p) => void votes.push(p),
      decide: (_, p) => void decisions.push(p),
      reportEvidence: (_, p) => void evidence.push(p.evidence),
    },
  })
  const actor = createActor(machine, { clock: new SimClock(scheduler), input: { self: input.self ?? addrs[me]!, timeouts: T } })
  actor.start()
  const block = (height: number, round: number, tag = "x", by = proposerIndex(height, round)): Block => ({
    height, round, proposer: addrs[by]!, parentHash: ZERO_HASH, time: 0, txs: [{ type: "note", tag }], appHash: ZERO_HASH,
  })
  const api = {
    actor, scheduler, proposals, votes, decisions, evidence, me,
    ctx: () => actor.getSnapshot().context,
    step: () => actor.getSnapshot().context.step,
    start: (height = 1, validators = SET) => actor.send({ type: "height.start", height, validators }),
    advance: (ms: number) => void scheduler.runUntil({ time: scheduler.now + ms }),
    block,
    /** Deliver the proposal of (height, round), signed by its proposer. */
    propose: (b: Block, round = b.round, polRound = -1, valid = true) => {
      const by = proposerIndex(b.height, round)
      actor.send({ type: "proposal.received", valid, proposal: signProposal(keys[by]!, CHAIN, { height: b.height, round, polRound, block: b }) })
    },
    /** Deliver votes of validators `from`. */
    vote: (from: readonly number[], type: VoteType, round: number, hash: Hash | null, height = 1) => {
      for (const i of from) actor.send({ type: "vote.received", vote: signVote(keys[i]!, CHAIN, { type, height, round, blockHash: hash }) })
    },
    others: (n: number) => [0, 1, 2, 3].filter((i) => i !== me).slice(0, n),
    lastVote: () => votes.at(-1),
  }
  return api
}

describe("consensus machine: one validator", () => {
  it("takes its timeouts from the parameter registry", () => {
    expect(timeoutsFromParams(DEFAULT_PARAMS)).toEqual({ propose: 3000, prevote: 1000, precommit: 1000, delta: 500, commit: 1000 })
  })

  it("the proposer of round 0 proposes as the height starts", () => {
    const s = solo(proposerIndex(1, 0))
    s.start()
    expect(s.proposals).toEqual([{ height: 1, round: 0, validValue: undefined, validRound: -1 }])
    expect(s.step()).toBe("propose")
  })

  it("prevotes a valid proposal, locks and precommits on +2/3 prevotes, decides on +2/3 precommits", () => {
    const s = solo()
    s.start()
    expect(s.proposals).toEqual([])
    const b = s.block(1, 0)
    const h = blockHash(b)
    s.propose(b)
    expect(s.votes).toEqual([{ type: "prevote", height: 1, round: 0, blockHash: h }])
    expect(s.step()).toBe("prevote")
    s.vote([s.me, ...s.others(1)], "prevote", 0, h)
    expect(s.step()).toBe("prevote") // 2 of 4: not yet
    s.vote(s.others(2).slice(1), "prevote", 0, h)
    expect(s.lastVote()).toEqual({ type: "precommit", height: 1, round: 0, blockHash: h })
    expect(s.ctx()).toMatchObject({ step: "precommit", lockedHash: h, lockedRound: 0, validHash: h, validRound: 0 })
    s.vote([s.me, ...s.others(2)], "precommit", 0, h)
    expect(s.decisions).toHaveLength(1)
    expect(s.decisions[0]).toMatchObject({ height: 1, round: 0, block: b })
    expect(s.decisions[0]!.precommits.map((v) => v.validator).sort()).toEqual([s.me, ...s.others(2)].map((i) => addrs[i]).sort())
    expect(s.actor.getSnapshot().value).toBe("committed")
  })

  it("waits timeoutCommit after a decision, then starts the next height the node announces", () => {
    const s = solo()
    s.start()
    const b = s.block(1, 0)
    s.propose(b)
    s.vote([0, 1, 2, 3], "prevote", 0, blockHash(b))
    s.vote([0, 1, 2, 3], "precommit", 0, blockHash(b))
    s.start(2) // early: held until timeoutCommit has passed
    expect(s.actor.getSnapshot().value).toBe("committed")
    s.advance(T.commit - 1)
    expect(s.actor.getSnapshot().value).toBe("committed")
    s.advance(1)
    expect(s.ctx()).toMatchObject({ height: 2, round: 0, step: "propose", lockedRound: -1, validRound: -1 })
  })

  it("prevotes nil when the proposal times out, after base + round × delta", () => {
    const s = solo()
    s.start()
    s.advance(T.propose - 1)
    expect(s.votes).toEqual([])
    s.advance(1)
    expect(s.votes).toEqual([{ type: "prevote", height: 1, round: 0, blockHash: null }])
    // +2/3 prevotes for nil: precommit nil; +2/3 precommits of any kind: round 1 after timeoutPrecommit.
    s.vote([0, 1, 2, 3], "prevote", 0, null)
    expect(s.lastVote()).toEqual({ type: "precommit", height: 1, round: 0, blockHash: null })
    s.vote([0, 1, 2], "precommit", 0, null)
    s.advance(T.precommit)
    expect(s.ctx().round).toBe(1)
    const before = s.votes.length
    s.advance(T.propose + T.delta - 1)
    expect(s.votes.length).toBe(before)
    s.advance(1)
    expect(s.lastVote()).toEqual({ type: "prevote", height: 1, round: 1, blockHash: null })
  })

  it("on +2/3 prevotes of mixed kinds waits timeoutPrevote, then precommits nil", () => {
    const s = solo()
    s.start()
    const h = blockHash(s.block(1, 0))
    s.propose(s.block(1, 0))
    s.vote([0, 1], "prevote", 0, h)
    s.vote([2, 3], "prevote", 0, null)
    expect(s.step()).toBe("prevote")
    s.advance(T.prevote - 1)
    expect(s.step()).toBe("prevote")
    s.advance(1)
    expect(s.lastVote()).toEqual({ type: "precommit", height: 1, round: 0, blockHash: null })
  })

  it("prevotes nil for a proposal the node found invalid, and ignores one from the wrong proposer", () => {
    const s = solo()
    s.start()
    const wrong = { ...s.block(1, 0), proposer: addrs[s.me]! }
    s.actor.send({ type: "proposal.received", valid: true, proposal: signProposal(keys[s.me]!, CHAIN, { height: 1, round: 0, polRound: -1, block: wrong }) })
    expect(s.votes).toEqual([])
    s.propose(s.block(1, 0), 0, -1, false)
    expect(s.votes).toEqual([{ type: "prevote", height: 1, round: 0, blockHash: null }])
  })

  /** A machine locked on block `a` in round 0, now in round 1. */
  const lockedInRound0 = () => {
    const s = solo()
    s.start()
    const a = s.block(1, 0, "a")
    s.propose(a)
    s.vote([0, 1, 2, 3], "prevote", 0, blockHash(a))
    expect(s.ctx()).toMatchObject({ lockedHash: blockHash(a), lockedRound: 0 })
    s.vote(s.others(3), "precommit", 0, null)
    s.advance(T.precommit)
    expect(s.ctx().round).toBe(1)
    return { s, a }
  }

  it("a locked validator prevotes nil for another block, and its locked block again", () => {
    const { s, a } = lockedInRound0()
    s.propose(s.block(1, 1, "b"), 1) // fresh proposal (polRound −1) of another block
    expect(s.lastVote()).toEqual({ type: "prevote", height: 1, round: 1, blockHash: null })
    s.vote(s.others(3), "prevote", 1, null)
    s.vote(s.others(3), "precommit", 1, null)
    s.advance(T.precommit + T.delta) // → round 2
    s.propose(a, 2, 0) // re-proposal of a with its polka round 0
    expect(s.lastVote()).toEqual({ type: "prevote", height: 1, round: 2, blockHash: blockHash(a) })
    expect(s.ctx().lockedRound).toBe(0)
  })

  it("a locked validator is unlocked by a proposal whose polka is newer than its lock", () => {
    const { s } = lockedInRound0()
    const c = s.block(1, 1, "c")
    s.vote(s.others(3), "prevote", 1, blockHash(c)) // c's polka in round 1, which we missed the proposal of
    s.propose(c, 3, 1) // round 3's proposal, kept until we get there
    s.vote(s.others(3), "precommit", 1, null)
    s.advance(T.precommit + T.delta) // → round 2
    s.vote(s.others(3), "precommit", 2, null)
    s.advance(10_000) // → round 3
    expect(s.votes.find((v) => v.round === 3 && v.type === "prevote")).toEqual({ type: "prevote", height: 1, round: 3, blockHash: blockHash(c) })
  })

  it("a proposal that claims a polka round without the polka is not prevoted (until the timeout)", () => {
    const { s } = lockedInRound0()
    s.propose(s.block(1, 1, "d"), 1, 0) // polRound 0, but round 0's polka was for a
    expect(s.votes.filter((v) => v.round === 1)).toEqual([])
    s.advance(T.propose + T.delta)
    expect(s.lastVote()).toEqual({ type: "prevote", height: 1, round: 1, blockHash: null })
  })

  it("skips to a higher round when validators with more than 1/3 of the power are there", () => {
    const s = solo()
    s.start()
    s.vote(s.others(1), "prevote", 5, null)
    expect(s.ctx().round).toBe(0) // 1/4 of the power is not more than 1/3
    s.vote(s.others(2).slice(1), "precommit", 5, null)
    expect(s.ctx().round).toBe(5)
    expect(s.step()).toBe("propose")
  })

  it("decides on +2/3 precommits of any round: an earlier one that completes late, or a later one", () => {
    const s = solo()
    s.start()
    const b = s.block(1, 0)
    s.propose(b)
    s.vote([0, 1], "precommit", 0, blockHash(b))
    s.vote([2], "precommit", 0, null) // +2/3 of any kind: timeoutPrecommit, then round 1
    s.advance(T.precommit)
    expect(s.ctx().round).toBe(1)
    s.vote([3], "precommit", 0, blockHash(b)) // round 0 now has +2/3 for b
    expect(s.decisions.map((d) => [d.height, d.round])).toEqual([[1, 0]])
    const t = solo()
    t.start()
    t.propose(b)
    t.vote([0, 1, 2, 3], "precommit", 2, blockHash(b))
    expect(t.decisions.map((d) => [d.height, d.round])).toEqual([[1, 2]])
  })

  it("reports a double signer once, with valid evidence in canonical order", () => {
    const s = solo()
    s.start()
    const h = blockHash(s.block(1, 0))
    const [x] = s.others(1)
    s.vote([x!], "prevote", 0, h)
    s.vote([x!], "prevote", 0, null)
    s.vote([x!], "prevote", 0, null) // the same conflict again: no second report
    expect(s.evidence).toHaveLength(1)
    const e = s.evidence[0]!
    expect(e.voteA.blockHash).toBeNull() // nil sorts first
    expect(e.voteB.blockHash).toBe(h)
    expect(verifyEvidence(e, CHAIN, SET)).toEqual({ valid: true })
    // Its power counts once in the total, and once for each hash it signed.
    expect(s.ctx().heightState!.votes.prevotes(0)!.sum).toBe(10n)
  })

  it("catches up with a commit certificate, and refuses one without +2/3", () => {
    const s = solo()
    s.start()
    const b = s.block(1, 3)
    const pcs = [0, 1, 2, 3].map((i) => signVote(keys[i]!, CHAIN, { type: "precommit", height: 1, round: 3, blockHash: blockHash(b) }))
    s.actor.send({ type: "commit.received", block: b, precommits: pcs.slice(0, 2) })
    expect(s.decisions).toEqual([])
    s.actor.send({ type: "commit.received", block: b, precommits: pcs.slice(0, 3) })
    expect(s.decisions).toEqual([{ height: 1, round: 3, block: b, precommits: pcs.slice(0, 3) }])
  })

  it("skips the commit pause when it is behind: decided from a certificate, or +1/3 already at the next height", () => {
    const s = solo()
    s.start()
    const b = s.block(1, 0)
    const pcs = [0, 1, 2].map((i) => signVote(keys[i]!, CHAIN, { type: "precommit", height: 1, round: 0, blockHash: blockHash(b) }))
    s.actor.send({ type: "commit.received", block: b, precommits: pcs })
    s.start(2)
    expect(s.ctx()).toMatchObject({ height: 2, step: "propose" }) // no timeoutCommit
    const t = solo()
    t.start()
    t.propose(b)
    t.vote([0, 1, 2, 3], "prevote", 0, blockHash(b))
    t.vote([0, 1, 2, 3], "precommit", 0, blockHash(b))
    t.start(2)
    expect(t.ctx().step).toBe("commit")
    t.vote(t.others(1), "prevote", 0, null, 2)
    expect(t.ctx().step).toBe("commit") // 1/4 of the power is not +1/3
    t.vote(t.others(2).slice(1), "prevote", 0, null, 2)
    expect(t.ctx()).toMatchObject({ height: 2, step: "propose" })
    expect(t.scheduler.now).toBe(0)
  })

  it("buffers the next height's messages and uses them when the height starts", () => {
    const s = solo()
    s.start()
    const b1 = s.block(1, 0)
    s.propose(b1)
    s.vote([0, 1, 2, 3], "prevote", 0, blockHash(b1))
    s.vote([0, 1, 2], "precommit", 0, blockHash(b1))
    const b2 = s.block(2, 0)
    s.propose(b2) // height 2, before height 2 starts
    s.vote([0, 1, 2, 3], "prevote", 0, blockHash(b2), 2)
    s.vote([0, 1, 2, 3], "precommit", 0, blockHash(b2), 2)
    s.vote([0, 1], "prevote", 0, null, 9) // far ahead: dropped
    expect(s.decisions).toHaveLength(1)
    s.start(2)
    s.advance(T.commit)
    expect(s.decisions.map((d) => d.height)).toEqual([1, 2])
  })

  it("a node outside the validator set follows and decides without voting", () => {
    const s = solo(0, { self: addressOfPrivateKey(keccak256(utf8ToBytes("observer"))) })
    s.start()
    const b = s.block(1, 0)
    s.propose(b)
    s.vote([0, 1, 2, 3], "prevote", 0, blockHash(b))
    s.vote([0, 1, 2, 3], "precommit", 0, blockHash(b))
    expect(s.votes).toEqual([])
    expect(s.proposals).toEqual([])
    expect(s.decisions).toHaveLength(1)
  })

  it("a proposer re-proposes its valid value with its valid round", () => {
    // Find a validator that is not the proposer of round 0 but is of round 1.
    const me = proposerIndex(1, 1)
    const s = solo(me)
    s.start()
    const a = s.block(1, 0)
    s.propose(a)
    s.vote([0, 1, 2, 3], "prevote", 0, blockHash(a))
    s.vote([0, 1, 2], "precommit", 0, null)
    s.advance(T.precommit)
    expect(s.proposals.at(-1)).toEqual({ height: 1, round: 1, validValue: a, validRound: 0 })
  })
})
