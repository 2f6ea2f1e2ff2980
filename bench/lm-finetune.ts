/**
 * Federated fine-tuning of the language model, round by round (bench/RESULTS.md, "Language model:
 * federated fine-tuning"): scenarios/lm-finetune.yaml (4 validators, 4 trainers on their own shards of
 * held-out fortunes, the GPT's last block and head fine-tuned, 64 windows of 32 bytes per trainer and
 * round) run by the simulator for ROUNDS rounds under each of several round settings — FedAvg, the
 * coordinate-wise median, secure aggregation, and DP (clip 1, noise 0.3) — printing the validation loss
 * each round committed (what every validator re-measured on the genesis evaluation set) against the
 * checkpoint's, and the CPU time of the run.
 *
 * Run: npx node bench/lm-finetune.ts   (ROUNDS=8; the backend is the best available, DAI_TF_BACKEND=wasm to pin it)
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { cpuUsage } from "node:process"
import type { Params } from "../runtime/core/params.ts"
import { parseScenario, type Scenario } from "../sim/scenario/load.ts"
import { runScenario } from "../sim/scenario/run.ts"
import { prepareTraining } from "../sim/scenario/training-setup.ts"
import type { ConsensusWorld } from "../sim/world/world.ts"

const ROUNDS = Number(process.env["ROUNDS"] ?? "8")
const base = parseScenario(readFileSync(join(import.meta.dirname, "../scenarios/lm-finetune.yaml"), "utf8"), "scenarios/lm-finetune.yaml")

const VARIANTS: ReadonlyArray<readonly [string, Partial<Params>]> = [
  ["fedavg", {}],
  ["median", { "training.aggregator": "median" }],
  ["fedavg + secure aggregation", { "training.secureAggregation": true }],
  ["fedavg + DP (clip 1, noise 0.3)", { "training.dp.clipNorm": 1, "training.dp.noiseMultiplier": 0.3 }],
]

const setup = (await prepareTraining(base, base.seed))!
const initial = setup.evaluate(setup.initialWeights)
console.log(`SEED=${base.seed} backend ${setup.backend}: ${base.trainers.length} trainers, ${ROUNDS} rounds; checkpoint's validation loss ${initial.loss.toFixed(4)} nats/byte, next-byte accuracy ${initial.accuracy.toFixed(4)}`)
for (const [name, over] of VARIANTS) {
  const scenario: Scenario = { ...base, params: { ...base.params, ...over } as Params, until: { rounds: ROUNDS, maxTime: base.until.maxTime } }
  let world: ConsensusWorld | undefined
  const cpu = cpuUsage()
  const wall = performance.now()
  const report = runScenario(scenario, { training: setup, onWorld: (w) => (world = w) })
  const used = cpuUsage(cpu)
  const rounds = [...world!.app("v0")!.rounds().values()].sort((a, b) => a.round - b.round)
  const losses = rounds.map((r) => (r.loss ?? NaN) / 1_000_000)
  const dp = report.metrics.epsilon === undefined ? "" : `, ε = ${report.metrics.epsilon.toFixed(2)} at δ = 1e-5`
  console.log(`| ${name} | ${losses.map((l) => l.toFixed(4)).join(" → ")} | ${(losses.at(-1)! - initial.loss).toFixed(4)} | ${((used.user + used.system) / 1e6).toFixed(1)} s CPU, ${((performance.now() - wall) / 1000).toFixed(1)} s wall | ${report.outcome}${dp}`)
}
