/**
 * Trainer compliance, the train → evaluate round trip: an update has the model's shape, applying it
 * makes progress, and neither call changes the weights it was given (the caller still owns them).
 */
import { afterEach, describe, expect, it } from "vitest"
import { apply, bitsOf, expectEvaluation, expectUpdateOfShape, run, type TrainerSetup } from "./harness.ts"

/** The round-trip tests. */
export const roundTripTests = (common: TrainerSetup): void => {
  describe("train and evaluate", () => {
    afterEach(() => common.teardown())

    it("returns an update of the model's shape, round after round, and evaluations within range", async () => {
      const { trainer, spec } = await common.setup({ seed: 3 })
      let w = await run(trainer.initialWeights)
      expectEvaluation(await run(trainer.evaluate(w)))
      for (let round = 0; round < 2; round++) {
        const u = await run(trainer.train(w, { ...spec, round }))
        expectUpdateOfShape(u, w.length)
        w = apply(w, u.delta)
        expectEvaluation(await run(trainer.evaluate(w)))
      }
    })

    it("applying a round's update lowers the evaluation loss from the initial weights", async () => {
      const { trainer, spec } = await common.setup({ seed: 4 })
      const w0 = await run(trainer.initialWeights)
      const before = await run(trainer.evaluate(w0))
      const u = await run(trainer.train(w0, spec))
      const after = await run(trainer.evaluate(apply(w0, u.delta)))
      expect(after.loss).toBeLessThan(before.loss)
      expect(after.samples).toBe(before.samples)
    })

    it("leaves the weights it is given as they were", async () => {
      const { trainer, spec } = await common.setup({ seed: 5 })
      const w0 = await run(trainer.initialWeights)
      const kept = bitsOf(w0)
      const u = await run(trainer.train(w0, spec))
      expect(bitsOf(w0), "train changed the global weights").toBe(kept)
      const w1 = apply(w0, u.delta)
      const keptW1 = bitsOf(w1)
      await run(trainer.evaluate(w1))
      expect(bitsOf(w1), "evaluate changed the weights").toBe(keptW1)
    })
  })
}
