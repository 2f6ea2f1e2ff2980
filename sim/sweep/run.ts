/**
 * Running a sweep: every (point, seed) not yet in results.jsonl goes to the worker pool; each result
 * is appended the moment it arrives; then one streaming pass writes results.csv and the aggregates
 * behind report.html and the summary.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { isAbsolute, join, relative } from "node:path"
import { aggregate, type SweepAggregate } from "./aggregate.ts"
import { totalRuns, type Sweep } from "./file.ts"
import { runPool, type PoolHandle } from "./pool.ts"
import { renderReport } from "./report.ts"
import { sha256, type QueuedSweepRun } from "./queue.ts"
import { submitRuns, type QueuedJob } from "./queue-submit.ts"
import { inShard, shardLabel, shardSize, type Shard } from "./shard.ts"
import { openResults } from "./store.ts"
import { tasksOf, type ResultLine, type SweepTask } from "./task.ts"

export interface SweepFiles {
  readonly jsonl: string
  readonly csv: string
  readonly html: string
}

export interface SweepOutcome {
  readonly aggregate: SweepAggregate
  readonly files: SweepFiles
  /** Runs found done in results.jsonl (resumed), and run now. */
  readonly resumed: number
  readonly ran: number
  /** Runs no queue worker would do (refused: another version of a scenario file), not recorded: a rerun resumes them. */
  readonly failed: readonly { readonly run: number; readonly reason: string }[]
}

export interface SweepRunOptions {
  readonly workers: number
  readonly out: string
  /** Called once with the runs to do and those already done; `tick` per finished run. */
  readonly progress?: (total: number, already: number) => { tick(): void; end(): void }
  /** The pool's handle, e.g. to stop it on SIGINT. */
  readonly onStart?: (handle: PoolHandle) => void
  /** Stop after this many new runs (tests use it to simulate an interruption). */
  readonly limit?: number
  /** Run on the Redis queue at this URL (`dai sim worker`s execute) instead of local threads. */
  readonly queue?: URL
  /** Only this shard's runs (the results directory then holds that shard). */
  readonly shard?: Shard
  /** A line for the user (e.g. no queue worker yet). */
  readonly notice?: (line: string) => void
  /** How often a queued sweep looks for results when none came (ms; default 50). */
  readonly pollMs?: number
}

/** A path a worker elsewhere can resolve: relative to this directory when the file is inside it. */
const portablePath = (path: string): string => {
  const rel = relative(process.cwd(), path)
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel
}

/** The sweep's runs as queue jobs: identified by (sweep hash, point, seed), carrying each scenario's sha256. */
function* jobsOf(sweep: Sweep, tasks: Iterator<SweepTask>, owner: string): Generator<QueuedJob<QueuedSweepRun>> {
  const scenarios = sweep.scenarios.map((sc) => ({ name: sc.name, file: portablePath(sc.path), sha256: sha256(readFileSync(sc.path, "utf8")) }))
  for (let next = tasks.next(); next.done !== true; next = tasks.next()) {
    const task = next.value
    yield { id: `${sweep.hash}-p${task.point.index}-s${task.seed}`, data: { kind: "sweep", owner, task, scenario: scenarios[task.point.scenario]! } }
  }
}

/** Run (or resume) a sweep into `options.out`; resolves when results.csv and report.html are written. */
export const runSweep = async (sweep: Sweep, options: SweepRunOptions): Promise<SweepOutcome> => {
  const store = await openResults(options.out, sweep, options.shard)
  const total = totalRuns(sweep)
  let already = 0
  for (let run = 0; run < total; run++) if (store.done[run] === 1 && inShard(options.shard, run)) already++
  const bar = options.progress?.(shardSize(options.shard, total), already)
  let ran = 0
  const failed: Array<{ run: number; reason: string }> = []
  // Each run is recorded once: a result seen again (a queue handing a result over twice) is dropped.
  const record = (line: ResultLine) => {
    if (!Number.isInteger(line.run) || line.run < 0 || line.run >= total || store.done[line.run] === 1) return
    store.append(line)
    store.done[line.run] = 1
    ran++
    bar?.tick()
  }
  const tasks = tasksOf(sweep, store.done, options.limit ?? Infinity, options.shard)
  try {
    if (options.queue !== undefined) {
      await submitRuns<QueuedSweepRun, ResultLine>({
        url: options.queue,
        owner: `sweep:${sweep.hash}${options.shard ? `:${shardLabel(options.shard)}` : ""}`,
        jobs: jobsOf(sweep, tasks, `sweep:${sweep.hash}${options.shard ? `:${shardLabel(options.shard)}` : ""}`),
        onResult: (_data, line) => record(line),
        onFailed: (data, reason) => void failed.push({ run: data.task.run, reason }),
        ...(options.onStart ? { onStart: options.onStart } : {}),
        ...(options.notice ? { notice: options.notice } : {}),
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      })
    } else {
      await runPool<SweepTask, ResultLine>({
        workers: options.workers,
        tasks,
        onResult: record,
        ...(options.onStart ? { onStart: options.onStart } : {}),
      })
    }
  } finally {
    store.close()
    bar?.end()
  }
  const files = { jsonl: store.jsonl, csv: join(options.out, "results.csv"), html: join(options.out, "report.html") }
  const agg = await aggregate(sweep, files.jsonl, files.csv)
  writeFileSync(files.html, renderReport(sweep, agg))
  return { aggregate: agg, files, resumed: store.doneCount, ran, failed: failed.sort((a, b) => a.run - b.run) }
}
