/**
 * The validators' check of a claimed round accuracy: a claim within the tolerance of what the node
 * measures passes, one beyond it (or a model nobody serves) is refused, a provably forged result is
 * let through to be punished on chain, a verdict waits for a model still being fetched, and what the
 * node proposes is filtered the same way.
 */
import { describe, expect, it } from "vitest"
import { encodeTx, type SignedTx } from "../../core/app/txs.ts"
import { ZERO_HASH, type AppTx, type Block } from "../../core/consensus/types.ts"
import { ResultCheck, type ResultCheckOptions } from "./result-check.ts"

const MODEL = `0x${"11".repeat(32)}`
const OTHER = `0x${"22".repeat(32)}`
const result = (accuracy: number, over: Partial<Extract<SignedTx, { type: "round-result" }>> = {}): AppTx => encodeTx({
  type: "round-result", round: 3, modelHash: MODEL, accuracy, participants: ["t0"], attestations: [{ updateHash: `0x${"33".repeat(32)}`, signature: `0x${"44".repeat(65)}` }],
  scoresCommitment: `0x${"55".repeat(32)}`, signer: `0x${"0a".repeat(20)}`, nonce: 0, signature: `0x${"66".repeat(65)}`, ...over,
} as SignedTx) as unknown as AppTx
const block = (...txs: AppTx[]): Block => ({ height: 5, round: 0, proposer: `0x${"0a".repeat(20)}`, parentHash: ZERO_HASH, time: 0, txs, appHash: ZERO_HASH })

/** A check whose models measure 0.9 (the one with hash MODEL) and whose fetches answer when `deliver` is called. */
const setup = (over: Partial<ResultCheckOptions> = {}) => {
  const pending: Array<() => void> = []
  let evaluations = 0
  const check = new ResultCheck({
    tolerance: () => 0.02,
    forged: (tx) => (tx.participants.includes("nobody") ? "nobody is not a bonded trainer or a validator" : undefined),
    fetch: (hash, _round, done) => void pending.push(() => done(hash === MODEL ? new Float32Array(1) : undefined)),
    evaluate: () => {
      evaluations++
      return 0.9
    },
    ...over,
  })
  const verdicts: Array<string | undefined> = []
  return { check, verdicts, on: (v: string | undefined) => void verdicts.push(v), deliver: () => pending.splice(0).forEach((f) => f()), evaluations: () => evaluations }
}

describe("the check of a claimed round accuracy", () => {
  it("answers once the model is measured: within the tolerance it passes, beyond it is refused", () => {
    const s = setup()
    s.check.judge(block(result(915_000)), s.on)
    expect(s.verdicts).toEqual([]) // the model is still being fetched: no verdict yet
    s.deliver()
    expect(s.verdicts).toEqual([undefined])
    s.check.judge(block(result(999_999)), s.on) // measured already: at once
    expect(s.verdicts[1]).toBe("round 3 claims accuracy 0.999999, measured 0.9 on the genesis evaluation set (tolerance 0.02)")
    expect(s.evaluations()).toBe(1)
  })

  it("refuses a result whose model nobody serves, and lets a provably forged one through to the chain", () => {
    const s = setup()
    s.check.judge(block(result(900_000, { modelHash: OTHER })), s.on)
    s.deliver()
    expect(s.verdicts).toEqual([`round 3: nobody serves its model ${OTHER}, so its accuracy cannot be checked`])
    s.check.judge(block(result(999_999, { modelHash: OTHER, participants: ["nobody"] })), s.on)
    expect(s.verdicts[1]).toBeUndefined()
  })

  it("asks again for a model nobody served before (a lost answer does not refuse it for good)", () => {
    let served = false
    const s = setup({ fetch: (hash, _round, done) => done(served && hash === MODEL ? new Float32Array(1) : undefined) })
    s.check.judge(block(result(900_000)), s.on)
    served = true
    s.check.judge(block(result(900_000)), s.on)
    expect(s.verdicts).toEqual([`round 3: nobody serves its model ${MODEL}, so its accuracy cannot be checked`, undefined])
  })

  it("judges a block without round results at once", () => {
    const s = setup()
    s.check.judge(block({ type: "last-commit" }), s.on)
    expect(s.verdicts).toEqual([undefined])
  })

  it("proposes only results it measured within the tolerance (a model at hand is measured at once)", () => {
    const later = setup()
    expect(later.check.admits(result(900_000))).toBe(false) // fetching
    later.deliver()
    expect(later.check.admits(result(900_000))).toBe(true)
    expect(later.check.admits(result(999_999))).toBe(false)
    expect(later.check.admits({ type: "stake" })).toBe(true)
    const atHand = setup({ fetch: (_h, _r, done) => done(new Float32Array(1)) })
    expect(atHand.check.admits(result(900_000))).toBe(true)
  })

  it("with checkLoss (the language model's fine-tuning), re-measures the claimed validation loss too", () => {
    // Measures accuracy 0.35 and loss 2.25 nats; the tolerance 0.02 is 2 % of the measured loss (0.045 nats).
    const lm = (loss: number | undefined) => {
      const s = setup({ evaluate: () => ({ accuracy: 0.35, loss: 2.25 }), checkLoss: () => true, fetch: (_h, _r, done) => done(new Float32Array(1)) })
      s.check.judge(block(result(350_000, loss === undefined ? {} : { loss })), s.on)
      return s.verdicts[0]
    }
    expect(lm(2_250_000)).toBeUndefined()
    expect(lm(2_290_000)).toBeUndefined()
    expect(lm(2_200_000)).toBe("round 3 claims validation loss 2.2, measured 2.25 on the genesis evaluation set (tolerance 0.045)")
    expect(lm(undefined)).toBe("round 3 claims no validation loss; measured 2.25 on the genesis evaluation set")
    // Without checkLoss (MNIST), the loss is not judged.
    const mnist = setup({ evaluate: () => ({ accuracy: 0.9, loss: 0.3 }), fetch: (_h, _r, done) => done(new Float32Array(1)) })
    mnist.check.judge(block(result(900_000, { loss: 5_000_000 })), mnist.on)
    expect(mnist.verdicts).toEqual([undefined])
  })
})
