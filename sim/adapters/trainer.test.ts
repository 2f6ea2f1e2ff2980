import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { trainerSuite, type TrainerSetupArgs } from "../../runtime/services/compliance/trainer/index.ts"
import { Prng } from "../kernel/prng.ts"
import { evaluateOnTask, makeStatisticalTrainer, makeTask } from "./trainer.ts"

const spec = { round: 0, localEpochs: 1, batchSize: 32, learningRate: 0.05 }

// The port's suite on one statistical trainer of a run seeded with `seed` (its task and its own PRNG
// stream derive from the seed, as in a simulated world).
trainerSuite("statistical", testSetup(async ({ seed }: TrainerSetupArgs) => {
  const root = Prng.fromSeed(seed)
  const task = makeTask(root.child("task"))
  return { trainer: makeStatisticalTrainer({ task, prng: root.child("t0"), samples: 500, heterogeneity: 0.1 }), spec }
}))

/** FedAvg rounds with the statistical trainers; returns accuracy after each round. */
const run = (seed: number, rounds: number, heterogeneity: number) => {
  const root = Prng.fromSeed(seed)
  const task = makeTask(root.child("task"))
  const trainers = Array.from({ length: 5 }, (_, i) =>
    makeStatisticalTrainer({ task, prng: root.child(`t${i}`), samples: 500 + 100 * i, heterogeneity }))
  let global = Effect.runSync(trainers[0]!.initialWeights)
  const curve: number[] = []
  for (let r = 0; r < rounds; r++) {
    const updates = trainers.map((t) => Effect.runSync(t.train(global, { ...spec, round: r })))
    const total = updates.reduce((s, u) => s + u.samples, 0)
    global = global.map((w, i) => w + updates.reduce((s, u) => s + (u.delta[i] ?? 0) * u.samples, 0) / total)
    curve.push(evaluateOnTask(task, global).accuracy)
  }
  return curve
}

describe("statistical trainer", () => {
  it("FedAvg over honest trainers climbs toward the ceiling", () => {
    const curve = run(1, 20, 0.1)
    expect(curve[0]!).toBeLessThan(curve[19]!)
    expect(curve[19]!).toBeGreaterThan(0.9)
  })

  it("is deterministic for a seed and differs across seeds", () => {
    expect(run(7, 5, 0.3)).toEqual(run(7, 5, 0.3))
    expect(run(7, 5, 0.3)).not.toEqual(run(8, 5, 0.3))
  })

  it("more heterogeneous data converges to a worse model", () => {
    expect(run(3, 30, 2)[29]!).toBeLessThan(run(3, 30, 0)[29]!)
  })
})
