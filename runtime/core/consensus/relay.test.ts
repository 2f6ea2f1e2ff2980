import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { HeightState } from "./height-state.ts"
import { type RelayView, votesToRelay } from "./relay.ts"
import { ValidatorSet } from "./validator-set.ts"
import type { Hash, Vote, VoteType } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const hash = (i: number) => `0x${i.toString(16).padStart(64, "0")}`
const SIG = `0x${"00".repeat(65)}`
/** Votes are verified by the node before they get here, so a dummy signature will do. */
const vote = (v: number, blockHash: Hash | null, round: number, type: VoteType = "prevote"): Vote =>
  ({ type, height: 1, round, blockHash, validator: addr(v), signature: SIG })
const setOf = (...powers: number[]) => ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) })))
const view = (v: Partial<RelayView>): RelayView => ({ round: 0, lockedRound: -1, lockedHash: null, validRound: -1, validHash: null, ...v })

describe("votesToRelay", () => {
  const A = hash(1)
  const B = hash(2)
  /** Four equal validators (quorum 3): v0..v2 prevoted A in round 0, v3 nil; v1..v3 prevoted B in round 2. */
  const state = () => {
    const s = new HeightState(1, setOf(1, 1, 1, 1))
    s.setRound(3)
    for (const v of [vote(0, A, 0), vote(1, A, 0), vote(2, A, 0), vote(3, null, 0), vote(1, B, 2), vote(2, B, 2), vote(3, B, 2), vote(0, null, 1, "precommit")]) s.addVote(v)
    return s
  }

  it("relays nothing while the height is still in the polka's round, or without a polka", () => {
    expect(votesToRelay(state(), view({ round: 0, lockedRound: 0, lockedHash: A, validRound: 0, validHash: A }), addr(0))).toEqual([])
    expect(votesToRelay(state(), view({ round: 3 }), addr(0))).toEqual([])
    expect(votesToRelay(undefined, view({ round: 3, lockedRound: 0, lockedHash: A, validRound: 0, validHash: A }), addr(0))).toEqual([])
    // A round without +2/3 for the hash (cannot be a lock's, but the relay does not trust its caller).
    expect(votesToRelay(state(), view({ round: 3, validRound: 1, validHash: A }), addr(0))).toEqual([])
  })

  it("once past it, relays the lock's prevote quorum signed by others (not the nil prevote, not its own)", () => {
    const relayed = votesToRelay(state(), view({ round: 1, lockedRound: 0, lockedHash: A, validRound: 0, validHash: A }), addr(0))
    expect(relayed).toEqual([vote(1, A, 0), vote(2, A, 0)])
  })

  it("between full relays, only the votes of signers not heard from since the polka (live ones re-send their own)", () => {
    // v0, v1, v2 prevoted A in round 0; v1, v2, v3 prevoted B in round 2; v0 has been silent since round 0.
    const s = new HeightState(1, setOf(1, 1, 1, 1))
    s.setRound(3)
    for (const v of [vote(0, A, 0), vote(1, A, 0), vote(2, A, 0), vote(1, B, 2), vote(2, B, 2), vote(3, B, 2)]) s.addVote(v)
    const lock = view({ round: 3, lockedRound: 0, lockedHash: A, validRound: 0, validHash: A })
    expect(votesToRelay(s, lock, addr(1), false)).toEqual([vote(0, A, 0)])
    expect(votesToRelay(s, lock, addr(1), true)).toEqual([vote(0, A, 0), vote(2, A, 0)])
    // Once v0 is heard from in a later round (any vote counts), it re-sends its own: nothing of it is relayed.
    s.addVote(vote(0, null, 1, "precommit"))
    expect(votesToRelay(s, lock, addr(1), false)).toEqual([])
  })

  it("relays both polkas when the valid value is newer than the lock", () => {
    const relayed = votesToRelay(state(), view({ round: 3, lockedRound: 0, lockedHash: A, validRound: 2, validHash: B }), addr(1))
    expect(relayed).toEqual([vote(2, B, 2), vote(3, B, 2), vote(0, A, 0), vote(2, A, 0)])
  })

  it("what a node relays, with the votes their live signers re-send themselves, is a prevote quorum for its valid value: a peer that had none of it can accept the re-proposal", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.constantFrom<"A" | "nil" | "none">("A", "nil", "none"), { minLength: 12, maxLength: 12 }),
        fc.nat(11),
        fc.nat(5),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.boolean(),
        (powers, choices, selfIndex, r, heardLater, all) => {
          const set = setOf(...powers)
          const self = addr(selfIndex % powers.length)
          const s = new HeightState(1, set)
          s.setRound(r + 1)
          powers.forEach((_, i) => {
            if (choices[i] !== "none") s.addVote(vote(i, choices[i] === "A" ? A : null, r))
            // A validator heard from in a later round re-sends its own votes (the node's re-send does).
            if (heardLater[i] === true) s.addVote(vote(i, null, r + 1))
          })
          const hasPolka = s.votes.prevotes(r)?.quorumFor(A) === true
          const relayed = votesToRelay(s, view({ round: r + 1, lockedRound: r, lockedHash: A, validRound: r, validHash: A }), self, all)
          for (const v of relayed) expect(v).toMatchObject({ type: "prevote", height: 1, round: r, blockHash: A })
          expect(relayed.some((v) => v.validator === self)).toBe(false)
          const peer = new HeightState(1, set)
          peer.setRound(r + 1)
          const fromOwners = powers.flatMap((_, i) => (addr(i) === self || heardLater[i] === true ? [s.votes.prevotes(r)?.get(addr(i))] : []))
          for (const v of [...relayed, ...fromOwners]) if (v !== undefined) peer.addVote(v)
          expect(peer.votes.prevotes(r)?.quorumFor(A) === true).toBe(hasPolka)
        },
      ),
      { numRuns: RUNS },
    )
  })
})
