/**
 * The Trainer port's compliance suite: every implementation (the simulator's statistical trainer,
 * the TensorFlow.js trainer) must pass it. One file per topic; `trainerSuite` runs them all against
 * the trainers `common` sets up. Run a real trainer on a tiny model and data set: the suite checks
 * the port's contract, not how well a model learns.
 */
import { describe } from "vitest"
import { determinismTests } from "./determinism.ts"
import type { TrainerSetup } from "./harness.ts"
import { roundTripTests } from "./round-trip.ts"
import { weightsTests } from "./weights.ts"

export type { TrainerHarness, TrainerSetup, TrainerSetupArgs } from "./harness.ts"

/** Runs every Trainer topic against `common`, under `Trainer compliance: <name>`. */
export const trainerSuite = (name: string, common: TrainerSetup): void => {
  describe(`Trainer compliance: ${name}`, () => {
    weightsTests(common)
    roundTripTests(common)
    determinismTests(common)
  })
}
