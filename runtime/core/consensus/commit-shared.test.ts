/**
 * codec.ts `encodeCommitShared`: the bytes of a commit certificate are those of `encodeMessage`,
 * shared between certificates of one block object whose precommits have the same canonical JSON
 * (the same vote objects, or equal ones), and never between certificates that differ.
 */
import { describe, expect, it } from "vitest"
import { keccak256, utf8ToBytes } from "../crypto.ts"
import { blockHash } from "./block.ts"
import { encodeCommitShared, encodeMessage } from "./codec.ts"
import { signVote } from "./signing.ts"
import type { Block, Vote } from "./types.ts"
import { ZERO_HASH } from "./types.ts"

const CHAIN = 7
const keys = [0, 1, 2].map((i) => keccak256(utf8ToBytes(`dai/commit-shared-test/${i}`)))
const block: Block = { height: 3, round: 0, proposer: "0x" + "11".repeat(20), parentHash: ZERO_HASH, time: 5, txs: [], appHash: ZERO_HASH }
const precommit = (i: number): Vote => signVote(keys[i]!, CHAIN, { type: "precommit", height: 3, round: 0, blockHash: blockHash(block) })

describe("encodeCommitShared", () => {
  it("gives encodeMessage's bytes, the same object for equal certificates of one block, other bytes for others", () => {
    const votes = [precommit(0), precommit(1)]
    const a = encodeCommitShared({ kind: "commit", block, precommits: votes })
    expect(a).toEqual(encodeMessage({ kind: "commit", block, precommits: votes }))
    // Equal votes in other objects (a node's own vote): the same bytes.
    const copies = votes.map((v) => ({ ...v }))
    expect(encodeCommitShared({ kind: "commit", block, precommits: copies })).toBe(a)
    // One more signer, or another order: other bytes, still encodeMessage's.
    for (const other of [[...votes, precommit(2)], [votes[1]!, votes[0]!]]) {
      const b = encodeCommitShared({ kind: "commit", block, precommits: other })
      expect(b).not.toBe(a)
      expect(b).toEqual(encodeMessage({ kind: "commit", block, precommits: other }))
    }
    // An equal block in another object is not looked up by content: encoded afresh, to the same bytes.
    const c = encodeCommitShared({ kind: "commit", block: { ...block }, precommits: votes })
    expect(c).not.toBe(a)
    expect(c).toEqual(a)
  })
})
