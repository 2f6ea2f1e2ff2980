import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { HeightVoteSet } from "./height-votes.ts"
import { ValidatorSet } from "./validator-set.ts"
import { VoteSet } from "./votes.ts"
import type { Hash, Vote, VoteType } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const hash = (i: number) => `0x${i.toString(16).padStart(64, "0")}`
const SIG = `0x${"00".repeat(65)}`
/** Votes here are never verified (the caller does that), so a dummy signature will do. */
const vote = (v: number, blockHash: Hash | null, round = 0, type: VoteType = "prevote", height = 1): Vote =>
  ({ type, height, round, blockHash, validator: addr(v), signature: SIG })
const setOf = (...powers: number[]) => ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) })))

describe("VoteSet", () => {
  it("tallies power per block hash and answers the thresholds exactly", () => {
    const s = new VoteSet(1, 0, "prevote", setOf(1, 1, 1, 1)) // quorum 3, f+1 2
    expect(s.add(vote(0, hash(1)))).toEqual({ kind: "added" })
    expect(s.hasFPlusOne()).toBe(false)
    s.add(vote(1, hash(1)))
    expect(s.hasFPlusOne()).toBe(true)
    expect(s.hasQuorumAny()).toBe(false)
    s.add(vote(2, null))
    expect(s.hasQuorumAny()).toBe(true)
    expect(s.majority()).toBeUndefined()
    s.add(vote(3, hash(1)))
    expect(s.quorumFor(hash(1))).toBe(true)
    expect(s.majority()).toEqual({ blockHash: hash(1) })
    expect([s.power(hash(1)), s.power(null), s.sum, s.size]).toEqual([3n, 1n, 4n, 4])
    expect(s.votesFor(hash(1)).map((v) => v.validator)).toEqual([addr(0), addr(1), addr(3)])
  })

  it("weighs votes by power: a big validator alone can be +1/3 but never +2/3", () => {
    const s = new VoteSet(1, 0, "precommit", setOf(33, 34, 33)) // total 100: quorum 67, f+1 34
    s.add(vote(1, null, 0, "precommit"))
    expect([s.hasFPlusOne(), s.hasQuorumAny()]).toEqual([true, false])
    s.add(vote(0, null, 0, "precommit"))
    expect(s.majority()).toEqual({ blockHash: null })
  })

  it("rejects votes of another height, round or type, or from outside the set", () => {
    const s = new VoteSet(1, 0, "prevote", setOf(1, 1, 1))
    expect(s.add(vote(0, null, 1)).kind).toBe("rejected")
    expect(s.add(vote(0, null, 0, "precommit")).kind).toBe("rejected")
    expect(s.add(vote(0, null, 0, "prevote", 2)).kind).toBe("rejected")
    expect(s.add(vote(7, null)).kind).toBe("rejected")
    expect(s.size).toBe(0)
  })

  it("returns evidence for a double vote, once per validator, and counts it for each hash signed", () => {
    const s = new VoteSet(1, 0, "prevote", setOf(1, 1, 1, 1))
    s.add(vote(0, hash(2)))
    expect(s.add(vote(0, hash(2)))).toEqual({ kind: "duplicate" })
    const r = s.add(vote(0, hash(1)))
    expect(r).toMatchObject({ kind: "conflict", first: true, evidence: { voteA: { blockHash: hash(1) }, voteB: { blockHash: hash(2) } } })
    expect(s.add(vote(0, null))).toMatchObject({ kind: "conflict", first: false })
    expect([s.sum, s.power(hash(1)), s.power(hash(2)), s.power(null)]).toEqual([1n, 1n, 1n, 1n])
    expect(s.get(addr(0))?.blockHash).toBe(hash(2))
    expect(s.equivocators()).toEqual(new Set([addr(0)]))
  })

  it("counts at most maxHashesPerValidator hashes per validator", () => {
    const s = new VoteSet(1, 0, "prevote", setOf(1, 1, 1, 1), 2)
    s.add(vote(0, hash(1)))
    s.add(vote(0, hash(2)))
    expect(s.add(vote(0, hash(3))).kind).toBe("conflict")
    expect(s.power(hash(3))).toBe(0n)
    expect(s.votes()).toHaveLength(2)
    // Every counted vote, by validator in set order, a validator's first vote first; size counts voters.
    s.add(vote(2, null))
    s.add(vote(1, hash(1)))
    expect(s.votes().map((v) => [v.validator, v.blockHash])).toEqual([[addr(0), hash(1)], [addr(0), hash(2)], [addr(1), hash(1)], [addr(2), null]])
    expect(s.size).toBe(3)
    expect(s.remove(addr(0))).toBe(true)
    expect([s.size, s.sum]).toEqual([2, 2n])
  })

  it("property: tallies, total, majority and +2/3 crossings always match a recount from scratch", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 7 }),
        fc.array(fc.record({ v: fc.nat(9), h: fc.option(fc.nat(3), { nil: null }), remove: fc.boolean() }), { maxLength: 40 }),
        // Powers past 2^53 in total: counted as bigints, not numbers (ValidatorSet.counting).
        fc.boolean(),
        (powers, ops, huge) => {
          const set = ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) * (huge ? 2n ** 60n : 1n) })))
          expect(typeof set.counting.quorum).toBe(huge ? "bigint" : "number")
          const s = new VoteSet(1, 0, "prevote", set)
          const model = new Map<string, Set<string>>() // validator → hashes counted
          let crossings = 0
          for (const op of ops) {
            const v = op.v % powers.length
            if (op.remove && op.v % 3 === 0) {
              s.remove(addr(v))
              model.delete(addr(v))
              continue
            }
            const key = op.h === null ? "nil" : hash(op.h)
            const blockHash = op.h === null ? null : hash(op.h)
            const [anyBefore, forBefore, seen] = [s.hasQuorumAny(), s.quorumFor(blockHash), s.crossings]
            s.add(vote(v, blockHash))
            // An add crosses when "+2/3 of anything" or "+2/3 for its hash" turns true (one count if both do).
            if (s.hasQuorumAny() !== anyBefore || s.quorumFor(blockHash) !== forBefore) crossings++
            expect(s.crossings - seen).toBe(s.hasQuorumAny() !== anyBefore || s.quorumFor(blockHash) !== forBefore ? 1 : 0)
            const hashes = model.get(addr(v)) ?? new Set()
            if (hashes.size < s.maxHashesPerValidator) hashes.add(key)
            model.set(addr(v), hashes)
          }
          let sum = 0n
          const tally = new Map<string, bigint>()
          for (const [a, hashes] of model) {
            sum += set.power(a)
            for (const k of hashes) tally.set(k, (tally.get(k) ?? 0n) + set.power(a))
          }
          expect(s.sum).toBe(sum)
          expect(s.crossings).toBe(crossings)
          for (const k of ["nil", hash(0), hash(1), hash(2), hash(3)]) expect(s.power(k === "nil" ? null : k)).toBe(tally.get(k) ?? 0n)
          const m = s.majority()
          if (m !== undefined) expect(s.quorumFor(m.blockHash)).toBe(true)
          else expect([...tally.values()].some((t) => t >= set.quorum)).toBe(false)
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe("HeightVoteSet", () => {
  it("finds the highest round with more than 1/3 of the power, proposals included", () => {
    const hv = new HeightVoteSet(1, setOf(1, 1, 1, 1))
    hv.add(vote(0, null, 3))
    expect(hv.highestFPlusOneRound()).toBe(-1)
    hv.markProposer(3, addr(1))
    expect(hv.highestFPlusOneRound()).toBe(3)
    hv.add(vote(2, null, 2, "precommit"))
    hv.add(vote(3, null, 2))
    expect(hv.highestFPlusOneRound()).toBe(3)
  })

  it("remembers the rounds with +2/3 precommits for a block", () => {
    const hv = new HeightVoteSet(1, setOf(1, 1, 1, 1))
    for (const v of [0, 1, 2]) hv.add(vote(v, hash(5), 4, "precommit"))
    for (const v of [0, 1, 2]) hv.add(vote(v, null, 5, "precommit"))
    expect([...hv.precommitMajorities()]).toEqual([[4, hash(5)]])
  })

  it("bounds a validator's future rounds, evicting its lowest when it moves on", () => {
    const hv = new HeightVoteSet(1, setOf(1, 1, 1, 1), { maxFutureRounds: 2 })
    hv.add(vote(0, null, 5))
    hv.add(vote(0, null, 6, "precommit"))
    expect(hv.add(vote(0, null, 4)).kind).toBe("rejected") // below both of its future rounds
    expect(hv.add(vote(0, null, 9)).kind).toBe("added") // evicts round 5
    expect(hv.prevotes(5)?.size).toBe(0)
    expect(hv.precommits(6)?.size).toBe(1)
    // Rounds at or below the current one are never limited.
    hv.setRound(9)
    for (const r of [0, 1, 2, 3, 4, 5]) expect(hv.add(vote(0, null, r)).kind).toBe("added")
    expect(hv.rounds()).toEqual([0, 1, 2, 3, 4, 5, 6, 9])
  })

  it("property: no validator ever holds votes in more than maxFutureRounds rounds above the current one", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ v: fc.nat(3), r: fc.nat(30), advance: fc.nat(10) }), { maxLength: 60 }), (ops) => {
        const hv = new HeightVoteSet(1, setOf(1, 1, 1, 1), { maxFutureRounds: 2 })
        for (const op of ops) {
          if (op.advance === 0) hv.setRound(hv.round + 1)
          hv.add(vote(op.v, null, op.r, op.advance % 2 === 0 ? "prevote" : "precommit"))
          for (let v = 0; v < 4; v++) {
            const future = hv.rounds().filter((r) => r > hv.round && (hv.prevotes(r)?.get(addr(v)) ?? hv.precommits(r)?.get(addr(v))))
            expect(future.length).toBeLessThanOrEqual(2)
          }
        }
      }),
      { numRuns: RUNS },
    )
  })
})
