import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCommand } from "../../cli/command.ts"
import { sweepCommand } from "../../cli/sweep.ts"
import { FileError } from "../scenario/decode-file.ts"
import { loadSweep, pointAt, totalRuns } from "./file.ts"

const dir = mkdtempSync(join(tmpdir(), "dai-sweep-file-"))
writeFileSync(join(dir, "base.yaml"), "name: base\nnetwork: { validators: 4 }\nuntil: { height: 3 }\n")
writeFileSync(join(dir, "broken.yaml"), "name: broken\nnetwork: { validators: 4, colour: red }\nuntil: { height: 3 }\n")
const file = join(dir, "s.yaml")
const load = (text: string) => loadSweep(text, file)
const failure = (text: string): FileError => {
  try {
    load(text)
  } catch (e) {
    if (e instanceof FileError) return e
    throw e
  }
  throw new Error("expected the sweep to be refused")
}

const head = "name: s\nscenario: base.yaml\n"

describe("sweep file", () => {
  it("decodes a grid: points × seeds, every combination", () => {
    const s = load(`${head}seeds: 3\ngrid:\n  slashing.doubleSignFraction: [0.01, 0.1]\n  staking.insuranceFraction: [0, 0.25, 0.5]\nmetrics: [attackerRoi]\nconstraints: { attackerRoi: "< 0" }\n`)
    expect(totalRuns(s)).toBe(18)
    const combos = new Set(Array.from({ length: 6 }, (_, i) => JSON.stringify(pointAt(s, i).params)))
    expect(combos.size).toBe(6)
    expect(s.constraints).toEqual([{ metric: "attackerRoi", op: "<", value: 0, text: "< 0" }])
  })

  it("draws random points inside the ranges (integers stay whole)", () => {
    const s = load(`${head}random: { samples: 20, ranges: { slashing.downtimeFraction: [0, 0.01], slashing.downtimeWindow: [10, 200] } }\n`)
    for (let i = 0; i < 20; i++) {
      const p = pointAt(s, i).params
      expect(p["slashing.downtimeFraction"]).toBeGreaterThanOrEqual(0)
      expect(p["slashing.downtimeFraction"]).toBeLessThanOrEqual(0.01)
      expect(Number.isInteger(p["slashing.downtimeWindow"])).toBe(true)
    }
  })

  it.each([
    ["an unknown key", `${head}grid: { slashing.doubleSignFraction: [0.1] }\ncolour: red\n`, "colour", "unknown key"],
    ["a value outside the constitution's bounds", `${head}grid: { slashing.doubleSignFraction: [0.1, 2] }\n`, "grid.slashing.doubleSignFraction[1]", "slashing.doubleSignFraction"],
    ["an unknown parameter", `${head}grid: { slashing.doubleSign: [0.1] }\n`, "grid.slashing.doubleSign", "unknown parameter"],
    ["an unknown metric", `${head}grid: { slashing.doubleSignFraction: [0.1] }\nmetrics: [attackerROI]\n`, "metrics[0]", "unknown metric"],
    ["a malformed constraint", `${head}grid: { slashing.doubleSignFraction: [0.1] }\nmetrics: [attackerRoi]\nconstraints: { attackerRoi: "below 0" }\n`, "constraints.attackerRoi", "comparison"],
    ["a constraint on a metric not swept", `${head}grid: { slashing.doubleSignFraction: [0.1] }\nmetrics: [honestApr]\nconstraints: { attackerRoi: "< 0" }\n`, "constraints.attackerRoi", "not among"],
    ["both grid and random", `${head}grid: { slashing.doubleSignFraction: [0.1] }\nrandom: { samples: 2, ranges: { slashing.doubleSignFraction: [0.01, 0.1] } }\n`, "random", "exactly one"],
    ["neither grid nor random", head, "", "exactly one"],
    ["a reversed range", `${head}random: { samples: 2, ranges: { slashing.doubleSignFraction: [0.5, 0.1] } }\n`, "random.ranges.slashing.doubleSignFraction", "above the high end"],
    ["a range over a non-numeric parameter", `${head}random: { samples: 2, ranges: { training.aggregator: [1, 2] } }\n`, "random.ranges.training.aggregator", "numeric"],
    ["a missing scenario", "name: s\nscenario: nowhere.yaml\ngrid: { slashing.doubleSignFraction: [0.1] }\n", "scenario", "cannot read scenario nowhere.yaml"],
    ["zero seeds", `${head}seeds: 0\ngrid: { slashing.doubleSignFraction: [0.1] }\n`, "seeds", "whole number"],
    ["a combination that breaks a cross-parameter rule", `${head}grid: { staking.lockMultiplier30d: [1.5], staking.lockMultiplier90d: [1.2] }\n`, "grid", "point 0"],
  ])("refuses %s, naming the key and the file", (_what, text, key, reason) => {
    const e = failure(text)
    expect(e).toBeInstanceOf(FileError)
    expect((e as FileError).key).toBe(key)
    expect(e.message).toContain(file)
    expect(e.message).toContain(reason)
  })

  it("a bad base scenario is reported against the scenario file", () => {
    const e = failure("name: s\nscenario: broken.yaml\ngrid: { slashing.doubleSignFraction: [0.1] }\n")
    expect(e).toBeInstanceOf(FileError)
    expect(e.message).toContain("broken.yaml")
    expect((e as FileError).key).toBe("network.colour")
  })

  it("dai sim sweep exits 2 on a bad file, before running anything", async () => {
    const bad = join(dir, "bad.yaml")
    writeFileSync(bad, `${head}grid: { slashing.doubleSignFraction: [7] }\n`)
    const err: string[] = []
    const code = await runCommand("dai sim", sweepCommand, [bad, "--out", join(dir, "never")], { out: () => {}, err: (t) => void err.push(t) })
    expect(code).toBe(2)
    expect(err.join("\n")).toContain(`${bad}: grid.slashing.doubleSignFraction[0]`)
  })
})
