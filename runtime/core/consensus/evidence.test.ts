import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, utf8ToBytes } from "../crypto.ts"
import { duplicateVoteEvidence, verifyEvidence } from "./evidence.ts"
import { signVote } from "./signing.ts"
import { ValidatorSet } from "./validator-set.ts"

const keys = [0, 1].map((i) => keccak256(utf8ToBytes(`dai/evidence-test/${i}`)))
const set = ValidatorSet.from(keys.map((k) => ({ address: addressOfPrivateKey(k), power: 1n })))
const A = `0x${"0a".repeat(32)}`
const B = `0x${"0b".repeat(32)}`
const vote = (k = 0, hash: string | null = A, more = {}) =>
  signVote(keys[k]!, 5, { type: "prevote", height: 3, round: 1, blockHash: hash, ...more })

describe("double-sign evidence", () => {
  it("is canonical: the smaller block hash first, nil (zero) smallest", () => {
    const e = duplicateVoteEvidence(vote(0, B), vote(0, A))
    expect([e.voteA.blockHash, e.voteB.blockHash]).toEqual([A, B])
    expect(duplicateVoteEvidence(vote(0, A), vote(0, null)).voteA.blockHash).toBeNull()
    expect(verifyEvidence(e, 5, set)).toEqual({ valid: true })
  })

  it("is refused with a reason for each way it can be wrong", () => {
    const reason = (voteA: ReturnType<typeof vote>, voteB: ReturnType<typeof vote>, chain = 5, s = set) => {
      const r = verifyEvidence({ voteA, voteB }, chain, s)
      return r.valid ? "valid" : r.reason
    }
    expect(reason(vote(0, A), vote(1, B))).toMatch(/different validators/)
    expect(reason(vote(0, A), vote(0, B, { round: 2 }))).toMatch(/different heights or rounds/)
    expect(reason(vote(0, A), vote(0, B, { type: "precommit" }))).toMatch(/different types/)
    expect(reason(vote(0, A), vote(0, A))).toMatch(/same block/)
    expect(reason(vote(0, B), vote(0, A))).toMatch(/canonical order/)
    expect(reason(vote(0, A), { ...vote(0, B), signature: vote(0, null).signature })).toMatch(/voteB's signature/)
    expect(reason({ ...vote(0, A), signature: vote(1, A).signature }, vote(0, B))).toMatch(/voteA's signature/)
    expect(reason(vote(0, A), vote(0, B), 6)).toMatch(/signature/)
    const other = ValidatorSet.from([{ address: addressOfPrivateKey(keys[1]!), power: 1n }])
    expect(reason(vote(0, A), vote(0, B), 5, other)).toMatch(/not in the validator set/)
  })
})
