/**
 * codec.ts `encodeCommitParts`: the parts of a commit certificate join to the bytes of `encodeMessage`
 * (= the UTF-8 of its canonical JSON), whatever lists of precommits are encoded in whatever order;
 * equal certificates of one block object get one shared part, a certificate with a few votes more
 * than a remembered one views that one's bytes, and every part is sealed.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isSealed } from "../sealed-bytes.ts"
import { keccak256, utf8ToBytes } from "../crypto.ts"
import { blockHash, canonicalJson } from "./block.ts"
import { encodeCommitParts, encodeMessage } from "./codec.ts"
import { signVote } from "./signing.ts"
import type { Block, Json, Vote } from "./types.ts"
import { ZERO_HASH } from "./types.ts"

const CHAIN = 7
const keys = Array.from({ length: 12 }, (_, i) => keccak256(utf8ToBytes(`dai/commit-shared-test/${i}`)))
const block: Block = { height: 3, round: 0, proposer: "0x" + "11".repeat(20), parentHash: ZERO_HASH, time: 5, txs: [], appHash: ZERO_HASH }
const precommit = (i: number): Vote => signVote(keys[i]!, CHAIN, { type: "precommit", height: 3, round: 0, blockHash: blockHash(block) })
const votes = keys.map((_, i) => precommit(i))

const join = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))
const canonical = (b: Block, precommits: readonly Vote[]): Uint8Array =>
  new TextEncoder().encode(canonicalJson({ kind: "commit", block: b, precommits } as unknown as Json))

describe("encodeCommitParts", () => {
  it("gives encodeMessage's bytes, one shared part for equal certificates of one block, other bytes for others", () => {
    const pair = [votes[0]!, votes[1]!]
    const [a, ...more] = encodeCommitParts({ kind: "commit", block, precommits: pair })
    expect(more).toEqual([])
    expect(a).toEqual(encodeMessage({ kind: "commit", block, precommits: pair }))
    expect(a).toEqual(canonical(block, pair))
    // Equal votes in other objects (a node's own vote): the same bytes.
    expect(encodeCommitParts({ kind: "commit", block, precommits: pair.map((v) => ({ ...v })) })).toEqual([a])
    expect(encodeCommitParts({ kind: "commit", block, precommits: pair.map((v) => ({ ...v })) })[0]).toBe(a)
    // Another order: other bytes, still encodeMessage's.
    const swapped = [pair[1]!, pair[0]!]
    expect(join(encodeCommitParts({ kind: "commit", block, precommits: swapped }))).toEqual(canonical(block, swapped))
    // An equal block in another object is not looked up by content: encoded afresh, to the same bytes.
    const c = encodeCommitParts({ kind: "commit", block: { ...block }, precommits: pair })
    expect(c[0]).not.toBe(a)
    expect(c).toEqual([a])
  })

  it("a remembered list with a vote more, or also votes less: views into its bytes and the new vote's, sealed", () => {
    const b2 = { ...block, time: 6 }
    const base = [votes[0]!, votes[2]!, votes[3]!, votes[5]!]
    const [whole] = encodeCommitParts({ kind: "commit", block: b2, precommits: base })
    // A node outside the aggregator's certificate decides with its own vote and all but the last of the certificate's.
    const lists = [0, 1, 2, 4].flatMap((at) => [[...base.slice(0, at), { ...votes[7]! }, ...base.slice(at)], [...base.slice(0, at), { ...votes[7]! }, ...base.slice(at, 3)]])
    lists.push([base[0]!, base[3]!, votes[7]!], [votes[7]!, base[1]!])
    for (const list of lists) {
      const parts = encodeCommitParts({ kind: "commit", block: b2, precommits: list })
      expect(join(parts)).toEqual(canonical(b2, list))
      expect(parts.every(isSealed)).toBe(true)
      // The block and the base's votes are not copied: every part but the new vote and the separators views the base.
      const copied = parts.filter((p) => p.buffer !== whole!.buffer).reduce((n, p) => n + p.length, 0)
      expect(copied).toBeLessThanOrEqual(new TextEncoder().encode(canonicalJson(votes[7]! as unknown as Json)).length + 4)
    }
  })

  it("property: whatever lists are encoded for a block, in whatever order, the parts join to the canonical bytes", () => {
    const list = fc.array(fc.record({ i: fc.nat(votes.length - 1), copy: fc.boolean() }), { maxLength: 14 })
      .map((xs) => xs.map(({ i, copy }) => (copy ? { ...votes[i]! } : votes[i]!)))
    // Lists near one another, as nodes' are: a base, and lists with some of its votes left out and others put in.
    const near = fc.tuple(fc.uniqueArray(fc.nat(votes.length - 1), { maxLength: 10 }), fc.array(fc.tuple(fc.nat(votes.length - 1), fc.nat(12), fc.boolean()), { maxLength: 10 }))
      .map(([base, edits]) => {
        const sorted = [...base].sort((x, y) => x - y).map((i) => votes[i]!)
        const out: Vote[][] = [sorted]
        for (const [v, at, drop] of edits) {
          const l = [...out[out.length - 1]!]
          if (drop && l.length > 0) l.splice(at % l.length, 1)
          else l.splice(at % (l.length + 1), 0, { ...votes[v]! })
          out.push(l)
        }
        return out
      })
    fc.assert(
      fc.property(fc.array(fc.oneof(list, near.map((ls) => ls[ls.length - 1]!)), { minLength: 1, maxLength: 12 }), near, (lists, nearLists) => {
        const b = { ...block, time: 9 } // a fresh block object: nothing remembered from other runs
        for (const precommits of [...nearLists, ...lists]) {
          const parts = encodeCommitParts({ kind: "commit", block: b, precommits })
          expect(parts.every(isSealed)).toBe(true)
          expect(join(parts)).toEqual(canonical(b, precommits))
        }
      }),
      { numRuns: 200 },
    )
  })
})
