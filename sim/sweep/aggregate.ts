/**
 * The second pass over results.jsonl: streams every line once, writes results.csv as it goes, and
 * keeps only bounded aggregates per point (count, mean, variance, min, max of each metric, how many
 * runs ended with each verdict: passed, correctness, liveness, crash),
 * so memory grows with the number of points, never with the number of runs.
 */
import { closeSync, openSync, writeSync } from "node:fs"
import type { ParamValue } from "../../runtime/core/params.ts"
import { holds, type Constraint } from "./constraints.ts"
import { pointAt, spaceSize, type MetricName, type Sweep } from "./file.ts"
import { readResults } from "./store.ts"
import { countOutcomes, type Outcome } from "../check/verdict.ts"
import { APR_MIN_SPAN_MS, pays, PAYS_TOLERANCE } from "../scenario/metrics.ts"
import { DAY_MS } from "../../runtime/core/duration.ts"

/** Running statistics of one metric at one point (Welford). */
export interface Stat {
  n: number
  mean: number
  m2: number
  min: number
  max: number
  /** Runs where the metric had no value (e.g. no attacker). */
  missing: number
}

export interface PointAggregate {
  readonly index: number
  readonly scenario: string
  readonly params: Readonly<Record<string, ParamValue>>
  runs: number
  /** Runs by verdict (every kind present, 0 when none). */
  readonly outcomes: Record<Outcome, number>
  readonly stats: Record<string, Stat>
}

export interface SweepAggregate {
  readonly runs: number
  readonly points: readonly PointAggregate[]
}

const emptyStat = (): Stat => ({ n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, missing: 0 })

/** Add one value to a running statistic. */
export const addValue = (s: Stat, x: number | null): void => {
  if (x === null || !Number.isFinite(x)) {
    s.missing++
    return
  }
  s.n++
  const d = x - s.mean
  s.mean += d / s.n
  s.m2 += d * (x - s.mean)
  if (x < s.min) s.min = x
  if (x > s.max) s.max = x
}

/** Sample standard deviation (0 with fewer than two values). */
export const stdOf = (s: Stat): number => (s.n > 1 ? Math.sqrt(s.m2 / (s.n - 1)) : 0)

/** The mean of a metric at a point, or null when no run had a value. */
export const meanOf = (p: PointAggregate, metric: string): number | null => {
  const s = p.stats[metric]
  return s === undefined || s.n === 0 ? null : s.mean
}

/** Runs by verdict over several points (every kind present). */
export const totalOutcomes = (points: readonly PointAggregate[]): Record<Outcome, number> => {
  const total = countOutcomes([])
  for (const p of points) for (const [o, n] of Object.entries(p.outcomes)) total[o as Outcome] = (total[o as Outcome] ?? 0) + n
  return total
}

/** Whether every constraint holds for the point's mean (points with no value fail). */
export const meetsConstraints = (p: PointAggregate, constraints: readonly Constraint[]): boolean =>
  constraints.every((c) => holds(c, meanOf(p, c.metric)))

/**
 * The ROI metrics that say whether an attack pays, most specific first: beyond honest play
 * (`attackerExcessRoi`, for attacks that lose no stake), the sybil split's, then the plain ROI, then the
 * compute market's ROI of cheating (`marketAttackerRoi`, over the cheat's bond or budgets: sim/check/market.ts).
 */
export const ROI_METRICS = ["attackerExcessRoi", "sybilRoi", "attackerRoi", "marketAttackerRoi"] as const

/** The mean ROI that judges whether the attack pays at a point (the first ROI metric it has), or null. */
export const attackRoiOf = (p: PointAggregate): number | null => ROI_METRICS.map((m) => meanOf(p, m)).find((x) => x !== null) ?? null

/** Whether the point lies in the region where an attack pays (mean ROI > PAYS_TOLERANCE of the stake at risk, of the first ROI metric it has). */
export const attackPays = (p: PointAggregate): boolean | null => {
  const roi = attackRoiOf(p)
  return roi === null ? null : pays(roi)
}

/** The metrics that annualise a run's return. */
const APR_METRICS: readonly string[] = ["honestApr", "honestAprMin", "contributorApr"]

/** What "pays" means, and (when an APR is swept) that APRs of short runs are extrapolations: one place for both notes. */
export const economicsNotes = (sweep: Sweep): string[] => [
  `attack pays: mean ROI above ${PAYS_TOLERANCE} of the stake at risk (a smaller gain is break-even at that scale: the summary marks it "no (≈0)"; scenarios/README.md)`,
  ...(sweep.metrics.some((m) => APR_METRICS.includes(m))
    ? [`APR metrics annualise the run's return (× year ÷ virtual time): a measured yield only for runs of ${APR_MIN_SPAN_MS / DAY_MS} days or more, an extrapolation for shorter ones (add \`time\` to the metrics to see each run's span)`]
    : []),
]

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return ""
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** Stream results.jsonl into results.csv (one row per run) and per-point aggregates. */
export const aggregate = async (sweep: Sweep, jsonl: string, csvPath: string): Promise<SweepAggregate> => {
  const names = sweep.space.names
  const per = spaceSize(sweep.space)
  const points = new Map<number, PointAggregate>()
  const fd = openSync(csvPath, "w")
  let runs = 0
  try {
    writeSync(fd, `${["run", "point", "scenario", "seed", ...names, "outcome", ...sweep.metrics].join(",")}\n`)
    await readResults(jsonl, (line) => {
      runs++
      writeSync(fd, `${[line.run, line.point, line.scenario, line.seed, ...names.map((n) => line.params[n]), line.outcome, ...sweep.metrics.map((m) => line.metrics[m])].map(csvCell).join(",")}\n`)
      let p = points.get(line.point)
      if (p === undefined) {
        const def = pointAt(sweep, line.point)
        p = {
          index: line.point, scenario: sweep.scenarios[Math.floor(line.point / per)]?.name ?? line.scenario, params: def.params, runs: 0, outcomes: countOutcomes([]),
          stats: Object.fromEntries(sweep.metrics.map((m: MetricName) => [m, emptyStat()])),
        }
        points.set(line.point, p)
      }
      p.runs++
      p.outcomes[line.outcome] = (p.outcomes[line.outcome] ?? 0) + 1
      for (const m of sweep.metrics) addValue(p.stats[m]!, line.metrics[m] ?? null)
    })
  } finally {
    closeSync(fd)
  }
  return { runs, points: [...points.values()].sort((a, b) => a.index - b.index) }
}
