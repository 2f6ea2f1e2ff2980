/**
 * Runs on a Redis-backed BullMQ queue: the connection (checked before any run is queued), the one
 * queue every `dai sim worker` takes runs from, and what a queued run carries. A run's job id is its
 * identity — (the sweep's hash, point, seed) — so queueing it again while it waits, runs or waits to
 * be recorded adds nothing; its result travels back as the job's return value, stored by BullMQ in the
 * same step that marks the job done, so a run that succeeded is never handed out again.
 */
import { createHash } from "node:crypto"
import { Redis } from "ioredis"
import type { SwarmTask } from "../swarm/seed.ts"
import type { SweepTask } from "./task.ts"

/** The queue all submitters put runs on and all workers take them from. */
export const RUNS_QUEUE = "dai-sim-runs"

/** A run of a sweep on the queue: the task, and the scenario file a worker must hold (same bytes) to run it. */
export interface QueuedSweepRun {
  readonly kind: "sweep"
  /** Which submission waits for this result (`sweep:<hash>` with its shard). */
  readonly owner: string
  readonly task: SweepTask
  readonly scenario: {
    /** As the sweep file names it (for messages). */
    readonly name: string
    /** Where a worker finds it: relative to the worker's directory when the submitter's was inside its own. */
    readonly file: string
    readonly sha256: string
  }
}

/** A seed of a swarm on the queue. */
export interface QueuedSwarmRun {
  readonly kind: "swarm"
  readonly owner: string
  readonly task: SwarmTask
}

export type QueuedRun = QueuedSweepRun | QueuedSwarmRun

/** sha256 of a file's text, hex. */
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** `redis://HOST:PORT` (optionally `rediss://`, user:password@, /db) → checked URL, or a reason. */
export const parseRedisUrl = (raw: string): URL | string => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `--queue must be a Redis URL such as redis://127.0.0.1:6379, got "${raw}"`
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return `--queue must be a redis:// or rediss:// URL, got "${raw}"`
  if (url.hostname === "") return `--queue needs a host, got "${raw}"`
  return url
}

/** The URL without its password, for messages. */
export const shownUrl = (url: URL): string => {
  const u = new URL(url.href)
  if (u.password !== "") u.password = "***"
  return u.href.replace(/\/$/, "")
}

/** A connection for BullMQ: commands wait (and reconnect) instead of failing, as BullMQ's workers require. */
export const connect = (url: URL): Redis => new Redis(url.href, { maxRetriesPerRequest: null })

/**
 * Reach the Redis server once, failing fast: no retries, a short timeout. Resolves with nothing, or
 * rejects with a one-line reason (refused, timed out, authentication) naming the URL.
 */
export const checkRedis = async (url: URL, timeoutMs = 3_000): Promise<void> => {
  const client = new Redis(url.href, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed".
  let cause: NodeJS.ErrnoException | undefined
  client.on("error", (e: NodeJS.ErrnoException) => void (cause ??= e))
  try {
    await client.connect()
    await client.ping()
  } catch (e) {
    const err = cause ?? (e as NodeJS.ErrnoException)
    throw new Error(`cannot reach Redis at ${shownUrl(url)}: ${err.code ?? err.message}`)
  } finally {
    client.disconnect()
  }
}
