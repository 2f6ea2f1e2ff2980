/**
 * Running a sweep: every (point, seed) not yet in results.jsonl goes to the worker pool; each result
 * is appended the moment it arrives; then one streaming pass writes results.csv and the aggregates
 * behind report.html and the summary.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { aggregate, type SweepAggregate } from "./aggregate.ts"
import { pointAt, totalRuns, type Sweep } from "./file.ts"
import { runPool, type PoolHandle } from "./pool.ts"
import { renderReport } from "./report.ts"
import { openResults } from "./store.ts"
import type { ResultLine, SweepTask } from "./task.ts"

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
}

/** The tasks of the runs not done yet, in run order, generated lazily. */
function* tasksOf(sweep: Sweep, done: Uint8Array, limit: number): Generator<SweepTask> {
  const total = totalRuns(sweep)
  let given = 0
  for (let run = 0; run < total && given < limit; run++) {
    if (done[run] === 1) continue
    const point = pointAt(sweep, Math.floor(run / sweep.seeds))
    const sc = sweep.scenarios[point.scenario]!
    given++
    yield { kind: "sweep", run, point, scenarioPath: sc.path, seed: (sweep.seed ?? sc.scenario.seed) + (run % sweep.seeds), metrics: sweep.metrics }
  }
}

/** Run (or resume) a sweep into `options.out`; resolves when results.csv and report.html are written. */
export const runSweep = async (sweep: Sweep, options: SweepRunOptions): Promise<SweepOutcome> => {
  const store = await openResults(options.out, sweep)
  const total = totalRuns(sweep)
  const bar = options.progress?.(total, store.doneCount)
  let ran = 0
  try {
    await runPool<SweepTask, ResultLine>({
      workers: options.workers,
      tasks: tasksOf(sweep, store.done, options.limit ?? Infinity),
      onResult: (line) => {
        store.append(line)
        ran++
        bar?.tick()
      },
      ...(options.onStart ? { onStart: options.onStart } : {}),
    })
  } finally {
    store.close()
    bar?.end()
  }
  const files = { jsonl: store.jsonl, csv: join(options.out, "results.csv"), html: join(options.out, "report.html") }
  const agg = await aggregate(sweep, files.jsonl, files.csv)
  writeFileSync(files.html, renderReport(sweep, agg))
  return { aggregate: agg, files, resumed: store.doneCount, ran }
}
