/**
 * One run of a sweep, as a worker executes it: the point's scenario with the point's parameters and
 * one seed, reduced to the line written to results.jsonl. Pure of I/O except reading the scenario
 * file once per worker.
 */
import { readFileSync } from "node:fs"
import { Result } from "effect"
import type { ParamValue } from "../../runtime/core/params.ts"
import { parseScenario, type Scenario } from "../scenario/load.ts"
import { runScenario, type ScenarioReport } from "../scenario/run.ts"
import { paramsOf, pointAt, totalRuns, type MetricName, type Point, type Sweep } from "./file.ts"
import { inShard, type Shard } from "./shard.ts"

/** What the parent sends a worker for one run. */
export interface SweepTask {
  readonly kind: "sweep"
  readonly run: number
  readonly point: Point
  readonly scenarioPath: string
  readonly seed: number
  readonly metrics: readonly MetricName[]
  /** The scenario file's sha256 when a queue worker checked it (parsed scenarios are cached by path and this). */
  readonly scenarioSha?: string
}

/** One line of results.jsonl. */
export interface ResultLine {
  readonly run: number
  readonly point: number
  readonly scenario: string
  readonly seed: number
  readonly params: Readonly<Record<string, ParamValue>>
  readonly outcome: ScenarioReport["outcome"]
  readonly metrics: Readonly<Record<string, number | null>>
  /** The run's trace hash: the same run gives the same hash wherever it runs (local pool or queue worker). */
  readonly traceHash?: string
  readonly error?: string
}

/** The tasks of the runs not done yet, in run order, generated lazily. */
export function* tasksOf(sweep: Sweep, done: Uint8Array, limit: number, shard: Shard | undefined): Generator<SweepTask> {
  const total = totalRuns(sweep)
  let given = 0
  for (let run = 0; run < total && given < limit; run++) {
    if (done[run] === 1 || !inShard(shard, run)) continue
    const point = pointAt(sweep, Math.floor(run / sweep.seeds))
    const sc = sweep.scenarios[point.scenario]!
    given++
    yield { kind: "sweep", run, point, scenarioPath: sc.path, seed: (sweep.seed ?? sc.scenario.seed) + (run % sweep.seeds), metrics: sweep.metrics }
  }
}

const scenarios = new Map<string, Scenario>()

const scenarioAt = (path: string, sha = ""): Scenario => {
  const key = `${path}\0${sha}`
  let s = scenarios.get(key)
  if (s === undefined) {
    s = parseScenario(readFileSync(path, "utf8"), path)
    scenarios.set(key, s)
  }
  return s
}

/** A metric as a plain number (null when the run has none, e.g. attackerRoi without attackers). */
export const metricOf = (report: ScenarioReport, name: MetricName): number | null => {
  const v = (report.metrics as unknown as Record<string, unknown>)[name]
  return typeof v === "number" && Number.isFinite(v) ? v : null
}

/** Run one sweep task to its result line; never throws. */
export const runSweepTask = (task: SweepTask): ResultLine => {
  const base = { run: task.run, point: task.point.index, seed: task.seed, params: task.point.params }
  try {
    const scenario = scenarioAt(task.scenarioPath, task.scenarioSha)
    const params = paramsOf(scenario, task.point)
    if (Result.isFailure(params)) throw new Error(params.failure)
    // Deliveries untraced (issue 15's fast path): a sweep reads metrics; its traceHash is not comparable with `dai sim run`'s.
    const report = runScenario({ ...scenario, params: params.success }, { seed: task.seed, traceDeliveries: false })
    return {
      ...base, scenario: scenario.name, outcome: report.outcome,
      metrics: Object.fromEntries(task.metrics.map((m) => [m, metricOf(report, m)])),
      traceHash: report.traceHash,
      ...(report.errors.length > 0 ? { error: report.errors[0]!.split("\n")[0]! } : {}),
    }
  } catch (e) {
    return { ...base, scenario: task.scenarioPath, outcome: "crash", metrics: Object.fromEntries(task.metrics.map((m) => [m, null])), error: (e as Error).message }
  }
}
