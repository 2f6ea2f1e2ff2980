/**
 * The executors, run directly over a state and a block context (the App runs them on every replica:
 * sim/scenario/txs.test.ts and training.test.ts), and the dispatch table that covers every type.
 */
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../../params.ts"
import { DowntimeTracker } from "../downtime.ts"
import { TrainingLedger } from "../training-ledger.ts"
import { roundScoresCommitment, scoreCommitment, type SignedTx } from "../txs.ts"
import type { TxContext, TxState } from "./context.ts"
import { EXECUTORS, executeTx, isSignedType, type ExecutorTable } from "./table.ts"

const V0 = `0x${"0a".repeat(20)}`
const T1 = `0x${"1b".repeat(20)}`
const SIG = `0x${"00".repeat(65)}`
const SALT = `0x${"ab".repeat(32)}`

const state = (): TxState & { readonly convicted: string[] } => {
  const convicted: string[] = []
  return { training: new TrainingLedger(), downtime: new DowntimeTracker(10), convicted, convict: (c) => void convicted.push(c.pool) }
}

/** Block 10 of epoch 2, where V0 signs for validator v0. */
const context = (over: Partial<TxContext> = {}): TxContext => {
  const operators = new Map([[V0, "v0"]])
  return {
    chainId: 1, height: 10, time: 1_000, epoch: 2, params: DEFAULT_PARAMS, verify: () => true,
    accountOf: (signer) => operators.get(signer) ?? signer,
    operatorOf: (address) => operators.get(address),
    validatorSet: (height) => { throw new Error(`this test has no validator set (asked for height ${height})`) },
    timeOf: () => undefined,
    ...over,
  }
}

type Tx<K extends SignedTx["type"]> = Extract<SignedTx, { readonly type: K }>
const signed = { nonce: 0, signature: SIG }

describe("the dispatch table", () => {
  it("has an executor for every transaction type, and a table missing one does not compile", () => {
    expect(Object.keys(EXECUTORS).sort()).toEqual(["evidence", "last-commit", "round-result", "round-scores", "score-commit", "score-reveal", "stake"])
    const { "round-scores": _left, ...rest } = EXECUTORS
    // @ts-expect-error a table without the executor of "round-scores" is not an ExecutorTable
    const partial: ExecutorTable = rest
    expect(Object.hasOwn(partial, "round-scores")).toBe(false)
  })

  it("tells the signed types from the consensus ones and from unknown ones", () => {
    for (const t of ["stake", "score-commit", "score-reveal", "round-result", "round-scores"]) expect(isSignedType(t)).toBe(true)
    for (const t of ["evidence", "last-commit", "receipt", "toString", "constructor", ""]) expect(isSignedType(t)).toBe(false)
  })
})

describe("stake", () => {
  it("refuses every stake operation: stake moves only on the ledger", () => {
    const s = state()
    const mine: Tx<"stake"> = { type: "stake", op: { type: "transfer", from: "v0", to: "c0", amount: 5n }, signer: V0, ...signed }
    expect(executeTx(s, mine, context())).toMatchObject({ ok: false, type: "stake", error: expect.stringMatching(/^stake moves only on the ledger/) })
  })
})

describe("contribution scores", () => {
  it("commits in the current epoch only and reveals in the next", () => {
    const s = state()
    const commit = (epoch: number): Tx<"score-commit"> => ({ type: "score-commit", epoch, commitment: scoreCommitment(epoch, 40, SALT), signer: V0, ...signed })
    expect(executeTx(s, commit(1), context())).toEqual({ ok: false, type: "score-commit", error: "commitments for epoch 1 are not open (this is epoch 2)" })
    expect(executeTx(s, commit(2), context())).toEqual({ ok: true, type: "score-commit", receipts: [] })
    const reveal: Tx<"score-reveal"> = { type: "score-reveal", epoch: 2, score: 40, salt: SALT, signer: V0, ...signed }
    expect(executeTx(s, reveal, context())).toEqual({ ok: false, type: "score-reveal", error: "scores of epoch 2 are revealed in epoch 3, this is 2" })
    expect(executeTx(s, reveal, context({ height: 30, epoch: 3 }))).toEqual({ ok: true, type: "score-reveal", receipts: [] })
    // The signer's validator address acts for its operator id.
    expect(s.training.scores(2)).toEqual(new Map([["v0", 40]]))
  })
})

describe("training rounds", () => {
  const scores = [{ account: T1, score: 3 }, { account: "c0", score: 1 }]
  const result: Tx<"round-result"> = {
    type: "round-result", round: 7, modelHash: `0x${"11".repeat(32)}`, accuracy: 910_000, participants: [T1, "c0"],
    scoresCommitment: roundScoresCommitment(7, scores, SALT), signer: V0, ...signed,
  }
  const reveal: Tx<"round-scores"> = { type: "round-scores", round: 7, scores, salt: SALT, signer: V0, ...signed }

  it("takes a round's result from a validator only, as its operator, in this block's epoch", () => {
    const s = state()
    expect(executeTx(s, { ...result, signer: T1 }, context())).toEqual({
      ok: false, type: "round-result", error: `${T1} is not a validator: only a validator coordinates a training round`,
    })
    expect(executeTx(s, result, context())).toEqual({ ok: true, type: "round-result", receipts: [] })
    expect(s.training.rounds().get(7)).toMatchObject({ coordinator: "v0", height: 10, epoch: 2, accuracy: 910_000, loss: undefined, scores: undefined })
  })

  it("records the revealed scores once, in a block after the result (the epoch's report pays them)", () => {
    const s = state()
    executeTx(s, result, context())
    expect(executeTx(s, reveal, context())).toEqual({ ok: false, type: "round-scores", error: "the scores of round 7 are revealed in a block after its result" })
    expect(executeTx(s, reveal, context({ height: 11 }))).toEqual({ ok: true, type: "round-scores", receipts: [] })
    expect(s.training.roundScores(2)).toEqual(new Map([[T1, 3], ["c0", 1]]))
    expect(executeTx(s, reveal, context({ height: 12 }))).toEqual({ ok: false, type: "round-scores", error: "the scores of round 7 were revealed already" })
  })
})

describe("evidence", () => {
  it("refuses evidence without both votes, or for a height not executed yet, before looking anything up", () => {
    const s = state()
    const vote = { type: "prevote", height: 11, round: 0, blockHash: null, validator: V0, signature: SIG } as const
    expect(executeTx(s, { type: "evidence", voteA: vote } as never, context())).toEqual({ ok: false, type: "evidence", error: "evidence needs voteA and voteB" })
    expect(executeTx(s, { type: "evidence", voteA: vote, voteB: vote }, context())).toEqual({ ok: false, type: "evidence", error: "evidence height 11 is not a known height" })
  })
})
