/**
 * Trainer compliance, determinism: two trainers built from the same seed, given the same weights and
 * round settings in the same order, return bit-identical updates and evaluations — which is what lets
 * a simulated run replay from its seed and every node of a real one check a round. (The tfjs trainer
 * promises it on one TensorFlow.js backend; the suite runs each trainer on one.)
 */
import { afterEach, describe, expect, it } from "vitest"
import { apply, bitsOf, run, type TrainerHarness, type TrainerSetup } from "./harness.ts"

/** Two rounds from the initial weights; everything a caller can observe, as comparable values. */
const twoRounds = async ({ trainer, spec }: TrainerHarness) => {
  const seen: unknown[] = []
  let w = await run(trainer.initialWeights)
  seen.push(bitsOf(w))
  for (let round = 0; round < 2; round++) {
    const u = await run(trainer.train(w, { ...spec, round }))
    seen.push(bitsOf(u.delta), u.samples, u.loss)
    w = apply(w, u.delta)
    seen.push(await run(trainer.evaluate(w)))
  }
  return seen
}

/** The determinism tests. */
export const determinismTests = (common: TrainerSetup): void => {
  describe("determinism", () => {
    afterEach(() => common.teardown())

    it("the same seed, weights and rounds give bit-identical updates and evaluations", async () => {
      const first = await twoRounds(await common.setup({ seed: 6 }))
      const second = await twoRounds(await common.setup({ seed: 6 }))
      expect(second).toEqual(first)
    })
  })
}
