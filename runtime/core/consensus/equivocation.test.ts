/**
 * Regression (found by the fault-schedule property): when an equivocator's second, conflicting
 * precommit is the one that completes +2/3 for a block, the height is decided — otherwise the nodes
 * that saw its votes in that order stall while the others move on.
 */
import { describe, expect, it } from "vitest"
import { HeightVoteSet } from "./height-votes.ts"
import { ValidatorSet } from "./validator-set.ts"
import type { Vote } from "./types.ts"

const addr = (i: number) => `0x${String(i).padStart(40, "0")}`
const B = `0x${"b".repeat(64)}`
const vote = (i: number, blockHash: string | null): Vote => ({ type: "precommit", height: 12, round: 0, blockHash, validator: addr(i), signature: `0x${"0".repeat(130)}` })

describe("an equivocator's conflicting vote", () => {
  it("completes a decision when it makes the majority", () => {
    const set = ValidatorSet.from([1, 2, 3, 4].map((i) => ({ address: addr(i), power: 1000n })), 12)
    const votes = new HeightVoteSet(12, set)
    votes.add(vote(2, B))
    votes.add(vote(3, B))
    votes.add(vote(1, null)) // the equivocator's first precommit: nil
    expect(votes.precommitMajorities().size).toBe(0)
    expect(votes.add(vote(1, B)).kind).toBe("conflict") // its second: the block — now 3 of 4
    expect(votes.precommitMajorities().get(0)).toBe(B)
  })
})
