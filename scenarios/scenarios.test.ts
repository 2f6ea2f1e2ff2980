/** Every scenario in this folder passes, and replays bit for bit. */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseScenario } from "../sim/scenario/load.ts"
import { runScenario } from "../sim/scenario/run.ts"
import { prepareTraining } from "../sim/scenario/training-setup.ts"

const dir = import.meta.dirname
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()
const load = (f: string) => parseScenario(readFileSync(join(dir, f), "utf8"), `scenarios/${f}`)
/** Scenarios marked `slow: true` (real TensorFlow.js training) run only with DAI_SLOW_SCENARIOS=1. */
const runSlow = process.env.DAI_SLOW_SCENARIOS === "1"
const fast = files.filter((f) => runSlow || !load(f).slow)

describe("scenario library", () => {
  it("has the scenarios the consensus issue asks for", () => {
    for (const name of ["honest-4", "equivocation", "silent-2-of-7", "partition-heal", "crash-restart", "slow-validator"]) {
      expect(files).toContain(`${name}.yaml`)
    }
  })

  it.each(fast)("%s passes", async (f) => {
    const s = load(f)
    const training = await prepareTraining(s, s.seed)
    const report = runScenario(s, training === undefined ? {} : { training })
    expect(report.errors).toEqual([])
    for (const x of report.expectations) expect(x.passed, `${f}: ${x.name}: ${x.detail}`).toBe(true)
    expect(report.outcome).toBe("passed")
  })

  it("has the scenarios of the one ledger (issue 12)", () => {
    for (const name of ["param-change", "validator-join", "evidence-on-chain", "forge-round"]) expect(files).toContain(`${name}.yaml`)
  })

  it("gives the same trace hash for the same seed and another for another seed", () => {
    const s = load("partition-heal.yaml")
    const a = runScenario(s, { seed: 9 })
    expect(runScenario(s, { seed: 9 }).traceHash).toBe(a.traceHash)
    expect(runScenario(s, { seed: 10 }).traceHash).not.toBe(a.traceHash)
  })

  it("runs the same with real secp256k1 signatures", () => {
    const report = runScenario(load("equivocation.yaml"), { signatures: "secp256k1" })
    expect(report.outcome).toBe("passed")
    expect(report.metrics.slashed).toEqual(["v0"])
  })
})
