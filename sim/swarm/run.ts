/**
 * Running a swarm: every seed's drawn scenario goes through the scenario runner with the safety,
 * liveness, slashing and supply checkers; a seed that fails (correctness, liveness) or crashes the
 * run comes back with its verdict and the scenario file that reproduces it, which the caller writes out.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import { countOutcomes, type Outcome } from "../check/verdict.ts"
import { runPool, type PoolHandle } from "../sweep/pool.ts"
import { drawScenario, scenarioYaml, type SwarmSize } from "./draw.ts"

export interface SwarmTask {
  readonly kind: "swarm"
  readonly seed: number
  readonly size: SwarmSize
}

export interface SwarmResult {
  readonly seed: number
  readonly outcome: Outcome
  /** The expectations that failed, or the error. */
  readonly problems: readonly string[]
  /** The scenario file (only for a failure). */
  readonly yaml?: string
  readonly traceHash: string
}

/** Draw and run one seed; never throws. */
export const runSwarmSeed = (task: SwarmTask): SwarmResult => {
  const yaml = scenarioYaml(drawScenario(task.seed, task.size))
  try {
    const report = runScenario(parseScenario(yaml, `swarm-${task.seed}.yaml`), { seed: task.seed })
    const problems = [...report.expectations.filter((x) => !x.passed).map((x) => `${x.name}: ${x.detail}`), ...report.errors.map((e) => e.split("\n")[0]!)]
    return { seed: task.seed, outcome: report.outcome, problems, traceHash: report.traceHash, ...(report.outcome === "passed" ? {} : { yaml }) }
  } catch (e) {
    return { seed: task.seed, outcome: "crash", problems: [(e as Error).message], yaml, traceHash: "" }
  }
}

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
}): Promise<SwarmSummary> => {
  const outcomes = countOutcomes([])
  const failures: SwarmFailure[] = []
  function* tasks(): Generator<SwarmTask> {
    for (let i = 0; i < options.seeds; i++) yield { kind: "swarm", seed: options.from + i, size: options.size }
  }
  await runPool<SwarmTask, SwarmResult>({
    workers: options.workers,
    tasks: tasks(),
    onResult: (r) => {
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
    },
    ...(options.onStart ? { onStart: options.onStart } : {}),
  })
  failures.sort((a, b) => a.seed - b.seed)
  return { seeds: options.seeds, from: options.from, outcomes, failures }
}
