/** A tiny sweep end to end on 2 worker threads: streamed results, CSV, report, resume, refusal of another sweep's directory. */
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { FileError } from "../scenario/decode-file.ts"
import { loadSweep, totalRuns } from "./file.ts"
import { runSweep } from "./run.ts"
import type { ResultLine } from "./task.ts"

const here = join(import.meta.dirname, "testdata")
const dir = mkdtempSync(join(tmpdir(), "dai-sweep-"))
copyFileSync(join(here, "tiny.yaml"), join(dir, "tiny.yaml"))
const text = "name: t\nscenario: tiny.yaml\nseeds: 2\ngrid: { slashing.doubleSignFraction: [0.02, 0.4], rewards.annualEmission: [0, 50000000] }\nmetrics: [attackerRoi, honestApr, stakeGini, supply]\nconstraints: { attackerRoi: \"< 0\", honestApr: \"> 0\" }\n"
writeFileSync(join(dir, "t.yaml"), text)
const sweep = loadSweep(text, join(dir, "t.yaml"))
const lines = (out: string) => readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as ResultLine)

describe("dai sim sweep", () => {
  it("runs every (point, seed) on 2 workers, streams results.jsonl, writes results.csv and an SVG report", { timeout: 120_000 }, async () => {
    const out = join(dir, "full")
    const r = await runSweep(sweep, { workers: 2, out })
    expect(totalRuns(sweep)).toBe(8)
    expect(r.ran).toBe(8)
    const got = lines(out)
    expect(got.map((l) => l.run).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    for (const l of got) {
      expect(l.outcome).toBe("passed")
      expect(typeof l.metrics.honestApr).toBe("number")
      expect(l.seed === 5 || l.seed === 6).toBe(true)
    }
    // No emission, no yield; emission pays honest stake.
    expect(got.filter((l) => l.params["rewards.annualEmission"] === 0).every((l) => l.metrics.honestApr === 0)).toBe(true)
    expect(got.filter((l) => l.params["rewards.annualEmission"] !== 0).every((l) => l.metrics.honestApr! > 0)).toBe(true)
    const csv = readFileSync(join(out, "results.csv"), "utf8").trim().split("\n")
    expect(csv[0]).toBe("run,point,scenario,seed,slashing.doubleSignFraction,rewards.annualEmission,outcome,attackerRoi,honestApr,stakeGini,supply")
    expect(csv).toHaveLength(9)
    const html = readFileSync(join(out, "report.html"), "utf8")
    expect(html).toContain("<svg")
    expect(html).toContain("<h3>Heat maps</h3>") // two swept parameters
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/)
    expect(r.aggregate.points).toHaveLength(4)
    for (const p of r.aggregate.points) {
      expect(p.runs).toBe(2)
      expect(p.outcomes).toEqual({ passed: 2, correctness: 0, liveness: 0, crash: 0 })
    }
    // Same runs, same results: the sweep is deterministic whatever the worker order.
    const again = await runSweep(sweep, { workers: 1, out: join(dir, "again") })
    const byRun = (ls: ResultLine[]) => JSON.stringify([...ls].sort((a, b) => a.run - b.run))
    expect(byRun(lines(join(dir, "again")))).toBe(byRun(got))
    expect(again.aggregate.points.map((p) => p.stats.attackerRoi!.mean)).toEqual(r.aggregate.points.map((p) => p.stats.attackerRoi!.mean))
  })

  it("resumes an interrupted sweep: runs already in results.jsonl are skipped, a torn last line is dropped", { timeout: 120_000 }, async () => {
    const out = join(dir, "resume")
    const first = await runSweep(sweep, { workers: 2, out, limit: 3 })
    expect(first.ran).toBe(3)
    appendFileSync(join(out, "results.jsonl"), '{"run":7,"point":3,"se') // killed mid-write
    const second = await runSweep(sweep, { workers: 2, out })
    expect(second.resumed).toBe(3)
    expect(second.ran).toBe(5)
    const runs = lines(out).map((l) => l.run).sort((a, b) => a - b)
    expect(runs).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const third = await runSweep(sweep, { workers: 2, out })
    expect(third.ran).toBe(0)
    expect(third.aggregate.runs).toBe(8)
  })

  it("refuses a results directory written by another version of the sweep", async () => {
    const out = join(dir, "other")
    await runSweep(sweep, { workers: 1, out, limit: 1 })
    const changed = loadSweep(text.replace("0.4", "0.5"), join(dir, "t.yaml"))
    await expect(runSweep(changed, { workers: 1, out })).rejects.toThrow(FileError)
    await expect(runSweep(changed, { workers: 1, out })).rejects.toThrow(/another version of this sweep/)
  })
})
