import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCaptured } from "../dai.ts"

const dai = runCaptured
const dir = mkdtempSync(join(tmpdir(), "dai-cli-"))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe("dai sim run", () => {
  it("prints SEED first and exits 0 when every expectation holds", async () => {
    const r = await dai("sim", "run", "scenarios/honest-4.yaml")
    expect(r.code).toBe(0)
    expect(r.out.split("\n")[0]).toBe("SEED=1")
    expect(r.out).toMatch(/PASSED {2}honest-4/)
  })

  it("exits 2 naming the file and the problem when the training backend cannot start", async () => {
    const before = process.env.DAI_TF_BACKEND
    process.env.DAI_TF_BACKEND = "bogus"
    try {
      const r = await dai("sim", "run", "scenarios/train-mnist.yaml")
      expect(r.code).toBe(2)
      expect(r.err).toMatch(/^dai sim run: scenarios\/train-mnist\.yaml: selectBackend: \$DAI_TF_BACKEND: unknown TensorFlow\.js backend "bogus"/m)
    } finally {
      if (before === undefined) delete process.env.DAI_TF_BACKEND
      else process.env.DAI_TF_BACKEND = before
    }
  })

  it("prints the JSON object of SCENARIOS.md with --json, and honours --seed", async () => {
    const r = await dai("sim", "run", "scenarios/equivocation.yaml", "--json", "--seed", "5")
    expect(r.code).toBe(0)
    expect(r.err.trim()).toBe("SEED=5")
    const report = JSON.parse(r.out) as Record<string, unknown> & { metrics: Record<string, unknown>; expectations: Array<Record<string, unknown>> }
    expect(Object.keys(report)).toEqual(expect.arrayContaining(["scenario", "seed", "passed", "expectations", "metrics", "traceHash"]))
    expect(report.seed).toBe(5)
    expect(Object.keys(report.metrics)).toEqual(expect.arrayContaining(["height", "time", "rounds", "slashed"]))
    expect(report.expectations[0]).toEqual(expect.objectContaining({ name: "safety", passed: true }))
    expect(report.metrics.slashed).toEqual(["v0"])
  })

  it("exits 1 when an expectation fails", async () => {
    const path = file("short.yaml", "name: short\nnetwork: { validators: 4 }\nuntil: { time: 5s }\nexpect: { minHeight: 1000 }\n")
    const r = await dai("sim", "run", path)
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/FAIL {2}minHeight/)
  })

  it("exits 2 naming the file and key of a bad scenario, or a missing file", async () => {
    const path = file("bad.yaml", "name: bad\nnetwork: { validators: 4 }\nuntil: { height: 3 }\nevents:\n  - at: { time: 1s }\n    crash: v7\n")
    const r = await dai("sim", "run", path)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`${path}: events[0].crash: unknown node "v7"`)
    expect((await dai("sim", "run", join(dir, "missing.yaml"))).code).toBe(2)
    expect((await dai("sim", "run")).code).toBe(2)
    expect((await dai("sim", "run", path, "--seed", "-3")).code).toBe(2)
  })

  it("writes a trace that replay reads back with the same hash", async () => {
    const trace = join(dir, "t.jsonl")
    const run = await dai("sim", "run", "scenarios/honest-4.yaml", "--json", "--trace", trace)
    const hash = (JSON.parse(run.out) as { traceHash: string }).traceHash
    expect(readFileSync(trace, "utf8").split("\n").length).toBeGreaterThan(100)
    const replay = await dai("sim", "replay", trace, "--kind", "block.committed", "--node", "v0")
    expect(replay.code).toBe(0)
    expect(replay.out).toContain(`trace hash ${hash}`)
    expect(replay.out).toMatch(/v0 +block\.committed +.*height=10 /)
    expect((await dai("sim", "replay", trace, "--from", "soon")).code).toBe(2)
  })
})
