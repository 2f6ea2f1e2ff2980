import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { HeightState } from "./height-state.ts"
import { voteEvent, voteRunEvent } from "./intake.ts"
import { ValidatorSet } from "./validator-set.ts"
import type { Hash, Vote, VoteType } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const hash = (i: number) => `0x${i.toString(16).padStart(64, "0")}`
const SIG = `0x${"00".repeat(65)}`
const vote = (v: number, blockHash: Hash | null, round = 0, type: VoteType = "prevote", height = 1): Vote =>
  ({ type, height, round, blockHash, validator: addr(v), signature: SIG })
const setOf = (...powers: number[]) => ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) })))
const ROUNDS = 6
const HASHES = [null, hash(1), hash(2)] as const

/**
 * Every answer a guard of the machine reads from the votes (runtime/machines/consensus.ts), as one
 * list of booleans; the round-skip rule's as "a round above the current one, and which" (one per round).
 */
const guardInputs = (s: HeightState): boolean[] => {
  const skip = s.votes.highestFPlusOneRound()
  const out: boolean[] = []
  for (let r = 0; r < ROUNDS; r++) out.push(skip > s.round && skip === r)
  for (let r = 0; r < ROUNDS; r++) {
    for (const set of [s.votes.prevotes(r), s.votes.precommits(r)]) {
      out.push(set?.hasQuorumAny() === true)
      for (const h of HASHES) out.push(set?.quorumFor(h) === true)
    }
    out.push(s.votes.precommitMajorities().has(r))
  }
  return out
}

/** What a node sent its machine for one vote, as the intake was first written (one `addVote` per vote): the reference. */
const onePerVote = (s: HeightState, v: Vote): unknown => {
  if (s.height !== v.height) return { type: "vote.received", vote: v }
  const before = s.thresholds
  const r = s.addVote(v)
  if (r.kind === "conflict" && r.first) return { type: "votes.counted", height: v.height, evidence: r.evidence }
  return s.thresholds !== before ? { type: "votes.counted", height: v.height } : undefined
}

describe("threshold events (intake)", () => {
  it("a vote that turns no guard's input from false to true moves no threshold, and one that does, moves it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 7 }),
        fc.array(fc.record({ v: fc.nat(9), h: fc.nat(2), r: fc.nat(ROUNDS - 1), precommit: fc.boolean(), advance: fc.nat(6) }), { maxLength: 80 }),
        (powers, ops) => {
          const s = new HeightState(1, setOf(...powers))
          for (const op of ops) {
            // The owner moves on as the machine would: to a round where +1/3 is (L55), and now
            // and then to the next one (a timeout). So no vote finds the skip rule enabled already.
            if (op.advance === 0) s.setRound(Math.min(s.round + 1, ROUNDS - 1))
            if (s.votes.highestFPlusOneRound() > s.round) s.setRound(s.votes.highestFPlusOneRound())
            const before = guardInputs(s)
            const thresholds = s.thresholds
            s.addVote(vote(op.v % powers.length, HASHES[op.h]!, op.r, op.precommit ? "precommit" : "prevote"))
            const after = guardInputs(s)
            const rose = after.some((x, i) => x && !before[i])
            if (rose) expect(s.thresholds).toBeGreaterThan(thresholds)
            if (s.thresholds !== thresholds) expect(rose).toBe(true)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("a list counted in runs gives the events one vote at a time would, after the same votes, and the same state", () => {
    // Lists as certificates carry (frozen: the set remembers their positions) and as they may not:
    // any height, round, type, voter (some outside the set), repeats and conflicts.
    const item = fc.record({ v: fc.nat(10), h: fc.nat(2), r: fc.nat(ROUNDS - 1), precommit: fc.boolean(), height: fc.constantFrom(1, 1, 1, 2) })
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 7 }), fc.array(fc.array(item, { maxLength: 30 }), { maxLength: 6 }), fc.boolean(), (powers, lists, frozen) => {
        const set = setOf(...powers)
        const one = new HeightState(1, set)
        const runs = new HeightState(1, set)
        for (const list of lists) {
          const votes = list.map((x) => vote(x.v, HASHES[x.h]!, x.r, x.precommit ? "precommit" : "prevote", x.height))
          if (frozen) Object.freeze(votes)
          const single: [number, unknown][] = []
          votes.forEach((v, i) => {
            const e = onePerVote(one, v)
            if (e !== undefined) single.push([i, e])
          })
          const batched: [number, unknown][] = []
          for (let i = 0; i < votes.length;) {
            const { event, next } = voteRunEvent({ heightState: runs, step: "prevote" }, votes, i)
            expect(next).toBeGreaterThan(i)
            if (event !== undefined) batched.push([next - 1, event])
            i = next
          }
          expect(batched).toEqual(single)
          expect(guardInputs(runs)).toEqual(guardInputs(one))
          expect(runs.thresholds).toBe(one.thresholds)
          for (let r = 0; r < ROUNDS; r++) {
            for (const [a, b] of [[runs.votes.prevotes(r), one.votes.prevotes(r)], [runs.votes.precommits(r), one.votes.precommits(r)]] as const) {
              expect(a?.votes()).toEqual(b?.votes())
              expect(a?.sum).toEqual(b?.sum)
            }
          }
          // The owner moves on now and then, as the machine would between certificates.
          if (list.length % 3 === 0) for (const s of [one, runs]) s.setRound(Math.min(s.round + 1, ROUNDS - 1))
        }
      }),
      { numRuns: RUNS },
    )
  })

  it("sends the machine only what can change a guard, and the rest as before", () => {
    const s = new HeightState(1, setOf(1, 1, 1, 1)) // quorum 3
    const deciding = { heightState: s, step: "prevote" as const }
    expect(voteEvent(deciding, vote(0, hash(1)))).toBeUndefined()
    expect(voteEvent(deciding, vote(1, hash(1)))).toBeUndefined()
    expect(voteEvent(deciding, vote(1, hash(1)))).toBeUndefined() // a duplicate
    expect(voteEvent(deciding, vote(2, hash(1)))).toEqual({ type: "votes.counted", height: 1 }) // +2/3 for one hash
    const conflict = voteEvent(deciding, vote(0, hash(2)))
    expect(conflict).toMatchObject({ type: "votes.counted", height: 1, evidence: { voteA: { validator: addr(0) } } })
    expect(voteEvent(deciding, vote(0, null))).toBeUndefined() // reported once per validator
    // Another height, or the height decided: the machine buffers or drops it itself.
    expect(voteEvent(deciding, vote(0, hash(1), 0, "prevote", 2))).toEqual({ type: "vote.received", vote: vote(0, hash(1), 0, "prevote", 2) })
    expect(voteEvent({ heightState: s, step: "commit" }, vote(3, hash(1)))).toEqual({ type: "vote.received", vote: vote(3, hash(1)) })
    expect(voteEvent({ heightState: undefined, step: "propose" }, vote(3, hash(1)))).toMatchObject({ type: "vote.received" })
    // +1/3 active in a higher round: the round-skip rule's input.
    expect(voteEvent(deciding, vote(0, null, 3))).toBeUndefined()
    expect(voteEvent(deciding, vote(1, null, 3, "precommit"))).toEqual({ type: "votes.counted", height: 1 })
  })
})
