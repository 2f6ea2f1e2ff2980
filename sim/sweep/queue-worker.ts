/**
 * `dai sim worker`: takes runs off the queue and executes them on worker threads (the local pool's
 * code: worker.ts → task.ts / swarm/run.ts), returning each result as the job's value. The event loop
 * only moves jobs and renews their locks, so a long run never looks stalled; a worker that dies
 * (SIGKILL, a lost machine) stops renewing them and BullMQ hands its runs to another worker once the
 * lock expires (`stallMs`). A sweep's run names its scenario file and the file's sha256: a worker
 * whose copy differs (or lacks it) refuses that run by name instead of running another scenario.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { UnrecoverableError, Worker, type Job } from "bullmq"
import type { SwarmResult, SwarmTask } from "../swarm/seed.ts"
import { connect, RUNS_QUEUE, sha256, type QueuedRun } from "./queue.ts"
import type { ResultLine, SweepTask } from "./task.ts"
import { startThreads } from "./threads.ts"

export interface QueueWorkerOptions {
  readonly url: URL
  /** Runs at once (one thread each). */
  readonly threads: number
  /** A run whose worker has not renewed its lock for this long is handed to another worker. */
  readonly stallMs: number
  /** Where relative scenario paths are resolved (default: the current directory). */
  readonly root?: string
  /** One line per refused or failed run. */
  readonly log?: (line: string) => void
  /** Each finished run (for counts). */
  readonly onRun?: () => void
  /** `start <job id>` and `done <job id>` per run (--verbose). */
  readonly trace?: (line: string) => void
}

export interface QueueWorkerHandle {
  /** Finish the runs in hand, then stop (graceful). */
  close(): Promise<void>
  /** Resolves when the worker has stopped. */
  readonly closed: Promise<void>
}

/** Why a worker does not run a sweep's run: its copy of the scenario file is missing or another version. */
export const refusal = (data: Extract<QueuedRun, { kind: "sweep" }>, root: string): string | undefined => {
  const path = resolve(root, data.scenario.file)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    return `refused run (point ${data.task.point.index}, seed ${data.task.seed}): scenario ${data.scenario.name} is not here (${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
  }
  const here = sha256(text)
  if (here === data.scenario.sha256) return undefined
  return `refused run (point ${data.task.point.index}, seed ${data.task.seed}): scenario ${data.scenario.name} here (${path}) is another version of the submitter's (sha256 ${here.slice(0, 12)}… ≠ ${data.scenario.sha256.slice(0, 12)}…)`
}

/** Start taking runs from the queue at `options.url`. */
export const startQueueWorker = (options: QueueWorkerOptions): QueueWorkerHandle => {
  const root = options.root ?? process.cwd()
  const threads = startThreads<SweepTask | SwarmTask, ResultLine | SwarmResult>(options.threads)
  const connection = connect(options.url)
  const runJob = async (data: QueuedRun): Promise<ResultLine | SwarmResult> => {
    if (data.kind === "swarm") return threads.run(data.task)
    const why = refusal(data, root)
    if (why !== undefined) {
      options.log?.(why)
      throw new UnrecoverableError(why)
    }
    // The thread caches a parsed scenario by path and sha256, so a file changed between sweeps is read again.
    return threads.run({ ...data.task, scenarioPath: resolve(root, data.scenario.file), scenarioSha: data.scenario.sha256 })
  }
  const worker = new Worker<QueuedRun, ResultLine | SwarmResult>(
    RUNS_QUEUE,
    async (job: Job<QueuedRun>) => {
      const data = job.data
      options.trace?.(`start ${job.id}`)
      const result = await runJob(data)
      options.trace?.(`done ${job.id}`)
      options.onRun?.()
      return result
    },
    {
      connection, concurrency: Math.max(1, options.threads),
      lockDuration: options.stallMs, stalledInterval: options.stallMs,
      // A run is handed out again at most twice after its workers died, then reported as failed.
      maxStalledCount: 2,
    },
  )
  worker.on("failed", (job, e) => {
    if (!(e instanceof UnrecoverableError)) options.log?.(`run ${job?.id ?? "?"} failed: ${e.message}`)
  })
  worker.on("error", (e) => options.log?.(`queue: ${e.message}`))
  let resolveClosed!: () => void
  const closed = new Promise<void>((r) => (resolveClosed = r))
  let closing: Promise<void> | undefined
  return {
    closed,
    close: () => {
      closing ??= (async () => {
        await worker.close()
        await threads.stop()
        connection.disconnect()
        resolveClosed()
      })()
      return closing
    },
  }
}
