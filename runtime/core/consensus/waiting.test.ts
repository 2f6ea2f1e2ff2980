import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, utf8ToBytes } from "../crypto.ts"
import { blockHash } from "./block.ts"
import { HeightState } from "./height-state.ts"
import { proposer } from "./proposer.ts"
import { signProposal, signVote } from "./signing.ts"
import { ValidatorSet } from "./validator-set.ts"
import { type Block, ZERO_HASH } from "./types.ts"
import { waitingFor, waitingLine } from "./waiting.ts"

const keys = [0, 1, 2, 3].map((i) => keccak256(utf8ToBytes(`dai/waiting-test/${i}`)))
const addrs = keys.map(addressOfPrivateKey)
const set = ValidatorSet.from(addrs.map((address) => ({ address, power: 10n })))
const keyOf = (address: string) => keys[addrs.indexOf(address)]!
const block: Block = { height: 1, round: 0, proposer: proposer(set, 1, 0), parentHash: ZERO_HASH, time: 0, txs: [], appHash: ZERO_HASH }
const vote = (i: number, type: "prevote" | "precommit") => signVote(keys[i]!, 1, { type, height: 1, round: 0, blockHash: blockHash(block) })

describe("waitingFor", () => {
  it("is undefined before the first height", () => {
    expect(waitingFor({ height: 0, round: 0, step: "propose", heightState: undefined })).toBeUndefined()
  })

  it("names the proposer while no proposal has come, and every validator as unheard", () => {
    const hs = new HeightState(1, set)
    const w = waitingFor({ height: 1, round: 0, step: "propose", heightState: hs })!
    expect(w).toMatchObject({ proposer: proposer(set, 1, 0), proposal: false, seen: 0n, quorum: 27n, total: 40n })
    expect(w.needs).toContain(proposer(set, 1, 0))
    expect(w.silent).toEqual(set.validators.map((v) => v.address))
  })

  it("counts the power heard in the step against the quorum, and lists the silent validators", () => {
    const hs = new HeightState(1, set)
    hs.addProposal(signProposal(keyOf(block.proposer), 1, { height: 1, round: 0, polRound: -1, block }), true)
    for (const i of [0, 1]) hs.addVote(vote(i, "prevote"))
    hs.addVote(vote(2, "precommit"))
    const prevote = waitingFor({ height: 1, round: 0, step: "prevote", heightState: hs })!
    expect(prevote).toMatchObject({ proposal: true, seen: 20n, quorum: 27n })
    expect(prevote.silent).toEqual([addrs[3]])
    const precommit = waitingFor({ height: 1, round: 0, step: "precommit", heightState: hs })!
    expect(precommit.seen).toBe(10n)
    expect(waitingLine(prevote)).toBe(`height 1 round 0 prevote: waiting for prevotes from validators with more than 2/3 of the power; heard 20 of 40 power (quorum 27); not heard from this round: ${addrs[3]}`)
  })
})
