/**
 * One seed of a swarm, as a worker thread runs it: draw the scenario, run it with the checkers, and
 * return its verdict (with the scenario file when it did not pass). Kept apart from run.ts so the
 * worker threads load no queue client.
 */
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import type { Outcome } from "../check/verdict.ts"
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
    // Deliveries untraced (issue 15's fast path): the failing seed's file replays with `dai sim run`, whose hash includes them.
    const report = runScenario(parseScenario(yaml, `swarm-${task.seed}.yaml`), { seed: task.seed, traceDeliveries: false })
    const problems = [...report.expectations.filter((x) => !x.passed).map((x) => `${x.name}: ${x.detail}`), ...report.errors.map((e) => e.split("\n")[0]!)]
    return { seed: task.seed, outcome: report.outcome, problems, traceHash: report.traceHash, ...(report.outcome === "passed" ? {} : { yaml }) }
  } catch (e) {
    return { seed: task.seed, outcome: "crash", problems: [(e as Error).message], yaml, traceHash: "" }
  }
}

