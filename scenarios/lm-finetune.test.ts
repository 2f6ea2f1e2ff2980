/**
 * The federated fine-tuning of the language model in the simulator (scenarios/lm-finetune.yaml): every
 * round commits with the validation loss its coordinator claimed, which is exactly what the validators
 * measured on the genesis evaluation set (they re-measure before voting), and the loss after the last
 * round is below the checkpoint's. The run is deterministic for its seed on one backend; what is
 * asserted is what that run guarantees (the committed losses are the measured ones, every round
 * commits, the model improves on the evaluation set), not a figure of one backend.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { modelHash } from "../runtime/core/training/hash.ts"
import type { Evaluation } from "../runtime/services/trainer.ts"
import { parseScenario } from "../sim/scenario/load.ts"
import { runScenario } from "../sim/scenario/run.ts"
import { prepareTraining } from "../sim/scenario/training-setup.ts"
import type { ConsensusWorld } from "../sim/world/world.ts"

const scenario = parseScenario(readFileSync(join(import.meta.dirname, "lm-finetune.yaml"), "utf8"), "scenarios/lm-finetune.yaml")

describe("federated fine-tuning of the language model (lm-finetune.yaml)", () => {
  it("commits every round with the loss the validators re-measured, and the loss falls below the checkpoint's", async () => {
    const setup = (await prepareTraining(scenario, scenario.seed))!
    // Every evaluation the world makes (coordinators and validators), by model hash.
    const measured = new Map<string, Evaluation>()
    const observed = { ...setup, evaluate: (w: Float32Array) => {
      const e = setup.evaluate(w)
      measured.set(modelHash(w), e)
      return e
    } }
    let world: ConsensusWorld | undefined
    const report = runScenario(scenario, { training: observed, onWorld: (w) => (world = w) })
    expect(report.errors).toEqual([])
    expect(report.outcome).toBe("passed")
    const initial = setup.evaluate(setup.initialWeights).loss
    const rounds = [...world!.app("v0")!.rounds().values()].sort((a, b) => a.round - b.round)
    expect(rounds.length).toBe(4)
    const curve = rounds.map((r) => r.loss! / 1_000_000)
    console.log(`SEED=${scenario.seed} backend ${setup.backend}: validation loss ${initial.toFixed(4)} → ${curve.map((l) => l.toFixed(4)).join(" → ")}`)
    for (const r of rounds) {
      const m = measured.get(r.modelHash)
      expect(m, `round ${r.round}'s model was measured`).toBeDefined()
      expect(r.loss).toBe(Math.round(m!.loss * 1_000_000))
      expect(r.accuracy).toBe(Math.round(m!.accuracy * 1_000_000))
    }
    // Every validator's chain holds the same rounds (a replica one block behind holds fewer).
    for (const v of scenario.validators) for (const r of world!.app(v)!.rounds().values()) expect(r.loss).toBe(rounds[r.round - rounds[0]!.round]!.loss)
    // No round takes the loss up by more than the re-measure tolerance (a fraction of the loss), and the last is below the checkpoint's.
    const tolerance = scenario.params["training.accuracyTolerance"]
    curve.forEach((l, i) => expect(l).toBeLessThanOrEqual((i === 0 ? initial : curve[i - 1]!) * (1 + tolerance)))
    expect(curve.at(-1)!).toBeLessThan(initial)
  }, 240_000)
})
