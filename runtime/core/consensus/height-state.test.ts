import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, utf8ToBytes } from "../crypto.ts"
import { blockHash } from "./block.ts"
import { HeightBuffer } from "./buffer.ts"
import { HeightState } from "./height-state.ts"
import { proposer } from "./proposer.ts"
import { signProposal, signVote } from "./signing.ts"
import { ValidatorSet } from "./validator-set.ts"
import { type Block, ZERO_HASH } from "./types.ts"

const keys = [0, 1, 2, 3].map((i) => keccak256(utf8ToBytes(`dai/height-state-test/${i}`)))
const addrs = keys.map(addressOfPrivateKey)
const set = ValidatorSet.from(addrs.map((address) => ({ address, power: 1n })))
const keyOf = (address: string) => keys[addrs.indexOf(address)]!
const block = (round: number, tag = "a", height = 1): Block =>
  ({ height, round, proposer: proposer(set, height, round), parentHash: ZERO_HASH, time: 0, txs: [{ type: "t", tag }], appHash: ZERO_HASH })
const proposal = (b: Block, round = b.round, polRound = -1, by = proposer(set, b.height, round)) =>
  signProposal(keyOf(by), 1, { height: b.height, round, polRound, block: b })
const precommit = (i: number, b: Block | null, round = 0) =>
  signVote(keys[i]!, 1, { type: "precommit", height: 1, round, blockHash: b === null ? null : blockHash(b) })

describe("HeightState", () => {
  it("keeps the first proposal of a round from its proposer", () => {
    const hs = new HeightState(1, set)
    const a = block(0)
    expect(hs.addProposal(proposal(a), true)).toEqual({ kind: "added" })
    expect(hs.addProposal(proposal(a), true)).toEqual({ kind: "duplicate" })
    expect(hs.addProposal(proposal(block(0, "b")), true).kind).toBe("ignored")
    expect(hs.proposal(0)?.blockHash).toBe(blockHash(a))
    expect(hs.block(blockHash(block(0, "b")))).toBeDefined() // remembered for a decision on it
    expect(hs.addProposal(proposal(block(0, "c")), true).kind).toBe("ignored")
    expect(hs.block(blockHash(block(0, "c")))).toBeUndefined() // but only one such block per round
  })

  it("ignores proposals from the wrong proposer, for another height, with bad rounds, or too far ahead", () => {
    const hs = new HeightState(1, set, { maxRoundsAhead: 3 })
    const wrong = addrs.find((a) => a !== proposer(set, 1, 1))!
    expect(hs.addProposal(proposal(block(1), 1, -1, wrong), true)).toMatchObject({ kind: "ignored", reason: expect.stringMatching(/not the proposer/) })
    expect(hs.addProposal(proposal(block(0, "a", 2)), true)).toMatchObject({ reason: expect.stringMatching(/height 2/) })
    expect(hs.addProposal({ ...proposal(block(1), 1), polRound: 1 }, true)).toMatchObject({ reason: expect.stringMatching(/malformed/) })
    expect(hs.addProposal(proposal(block(4), 4), true)).toMatchObject({ reason: expect.stringMatching(/too far ahead/) })
    hs.setRound(1)
    expect(hs.addProposal(proposal(block(4), 4), true)).toEqual({ kind: "added" })
  })

  it("treats a block of another height inside a proposal as invalid", () => {
    const hs = new HeightState(1, set)
    const b = { ...block(0), height: 7 }
    const by = proposer(set, 1, 0)
    expect(hs.addProposal(signProposal(keyOf(by), 1, { height: 1, round: 0, polRound: -1, block: b }), true)).toEqual({ kind: "added" })
    expect(hs.proposal(0)?.valid).toBe(false)
  })

  it("decides when a known, valid block has +2/3 precommits in some round", () => {
    const hs = new HeightState(1, set)
    const a = block(2)
    for (const i of [0, 1, 2]) hs.addVote(precommit(i, a, 2))
    expect(hs.decision()).toBeUndefined() // the block is unknown
    expect(hs.hasDecision()).toBe(false)
    hs.addProposal(proposal(a, 2), true)
    expect(hs.decision()).toMatchObject({ round: 2, blockHash: blockHash(a), source: "votes" })
    expect(hs.hasDecision()).toBe(true)
    expect(hs.decision()!.precommits).toHaveLength(3)
    const invalid = new HeightState(1, set)
    invalid.addProposal(proposal(a, 2), false)
    for (const i of [0, 1, 2]) invalid.addVote(precommit(i, a, 2))
    expect(invalid.decision()).toBeUndefined()
    expect(invalid.hasDecision()).toBe(false)
  })

  it("accepts a commit certificate only with +2/3 of the power for its block, in one round", () => {
    const hs = new HeightState(1, set)
    const a = block(0)
    expect(hs.addCertificate(a, [precommit(0, a), precommit(0, a), precommit(1, a)])).toMatch(/2 of the 3 power/)
    expect(hs.addCertificate(a, [precommit(0, a), precommit(1, a), precommit(2, a, 1)])).toMatch(/not a precommit of 1\/0/)
    expect(hs.addCertificate(a, [precommit(0, a), precommit(1, a), precommit(2, null)])).toMatch(/for its block/)
    expect(hs.addCertificate(block(0, "a", 2), [])).toMatch(/height 2/)
    expect(hs.addCertificate(a, [])).toMatch(/no precommits/)
    expect(hs.decision()).toBeUndefined()
    expect(hs.hasDecision()).toBe(false)
    expect(hs.addCertificate(a, [precommit(0, a), precommit(1, a), precommit(2, a)])).toBeUndefined()
    expect(hs.decision()).toMatchObject({ round: 0, block: a, source: "certificate" })
    expect(hs.hasDecision()).toBe(true)
  })
})

describe("HeightBuffer", () => {
  it("keeps items up to its capacity, hands out one height, drops lower ones, knows the senders", () => {
    const buf = new HeightBuffer<{ height: number; from: string }>(3, (e) => [e.from])
    expect([buf.push({ height: 2, from: "a" }), buf.push({ height: 3, from: "b" }), buf.push({ height: 2, from: "c" })]).toEqual([true, true, true])
    expect(buf.push({ height: 2, from: "d" })).toBe(false)
    expect(buf.senders(2)).toEqual(new Set(["a", "c"]))
    expect(buf.take(3).map((e) => e.from)).toEqual(["b"])
    expect(buf.size).toBe(0)
    expect(buf.senders(2)).toEqual(new Set())
  })
})
