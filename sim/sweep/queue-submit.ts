/**
 * The submitting side of a queued sweep or swarm: puts runs on the queue (a bounded window of them,
 * so a sweep of millions never sits in Redis at once), collects the results of its own runs as
 * workers finish them — including runs finished while no submitter was waiting (a resumed sweep) — and
 * removes each job once its result has been handed over. Handing over may repeat (a crash between the
 * two steps); the caller records a run once, so its result is recorded exactly once.
 */
import { randomUUID } from "node:crypto"
import { Queue, type Job } from "bullmq"
import type { PoolHandle } from "./pool.ts"
import { connect, RUNS_QUEUE, shownUrl, type QueuedRun } from "./queue.ts"

/** A run to queue: its identity and what the worker needs. */
export interface QueuedJob<D extends QueuedRun> {
  readonly id: string
  readonly data: D
}

export interface SubmitOptions<D extends QueuedRun, R> {
  readonly url: URL
  /** Which submission this is: its runs carry it, and only one submitter at a time may hold it. */
  readonly owner: string
  readonly jobs: Iterator<QueuedJob<D>>
  /** A finished run of this owner (possibly one already seen: the caller keeps the first). */
  readonly onResult: (data: D, result: R) => void
  /** A run no worker could do (refused, or its workers died too often): it is not recorded. */
  readonly onFailed: (data: D, reason: string) => void
  readonly onStart?: (handle: PoolHandle) => void
  /** A line for the user (no worker connected yet). */
  readonly notice?: (line: string) => void
  /** Runs on the queue at once (default 2,000). */
  readonly window?: number
  /** Wait between looks for results when the last look found none (default 50 ms). */
  readonly pollMs?: number
}

export interface SubmitOutcome {
  readonly results: number
  readonly failed: number
}

const PAGE = 500
const LOCK_MS = 30_000
/** With no result for this long, the runs in flight are queued again (a no-op for each one still there). */
const REQUEUE_AFTER_MS = 10_000

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Thrown when another submitter holds the same owner (the same sweep and shard) on this Redis. */
export class OwnerTaken extends Error {}

/** Queue `jobs`, wait for all of them, hand each result or failure to the caller. */
export const submitRuns = async <D extends QueuedRun, R>(options: SubmitOptions<D, R>): Promise<SubmitOutcome> => {
  const connection = connect(options.url)
  const queue = new Queue<D, R>(RUNS_QUEUE, { connection })
  const lockKey = `dai-sim:owner:${options.owner}`
  const token = randomUUID()
  let stopped = false
  let lockTimer: ReturnType<typeof setInterval> | undefined
  const shutdown = async () => {
    if (lockTimer !== undefined) clearInterval(lockTimer)
    try {
      // Release the owner only if it is still ours.
      await connection.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, lockKey, token)
    } catch {
      // the connection is gone: the lock expires by itself
    }
    await queue.close().catch(() => {})
    connection.disconnect()
  }
  options.onStart?.({
    stop: async () => {
      stopped = true
      await shutdown()
    },
  })
  const window = options.window ?? 2_000
  const pollMs = options.pollMs ?? 50
  const outstanding = new Map<string, QueuedJob<D>>()
  let exhausted = false
  let results = 0
  let failed = 0
  try {
    if ((await connection.set(lockKey, token, "PX", LOCK_MS, "NX")) !== "OK") {
      throw new OwnerTaken(`another submitter is running ${options.owner} on ${shownUrl(options.url)} (one killed holds it for up to ${LOCK_MS / 1000} s); stop it or wait for it`)
    }
    lockTimer = setInterval(() => void connection.pexpire(lockKey, LOCK_MS).catch(() => {}), LOCK_MS / 3)
    lockTimer.unref()

    const add = async (batch: readonly QueuedJob<D>[]) => {
      if (batch.length === 0) return
      // attempts: a run whose thread died is tried again; a refusal is unrecoverable and fails at once.
      await queue.addBulk(batch.map((j) => ({ name: j.data.kind, data: j.data, opts: { jobId: j.id, attempts: 3, removeOnComplete: false, removeOnFail: false } })) as never)
    }
    const refill = async () => {
      const batch: QueuedJob<D>[] = []
      while (!exhausted && outstanding.size + batch.length < window) {
        const next = options.jobs.next()
        if (next.done === true) exhausted = true
        else batch.push(next.value)
      }
      await add(batch)
      for (const j of batch) outstanding.set(j.id, j)
    }
    const collect = async (): Promise<number> => {
      let n = 0
      for (const state of ["completed", "failed"] as const) {
        for (let start = 0; !stopped; ) {
          const jobs = (await queue.getJobs([state], start, start + PAGE - 1, true)) as Job<D, R>[]
          const mine = jobs.filter((j) => j !== undefined && j.data?.owner === options.owner)
          const handed: Job<D, R>[] = []
          for (const j of mine) {
            if (stopped) break
            handed.push(j)
            if (state === "completed") {
              options.onResult(j.data, j.returnvalue)
              results++
            } else {
              options.onFailed(j.data, j.failedReason)
              failed++
            }
            outstanding.delete(j.id!)
            n++
          }
          // Removed only once handed over: a submitter killed before this sees them again on resume.
          await Promise.all(handed.map((j) => j.remove().catch(() => {})))
          if (jobs.length < PAGE) break
          start += PAGE - handed.length
        }
      }
      return n
    }

    await collect() // results that arrived while no submitter waited (a resumed sweep)
    await refill()
    try {
      if ((await queue.getWorkersCount()) === 0) options.notice?.(`no worker is taking runs from ${shownUrl(options.url)} yet; start some with: dai sim worker --queue ${shownUrl(options.url)}`)
    } catch {
      // CLIENT LIST may be disabled on a managed Redis: no hint then
    }
    let lastProgress = Date.now()
    while (!stopped && !(exhausted && outstanding.size === 0)) {
      const n = await collect()
      if (stopped) break
      await refill()
      if (n > 0) {
        lastProgress = Date.now()
        continue
      }
      if (Date.now() - lastProgress > REQUEUE_AFTER_MS) {
        // A queue emptied by hand (or a Redis restarted without persistence) would leave us waiting forever.
        await add([...outstanding.values()])
        lastProgress = Date.now()
      }
      await sleep(pollMs)
    }
  } catch (e) {
    // Stopped (Ctrl-C, or the caller's handle): calls on the closed connection fail; what was handed over stands.
    if (!stopped) throw e
  } finally {
    if (!stopped) await shutdown()
  }
  return { results, failed }
}
