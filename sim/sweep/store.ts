/**
 * The results directory of a sweep: `sweep.json` (which sweep wrote it) and `results.jsonl` (one line
 * per finished run, appended as runs finish). On start the existing lines are read as a stream and
 * marked done in a bitmap (one byte per run, so memory stays flat), so an interrupted sweep resumes
 * where it stopped; a results directory of another sweep is refused.
 */
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs"
import { join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { FileError } from "../scenario/decode-file.ts"
import { totalRuns, type Sweep } from "./file.ts"
import { shardLabel, type Shard } from "./shard.ts"
import type { ResultLine } from "./task.ts"

export interface ResultsStore {
  readonly dir: string
  readonly jsonl: string
  /** 1 where the run is already in results.jsonl. */
  readonly done: Uint8Array
  readonly doneCount: number
  append(line: ResultLine): void
  close(): void
}

/** sweep.json: which sweep (and which shard of it) a results directory holds. */
export interface Meta {
  readonly name: string
  readonly file: string
  /** The sweep file's absolute path (what `dai sim merge` loads). */
  readonly path?: string
  readonly hash: string
  readonly runs: number
  /** `I/N` when the directory holds one shard. */
  readonly shard?: string
}

/** Stream the lines of results.jsonl; a torn last line (an interrupted write) is reported, not parsed. */
export const readResults = async (path: string, each: (line: ResultLine) => void): Promise<{ lines: number; validBytes: number }> => {
  if (!existsSync(path)) return { lines: 0, validBytes: 0 }
  const rl = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity })
  let lines = 0
  let validBytes = 0
  for await (const text of rl) {
    if (text.trim() === "") {
      validBytes += Buffer.byteLength(text) + 1
      continue
    }
    let parsed: ResultLine
    try {
      parsed = JSON.parse(text) as ResultLine
    } catch {
      break // torn write: everything after it is dropped on resume
    }
    each(parsed)
    lines++
    validBytes += Buffer.byteLength(text) + 1
  }
  return { lines, validBytes }
}

/** Open (or create) the results directory of `sweep` (or of one shard of it); refuses a directory written by another sweep or shard. */
export const openResults = async (dir: string, sweep: Sweep, shard?: Shard): Promise<ResultsStore> => {
  mkdirSync(dir, { recursive: true })
  const metaPath = join(dir, "sweep.json")
  const jsonl = join(dir, "results.jsonl")
  const runs = totalRuns(sweep)
  if (existsSync(metaPath)) {
    let meta: Meta
    try {
      meta = JSON.parse(readFileSync(metaPath, "utf8")) as Meta
    } catch {
      throw new FileError({ file: sweep.file, key: "", reason: `${metaPath} is not a sweep's record; pass another --out or remove the directory` })
    }
    if (meta.hash !== sweep.hash || meta.runs !== runs) {
      throw new FileError({ file: sweep.file, key: "", reason: `${dir} holds results of another version of this sweep or another sweep ("${meta.name}" from ${meta.file}, ${meta.runs} runs); pass another --out or remove the directory to start over` })
    }
    if ((meta.shard ?? "") !== shardLabel(shard)) {
      const what = (s: string) => (s === "" ? "the whole sweep" : `shard ${s}`)
      throw new FileError({ file: sweep.file, key: "", reason: `${dir} holds ${what(meta.shard ?? "")} of this sweep, not ${what(shardLabel(shard))}; pass another --out` })
    }
  } else if (existsSync(jsonl) && statSync(jsonl).size > 0) {
    throw new FileError({ file: sweep.file, key: "", reason: `${jsonl} exists but ${metaPath} does not: not a results directory of this sweep; pass another --out` })
  } else {
    writeFileSync(metaPath, `${JSON.stringify({ name: sweep.name, file: sweep.file, path: resolve(sweep.file), hash: sweep.hash, runs, ...(shard ? { shard: shardLabel(shard) } : {}) } satisfies Meta, null, 2)}\n`)
  }
  const done = new Uint8Array(runs)
  let doneCount = 0
  const { validBytes } = await readResults(jsonl, (line) => {
    if (Number.isInteger(line.run) && line.run >= 0 && line.run < runs && done[line.run] === 0) {
      done[line.run] = 1
      doneCount++
    }
  })
  const size = existsSync(jsonl) ? statSync(jsonl).size : 0
  if (size > validBytes) truncateSync(jsonl, validBytes)
  const fd = openSync(jsonl, "a")
  if (size === validBytes - 1) writeSync(fd, "\n") // the last line lost only its newline
  return {
    dir, jsonl, done, doneCount,
    // One write per line: a kill between runs never leaves half a line, and at worst tears the last.
    append: (line) => void writeSync(fd, `${JSON.stringify(line)}\n`),
    close: () => closeSync(fd),
  }
}
