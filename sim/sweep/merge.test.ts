/** Shards and merge: `--shard I/N` runs its share only; `dai sim merge` joins the shards' directories into the whole sweep, once each run. */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCommand } from "../../cli/command.ts"
import { mergeCommand } from "../../cli/sweep.ts"
import { FileError } from "../scenario/decode-file.ts"
import { loadSweep } from "./file.ts"
import { mergeResults } from "./merge.ts"
import { runSweep } from "./run.ts"
import type { ResultLine } from "./task.ts"

const here = join(import.meta.dirname, "testdata")
const dir = mkdtempSync(join(tmpdir(), "dai-merge-"))
copyFileSync(join(here, "tiny.yaml"), join(dir, "tiny.yaml"))
const text = "name: m\nscenario: tiny.yaml\nseeds: 2\ngrid: { slashing.doubleSignFraction: [0.02, 0.4, 0.6] }\nmetrics: [attackerRoi, honestApr]\n"
writeFileSync(join(dir, "m.yaml"), text)
const sweep = loadSweep(text, join(dir, "m.yaml"))
const lines = (out: string) => readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as ResultLine)

describe("dai sim sweep --shard and dai sim merge", () => {
  it("three shards run their runs (I mod 3) and merge into every run once; a missing shard is named, and exit 1", { timeout: 180_000 }, async () => {
    const shards = [0, 1, 2].map((index) => join(dir, `shard-${index}`))
    for (const [index, out] of shards.entries()) {
      const r = await runSweep(sweep, { workers: 1, out, shard: { index, count: 3 } })
      expect(r.ran).toBe(2)
      expect(lines(out).map((l) => l.run % 3)).toEqual([index, index])
    }
    // A shard's directory is refused for another shard or the whole sweep.
    await expect(runSweep(sweep, { workers: 1, out: shards[0]!, shard: { index: 1, count: 3 } })).rejects.toThrow(/holds shard 0\/3 of this sweep, not shard 1\/3/)
    await expect(runSweep(sweep, { workers: 1, out: shards[0]! })).rejects.toThrow(FileError)

    const err: string[] = []
    const io = { out: () => {}, err: (t: string) => void err.push(t) }
    expect(await runCommand("dai sim", mergeCommand, [shards[0]!, shards[1]!, "--out", join(dir, "partial")], io)).toBe(1)
    expect(err.at(-1)).toMatch(/^2 of 6 runs are in none of them; run them with: dai sim sweep .*m\.yaml --out .*partial$/)

    const merged = await mergeResults([...shards, shards[0]!], join(dir, "merged"))
    expect(merged.missing).toBe(0)
    expect(merged.taken).toEqual([2, 2, 2, 0])
    const got = lines(join(dir, "merged"))
    expect(got.map((l) => l.run).sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(merged.aggregate.points.map((p) => p.runs)).toEqual([2, 2, 2])
    // The merged directory is a whole sweep's: resuming it runs nothing.
    const resumed = await runSweep(sweep, { workers: 1, out: join(dir, "merged") })
    expect(resumed.ran).toBe(0)
    expect(resumed.resumed).toBe(6)

    // Another sweep's directory is refused by name.
    const other = loadSweep(text.replace("0.6", "0.7"), join(dir, "m.yaml"))
    await runSweep(other, { workers: 1, out: join(dir, "other"), limit: 1 })
    await expect(mergeResults([shards[0]!, join(dir, "other")], join(dir, "bad"))).rejects.toThrow(/holds another sweep or another version of it/)
  })
})
