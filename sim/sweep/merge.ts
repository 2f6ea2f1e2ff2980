/**
 * `dai sim merge`: the results directories of a sweep's shards (or of any runs of the same sweep)
 * joined into one: every run once (the first directory holding it wins; a run is deterministic, so a
 * duplicate is the same line), then the same results.csv and report.html as a sweep writes. The
 * merged directory is an ordinary results directory: `dai sim sweep FILE --out` on it runs only what
 * no shard did.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { FileError } from "../scenario/decode-file.ts"
import { aggregate } from "./aggregate.ts"
import { loadSweep, totalRuns, type Sweep } from "./file.ts"
import { renderReport } from "./report.ts"
import { openResults, readResults, type Meta } from "./store.ts"
import type { SweepOutcome } from "./run.ts"

export interface MergeOutcome extends Omit<SweepOutcome, "failed" | "ran" | "resumed"> {
  readonly sweep: Sweep
  /** Runs taken from each directory (in the order given). */
  readonly taken: readonly number[]
  /** Runs of the sweep in none of the directories. */
  readonly missing: number
}

const metaOf = (dir: string): Meta => {
  const path = join(dir, "sweep.json")
  let meta: Meta
  try {
    meta = JSON.parse(readFileSync(path, "utf8")) as Meta
  } catch (e) {
    throw new FileError({ file: path, key: "", reason: `not a sweep's results directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  if (typeof meta.hash !== "string" || typeof meta.runs !== "number") throw new FileError({ file: path, key: "", reason: "not a sweep's record" })
  return meta
}

/** Merge the results directories `dirs` of one sweep into `out`. */
export const mergeResults = async (dirs: readonly string[], out: string): Promise<MergeOutcome> => {
  if (dirs.length === 0) throw new FileError({ file: out, key: "", reason: "no results directory to merge" })
  const metas = dirs.map(metaOf)
  const first = metas[0]!
  metas.forEach((m, i) => {
    if (m.hash !== first.hash) throw new FileError({ file: join(dirs[i]!, "sweep.json"), key: "", reason: `holds another sweep or another version of it ("${m.name}", ${m.hash}) than ${dirs[0]} ("${first.name}", ${first.hash})` })
  })
  if (dirs.some((d) => resolve(d) === resolve(out))) throw new FileError({ file: out, key: "", reason: "the merged directory must not be one of those merged" })
  const file = first.path ?? first.file
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    throw new FileError({ file: join(dirs[0]!, "sweep.json"), key: "", reason: `cannot read the sweep ${file} it names (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  const sweep = loadSweep(text, file)
  if (sweep.hash !== first.hash) throw new FileError({ file, key: "", reason: `changed since the shards ran (hash ${sweep.hash}, theirs ${first.hash}): merge needs the version they ran` })
  if (existsSync(join(out, "results.jsonl")) && !existsSync(join(out, "sweep.json"))) throw new FileError({ file: out, key: "", reason: "holds a results.jsonl of something else; pass another --out" })
  const store = await openResults(out, sweep)
  const taken: number[] = []
  try {
    for (const dir of dirs) {
      let n = 0
      await readResults(join(dir, "results.jsonl"), (line) => {
        if (!Number.isInteger(line.run) || line.run < 0 || line.run >= store.done.length || store.done[line.run] === 1) return
        store.append(line)
        store.done[line.run] = 1
        n++
      })
      taken.push(n)
    }
  } finally {
    store.close()
  }
  let have = 0
  for (const d of store.done) have += d
  const files = { jsonl: store.jsonl, csv: join(out, "results.csv"), html: join(out, "report.html") }
  const agg = await aggregate(sweep, files.jsonl, files.csv)
  writeFileSync(files.html, renderReport(sweep, agg))
  return { sweep, aggregate: agg, files, taken, missing: totalRuns(sweep) - have }
}
