/** Trainer compliance, initial weights: one flat vector of finite numbers, derived from the seed, handed out as a copy. */
import { afterEach, describe, expect, it } from "vitest"
import { bitsOf, run, type TrainerSetup } from "./harness.ts"

/** The initial-weights tests. */
export const weightsTests = (common: TrainerSetup): void => {
  describe("initial weights", () => {
    afterEach(() => common.teardown())

    it("are a non-empty flat vector of finite numbers, the same for the same seed", async () => {
      const a = await common.setup({ seed: 1 })
      const b = await common.setup({ seed: 1 })
      const w = await run(a.trainer.initialWeights)
      expect(w).toBeInstanceOf(Float32Array)
      expect(w.length).toBeGreaterThan(0)
      expect(w.every(Number.isFinite), "every weight is finite").toBe(true)
      expect(bitsOf(await run(b.trainer.initialWeights))).toBe(bitsOf(w))
    })

    it("are handed out as a copy: changing one changes nothing the trainer hands out next", async () => {
      const { trainer } = await common.setup({ seed: 2 })
      const first = await run(trainer.initialWeights)
      const kept = bitsOf(first)
      first.fill(123)
      expect(bitsOf(await run(trainer.initialWeights))).toBe(kept)
    })
  })
}
