/**
 * A pool of worker threads over a lazy stream of tasks: each worker runs whole runs, one at a time,
 * and posts its result back; the parent hands out the next task as a result arrives, so only the
 * tasks in flight are ever held, however many there are.
 *
 * Each worker holds `PER_WORKER` tasks: the one it runs and the next, queued in its port. With one,
 * a worker sat idle from posting a result until the parent had recorded it and posted the next task
 * — on a loaded two-core machine, while the parent waited for a core — which is where the pool lost
 * to two plain processes (bench/sweep.bench.ts).
 */
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"

export const WORKER_ENTRY = new URL("./worker.ts", import.meta.url)

/**
 * A run keeps ~35 MB live, but V8 grows a busy worker's heap far beyond that and keeps the pages, so
 * a long sweep's memory would creep up with the number of runs. A capped old generation makes the
 * worker collect instead: memory stays flat however many runs it does. (Typed-array and wasm memory,
 * e.g. a data set or TensorFlow.js, live outside this limit.)
 */
export const WORKER_LIMITS = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 32 }

/** All cores by default. */
export const defaultWorkers = (): number => Math.max(1, availableParallelism())

/** Tasks handed to one worker at once: the one it runs and the one it starts next without waiting for the parent. */
export const PER_WORKER = 2

export interface PoolHandle {
  /** Stop every worker now (an interrupted sweep resumes from what was written). */
  stop(): Promise<void>
}

/**
 * Run `tasks` on `workers` threads; `onResult` sees each result as it arrives (in completion order).
 * Resolves when every task is done; rejects if a worker dies.
 */
export const runPool = <T, R>(options: {
  readonly workers: number
  readonly tasks: Iterator<T>
  readonly onResult: (result: R) => void
  readonly onStart?: (handle: PoolHandle) => void
}): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const threads: Worker[] = []
    let inFlight = 0
    let exhausted = false
    let settled = false
    const stop = async () => {
      await Promise.all(threads.map((w) => w.terminate()))
    }
    options.onStart?.({ stop })
    const feed = (w: Worker): boolean => {
      if (exhausted) return false
      const next = options.tasks.next()
      if (next.done === true) {
        exhausted = true
        return false
      }
      inFlight++
      w.postMessage(next.value)
      return true
    }
    const finishIfDone = () => {
      if (exhausted && inFlight === 0 && !settled) {
        settled = true
        void stop().then(() => resolve())
      }
    }
    for (let i = 0; i < Math.max(1, options.workers); i++) {
      const w = new Worker(WORKER_ENTRY, { resourceLimits: WORKER_LIMITS })
      threads.push(w)
      w.on("message", (result: R) => {
        inFlight--
        try {
          options.onResult(result)
        } catch (e) {
          settled = true
          void stop().then(() => reject(e as Error))
          return
        }
        if (!feed(w)) finishIfDone()
      })
      w.on("error", (e) => {
        if (settled) return
        settled = true
        void stop().then(() => reject(e))
      })
    }
    // Round by round, so that a short stream is shared among the workers rather than queued on the first.
    for (let k = 0; k < PER_WORKER; k++) for (const w of threads) feed(w)
    finishIfDone()
  })
