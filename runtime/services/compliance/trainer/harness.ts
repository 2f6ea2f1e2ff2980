/**
 * What the Trainer suite's topics share. A setup builds a trainer from a seed (as a node builds its
 * trainer from the run's seed) on a model and data small enough for a test, with the round settings
 * that world trains with.
 */
import { Effect } from "effect"
import { expect } from "vitest"
import type { Evaluation, LocalUpdate, Trainer, TrainSpec } from "../../trainer.ts"
import type { TestSetup } from "../test-setup.ts"

export interface TrainerHarness {
  readonly trainer: Trainer["Service"]
  /** Round settings under which one round of local training makes progress on this trainer's data. */
  readonly spec: TrainSpec
}

/** What a test asks for: the seed the trainer derives its weights and randomness from. */
export interface TrainerSetupArgs {
  readonly seed: number
}

/** How the Trainer suite gets a trainer. */
export type TrainerSetup = TestSetup<TrainerHarness, TrainerSetupArgs>

/** Runs an effect of the port, as a promise. */
export const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)

/** `weights + delta`, the weights a round's update leads to. */
export const apply = (weights: Float32Array, delta: Float32Array): Float32Array => weights.map((w, i) => w + delta[i]!)

/** The bytes of a weight vector, for bit-exact comparison (NaN and -0 included). */
export const bitsOf = (w: Float32Array): string => Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString("base64")

/** An update of a model with `size` weights: a finite delta of that length, a positive whole sample count, a finite loss ≥ 0. */
export const expectUpdateOfShape = (u: LocalUpdate, size: number): void => {
  expect(u.delta).toBeInstanceOf(Float32Array)
  expect(u.delta).toHaveLength(size)
  expect(u.delta.every(Number.isFinite), "every delta value is finite").toBe(true)
  expect(Number.isSafeInteger(u.samples) && u.samples > 0, `samples ${u.samples}`).toBe(true)
  expect(Number.isFinite(u.loss) && u.loss >= 0, `loss ${u.loss}`).toBe(true)
}

/** An evaluation: an accuracy in [0, 1], a finite loss ≥ 0, a positive whole sample count. */
export const expectEvaluation = (e: Evaluation): void => {
  expect(e.accuracy).toBeGreaterThanOrEqual(0)
  expect(e.accuracy).toBeLessThanOrEqual(1)
  expect(Number.isFinite(e.loss) && e.loss >= 0, `loss ${e.loss}`).toBe(true)
  expect(Number.isSafeInteger(e.samples) && e.samples > 0, `samples ${e.samples}`).toBe(true)
}
