/**
 * Running a swarm: every seed's drawn scenario goes through the scenario runner with the safety,
 * liveness, slashing and supply checkers; a seed that fails (correctness, liveness) or crashes the
 * run comes back with its verdict and the scenario file that reproduces it, which the caller writes out.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { countOutcomes, type Outcome } from "../check/verdict.ts"
import { randomUUID } from "node:crypto"
import { runPool, type PoolHandle } from "../sweep/pool.ts"
import type { QueuedSwarmRun } from "../sweep/queue.ts"
import { submitRuns, type QueuedJob } from "../sweep/queue-submit.ts"
import { inShard, type Shard } from "../sweep/shard.ts"
import type { SwarmSize } from "./draw.ts"
import type { SwarmResult, SwarmTask } from "./seed.ts"

export { runSwarmSeed, type SwarmResult, type SwarmTask } from "./seed.ts"

export interface SwarmFailure {
  readonly seed: number
  readonly path: string
  readonly outcome: Exclude<Outcome, "passed">
  readonly problems: readonly string[]
}

export interface SwarmSummary {
  readonly seeds: number
  readonly from: number
  /** How many seeds ended with each verdict. */
  readonly outcomes: Readonly<Record<Outcome, number>>
  readonly failures: readonly SwarmFailure[]
  /** Seeds no queue worker would do (their workers died too often), not counted in outcomes. */
  readonly unrun: readonly { readonly seed: number; readonly reason: string }[]
}

/** Run seeds `from` .. `from + seeds − 1` on the pool; each failure is written to `out` as it arrives. */
export const runSwarm = async (options: {
  readonly seeds: number
  readonly from: number
  readonly size: SwarmSize
  readonly workers: number
  readonly out: string
  readonly onResult?: (r: SwarmResult, failure: SwarmFailure | undefined) => void
  readonly onStart?: (handle: PoolHandle) => void
  /** Run the seeds on the Redis queue at this URL (`dai sim worker`s execute) instead of local threads. */
  readonly queue?: URL
  /** Only the seeds from + i with i ≡ shard.index (mod shard.count). */
  readonly shard?: Shard
  readonly notice?: (line: string) => void
}): Promise<SwarmSummary> => {
  const outcomes = countOutcomes([])
  const failures: SwarmFailure[] = []
  const unrun: Array<{ seed: number; reason: string }> = []
  const seen = new Set<number>()
  function* tasks(): Generator<SwarmTask> {
    for (let i = 0; i < options.seeds; i++) if (inShard(options.shard, i)) yield { kind: "swarm", seed: options.from + i, size: options.size }
  }
  const onResult = (r: SwarmResult) => {
    if (seen.has(r.seed)) return // a queue may hand a result over twice; each seed counts once
    seen.add(r.seed)
    let failure: SwarmFailure | undefined
    outcomes[r.outcome]++
    if (r.outcome !== "passed") {
      mkdirSync(options.out, { recursive: true })
      const path = join(options.out, `swarm-${r.seed}.yaml`)
      writeFileSync(path, r.yaml ?? "")
      failure = { seed: r.seed, path, outcome: r.outcome, problems: r.problems }
      failures.push(failure)
    }
    options.onResult?.(r, failure)
  }
  if (options.queue !== undefined) {
    // A swarm keeps no results directory to resume from, so each submission owns its own runs.
    const owner = `swarm:${randomUUID()}`
    function* jobs(): Generator<QueuedJob<QueuedSwarmRun>> {
      for (const task of tasks()) yield { id: `swarm-${owner.slice(6)}-${task.size}-${task.seed}`, data: { kind: "swarm", owner, task } }
    }
    await submitRuns<QueuedSwarmRun, SwarmResult>({
      url: options.queue, owner, jobs: jobs(),
      onResult: (_d, r) => onResult(r),
      onFailed: (d, reason) => void unrun.push({ seed: d.task.seed, reason }),
      ...(options.onStart ? { onStart: options.onStart } : {}),
      ...(options.notice ? { notice: options.notice } : {}),
    })
  } else {
    await runPool<SwarmTask, SwarmResult>({
      workers: options.workers,
      tasks: tasks(),
      onResult,
      ...(options.onStart ? { onStart: options.onStart } : {}),
    })
  }
  failures.sort((a, b) => a.seed - b.seed)
  return { seeds: seen.size + unrun.length, from: options.from, outcomes, failures, unrun: unrun.sort((a, b) => a.seed - b.seed) }
}
