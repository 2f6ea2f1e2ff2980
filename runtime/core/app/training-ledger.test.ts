/** The training ledger: commit-reveal of scores, rounds in order, round scores revealed once and summed by epoch. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TrainingLedger, type RoundRecord, type RoundScore } from "./training-ledger.ts"
import { roundScoresCommitment, scoreCommitment } from "./txs.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const SALT = `0x${"ab".repeat(32)}`
const OTHER_SALT = `0x${"cd".repeat(32)}`

/** A round result committing to `scores` (coordinated by v0 at height 10 of epoch 1 unless told). */
const roundOf = (round: number, participants: readonly string[], scores: readonly RoundScore[], at: Partial<Omit<RoundRecord, "scores">> = {}): Omit<RoundRecord, "scores"> => ({
  round, modelHash: `0x${"11".repeat(32)}`, accuracy: 900_000, loss: undefined, participants, coordinator: "v0",
  height: 10, epoch: 1, scoresCommitment: roundScoresCommitment(round, scores, SALT), ...at,
})

/** Everything the ledger answers, as one comparable value. */
const view = (l: TrainingLedger, epochs: readonly number[]) => ({
  lastRound: l.lastRound,
  pot: l.contributorPot,
  rounds: [...l.rounds().values()].map((r) => ({ ...r, scores: r.scores === undefined ? undefined : [...r.scores] })),
  scores: epochs.map((e) => [...l.scores(e)]),
  roundScores: epochs.map((e) => [...l.roundScores(e)]),
})

describe("contribution scores", () => {
  it("takes one commitment per account and epoch, and a reveal that matches it, once", () => {
    const l = new TrainingLedger()
    expect(l.commitScore(3, "v0", scoreCommitment(3, 700, SALT))).toBeUndefined()
    expect(l.commitScore(3, "v0", scoreCommitment(3, 800, SALT))).toBe("v0 already committed a score for epoch 3")
    expect(l.revealScore(3, "v1", 700, SALT)).toBe("v1 committed no score for epoch 3")
    expect(l.revealScore(3, "v0", 800, SALT)).toBe("the reveal of v0 does not match its commitment for epoch 3")
    expect(l.revealScore(3, "v0", 700, OTHER_SALT)).toBe("the reveal of v0 does not match its commitment for epoch 3")
    expect(l.scores(3).size).toBe(0)
    expect(l.revealScore(3, "v0", 700, SALT)).toBeUndefined()
    expect(l.scores(3)).toEqual(new Map([["v0", 700]]))
    expect(l.revealScore(3, "v0", 700, SALT)).toBe("v0 already revealed for epoch 3")
    expect(l.scores(4).size).toBe(0)
  })

  it("keeps epochs apart: a commitment of one epoch does not open a reveal in another", () => {
    const l = new TrainingLedger()
    expect(l.commitScore(1, "v0", scoreCommitment(1, 5, SALT))).toBeUndefined()
    expect(l.revealScore(2, "v0", 5, SALT)).toBe("v0 committed no score for epoch 2")
    expect(l.commitScore(2, "v0", scoreCommitment(2, 5, SALT))).toBeUndefined()
  })
})

describe("training rounds", () => {
  it("records rounds in increasing order, each participant once, and copies what it is given", () => {
    const l = new TrainingLedger()
    expect(l.lastRound).toBe(-1)
    const participants = ["t1", "t2"]
    expect(l.recordRound(roundOf(2, participants, []))).toBeUndefined()
    participants.push("t3")
    expect(l.rounds().get(2)).toMatchObject({ round: 2, participants: ["t1", "t2"], coordinator: "v0", scores: undefined })
    expect(l.lastRound).toBe(2)
    expect(l.recordRound(roundOf(2, ["t1"], []))).toBe("round 2 is not after the last committed round 2")
    expect(l.recordRound(roundOf(1, ["t1"], []))).toBe("round 1 is not after the last committed round 2")
    expect(l.recordRound(roundOf(5, ["t1", "t2", "t1"], []))).toBe("round 5 lists a participant twice")
    expect(l.lastRound).toBe(2)
    expect(l.recordRound(roundOf(5, ["t1"], []))).toBeUndefined()
    expect([...l.rounds().keys()]).toEqual([2, 5])
  })

  it("takes a round's scores from its coordinator, once, in a later block, matching the commitment", () => {
    const l = new TrainingLedger()
    const scores = [{ account: "t2", score: 0 }, { account: "t1", score: 700 }]
    l.recordRound(roundOf(4, ["t1", "t2"], scores, { height: 10, epoch: 1 }))
    const before = view(l, [1])
    expect(l.revealRoundScores(3, "v0", 11, scores, SALT)).toBe("round 3 has no committed result")
    expect(l.revealRoundScores(4, "v1", 11, scores, SALT)).toBe("the scores of round 4 are revealed by its coordinator v0, not v1")
    expect(l.revealRoundScores(4, "v0", 10, scores, SALT)).toBe("the scores of round 4 are revealed in a block after its result")
    expect(l.revealRoundScores(4, "v0", 11, scores, OTHER_SALT)).toBe("the scores of round 4 do not match its commitment")
    expect(l.revealRoundScores(4, "v0", 11, [{ account: "t1", score: 701 }, { account: "t2", score: 0 }], SALT)).toBe("the scores of round 4 do not match its commitment")
    expect(view(l, [1])).toEqual(before)

    expect(l.revealRoundScores(4, "v0", 11, scores, SALT)).toBeUndefined()
    expect(l.rounds().get(4)!.scores).toEqual(new Map([["t1", 700], ["t2", 0]]))
    expect(l.roundScores(1)).toEqual(new Map([["t2", 0], ["t1", 700]]))
    expect(l.revealRoundScores(4, "v0", 12, scores, SALT)).toBe("the scores of round 4 were revealed already")
  })

  it("refuses scores for an account outside the round, or one account scored twice, even when they match the commitment", () => {
    const l = new TrainingLedger()
    const outsider = [{ account: "t1", score: 1 }, { account: "x9", score: 2 }]
    const twice = [{ account: "t1", score: 1 }, { account: "t1", score: 2 }]
    l.recordRound(roundOf(0, ["t1", "t2"], outsider))
    l.recordRound(roundOf(1, ["t1", "t2"], twice))
    expect(l.revealRoundScores(0, "v0", 11, outsider, SALT)).toBe("x9 did not take part in round 0")
    expect(l.revealRoundScores(1, "v0", 11, twice, SALT)).toBe("t1 is scored twice in round 1")
    expect(l.roundScores(1).size).toBe(0)
    expect(l.rounds().get(0)!.scores).toBeUndefined()
  })

  it("adds a contributor's score and its round scores of an epoch into its contribution", () => {
    const l = new TrainingLedger()
    l.commitScore(2, "v0", scoreCommitment(2, 30, SALT))
    l.revealScore(2, "v0", 30, SALT)
    const scores = [{ account: "v0", score: 12 }, { account: "t1", score: 5 }]
    l.recordRound(roundOf(0, ["v0", "t1"], scores, { epoch: 2 }))
    l.revealRoundScores(0, "v0", 11, scores, SALT)
    expect(l.contribution(2, "v0")).toBe(42)
    expect(l.contribution(2, "t1")).toBe(5)
    expect(l.contribution(2, "nobody")).toBe(0)
    expect(l.contribution(3, "v0")).toBe(0)
  })
})

describe("the contributors' pot", () => {
  it("grows by what is set aside and shrinks by what is paid, never below zero", () => {
    const l = new TrainingLedger()
    l.setAside(100n)
    l.setAside(0n)
    l.paidOut(60n)
    expect(l.contributorPot).toBe(40n)
    expect(() => l.paidOut(41n)).toThrow(RangeError)
    expect(() => l.setAside(-1n)).toThrow(RangeError)
    expect(l.contributorPot).toBe(40n)
  })
})

describe("training ledger properties", () => {
  const accounts = ["t0", "t1", "t2", "t3", "v0"] as const
  const scoreArb = fc.record({ account: fc.constantFrom(...accounts), score: fc.integer({ min: 0, max: 1_000_000 }) })
  type Op =
    | { readonly kind: "record"; readonly round: number; readonly participants: readonly string[]; readonly committed: readonly RoundScore[]; readonly epoch: number; readonly height: number }
    | { readonly kind: "reveal"; readonly round: number; readonly by: string; readonly height: number; readonly scores: readonly RoundScore[]; readonly honest: boolean }
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant("record" as const), round: fc.integer({ min: 0, max: 8 }),
      participants: fc.array(fc.constantFrom(...accounts), { minLength: 1, maxLength: 5 }),
      committed: fc.array(scoreArb, { minLength: 1, maxLength: 5 }), epoch: fc.integer({ min: 0, max: 2 }), height: fc.integer({ min: 1, max: 20 }),
    }),
    fc.record({
      kind: fc.constant("reveal" as const), round: fc.integer({ min: 0, max: 8 }), by: fc.constantFrom("v0", "v1"), height: fc.integer({ min: 1, max: 30 }),
      scores: fc.array(scoreArb, { minLength: 1, maxLength: 5 }), honest: fc.boolean(),
    }),
  )

  it("a refused step changes nothing; round sums are exactly the revealed rounds' scores; rounds only go up", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const l = new TrainingLedger()
      const committed = new Map<number, readonly RoundScore[]>()
      for (const op of ops) {
        const before = view(l, [0, 1, 2])
        const lastRound = l.lastRound
        let why: string | undefined
        if (op.kind === "record") {
          why = l.recordRound(roundOf(op.round, op.participants, op.committed, { epoch: op.epoch, height: op.height }))
          if (why === undefined) {
            committed.set(op.round, op.committed)
            expect(op.round).toBeGreaterThan(lastRound)
          }
        } else {
          // An honest reveal sends what the round committed to; another sends random scores.
          const scores = op.honest ? committed.get(op.round) ?? op.scores : op.scores
          why = l.revealRoundScores(op.round, op.by, op.height, scores, SALT)
        }
        if (why !== undefined) expect(view(l, [0, 1, 2])).toEqual(before)
        expect(l.lastRound).toBeGreaterThanOrEqual(lastRound)
      }
      for (const epoch of [0, 1, 2]) {
        const sums = new Map<string, number>()
        for (const r of l.rounds().values()) {
          if (r.epoch !== epoch || r.scores === undefined) continue
          for (const [account, score] of r.scores) sums.set(account, (sums.get(account) ?? 0) + score)
        }
        expect(new Map([...l.roundScores(epoch)].sort())).toEqual(new Map([...sums].sort()))
      }
    }), { numRuns: RUNS })
  })
})
