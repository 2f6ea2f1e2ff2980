import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCaptured } from "./dai.ts"

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

  it("prints the JSON object of scenarios/README.md with --json, and honours --seed", async () => {
    const r = await dai("sim", "run", "scenarios/equivocation.yaml", "--json", "--seed", "5")
    expect(r.code).toBe(0)
    expect(r.err.trim()).toBe("SEED=5")
    const report = JSON.parse(r.out) as Record<string, unknown> & { metrics: Record<string, unknown>; expectations: Array<Record<string, unknown>> }
    expect(Object.keys(report)).toEqual(expect.arrayContaining(["scenario", "seed", "passed", "expectations", "metrics", "traceHash"]))
    expect(report.seed).toBe(5)
    expect(report.outcome).toBe("passed")
    expect(Object.keys(report.metrics)).toEqual(expect.arrayContaining(["height", "time", "rounds", "slashed"]))
    expect(report.expectations[0]).toEqual(expect.objectContaining({ name: "safety", passed: true }))
    expect(report.metrics.slashed).toEqual(["v0"])
  })

  describe("tells a correctness failure from a liveness failure from a crash (the exit codes of scenarios/README.md)", () => {
    const outcome = (out: string) => (JSON.parse(out) as { outcome: string; passed: boolean }).outcome

    it("exits 1 when a correctness expectation fails: a crashed validator is slashed for downtime though it never misbehaved", async () => {
      const path = file("correctness.yaml", [
        "name: crashed-validator-slashed",
        "network: { validators: 4 }",
        "params: { slashing.downtimeWindow: 10, slashing.minSignedPerWindow: 0.5, consensus.epochLength: 6 }",
        "until: { height: 15, maxTime: 2m }",
        "events:",
        "  - at: { time: 1s }",
        "    crash: v3",
        "expect: { safety: true, minHeight: 15, honestNotSlashed: true, supplyConserved: true }",
      ].join("\n"))
      const r = await dai("sim", "run", path)
      expect(r.code).toBe(1)
      expect(r.out).toMatch(/^FAILED \(correctness\) {2}crashed-validator-slashed {2}\(SEED=0, exit 1\)$/m)
      expect(r.out).toMatch(/FAIL {2}honestNotSlashed {2}\[correctness\] honest validators slashed: v3/)
      expect(r.out).toMatch(/ok {4}minHeight/)
      const json = await dai("sim", "run", path, "--json")
      expect(json.code).toBe(1)
      expect(outcome(json.out)).toBe("correctness")
    })

    it("exits 3 when the chain cannot make progress while every correctness expectation holds: 2 of 4 validators silent", async () => {
      const path = file("liveness.yaml", [
        "name: half-silent",
        "network: { validators: 4 }",
        "until: { height: 5, maxTime: 20s }",
        "events:",
        "  - at: { time: 0s }",
        "    byzantine: { nodes: [v2, v3], behavior: silent }",
        "expect: { safety: true, minHeight: 5, honestNotSlashed: true, supplyConserved: true }",
      ].join("\n"))
      const r = await dai("sim", "run", path, "--json")
      expect(r.code).toBe(3)
      const report = JSON.parse(r.out) as { outcome: string; passed: boolean; expectations: Array<{ name: string; kind: string; passed: boolean }> }
      expect(report.outcome).toBe("liveness")
      expect(report.passed).toBe(false)
      expect(report.expectations.filter((x) => !x.passed).map((x) => [x.name, x.kind])).toEqual([["minHeight", "liveness"], ["until", "liveness"]])
      expect(report.expectations.filter((x) => x.kind === "correctness").every((x) => x.passed)).toBe(true)
    })

    it("exits 4 when the simulator throws: a sybil-split with no honest replica to measure the vote on", async () => {
      const path = file("crash.yaml", [
        "name: sybil-alone",
        "network: { validators: 1 }",
        "until: { time: 5s }",
        "events:",
        "  - at: { time: 1s }",
        "    byzantine: { nodes: [v0], behavior: sybil-split, identities: 4 }",
      ].join("\n"))
      const r = await dai("sim", "run", path, "--json")
      expect(r.code).toBe(4)
      const report = JSON.parse(r.out) as { outcome: string; errors: string[] }
      expect(report.outcome).toBe("crash")
      expect(report.errors[0]).toMatch(/sybil-split at 1000 ms: no honest validator is running/)
    })

    it("says so in --help", async () => {
      const r = await dai("sim", "run", "--help")
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/exit 0 when every expectation holds, 1 on a correctness failure .*, 2 on a bad file or arguments, 3 on a liveness failure .*, 4 when a node or the simulator threw/)
    })
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
