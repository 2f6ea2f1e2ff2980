/** The terminal summary of a sweep (a table of points) and its `--json` form. */
import { attackPays, meanOf, meetsConstraints, stdOf, totalOutcomes, type SweepAggregate } from "./aggregate.ts"
import { formatOutcomes } from "../check/verdict.ts"
import type { Sweep } from "./file.ts"
import { fmt } from "./report.ts"

const MAX_ROWS = 40

/** A table: one row per point (the first MAX_ROWS), mean ± sd of each metric, constraints, whether the attack pays, the runs' verdicts. */
export const formatSummary = (sweep: Sweep, agg: SweepAggregate, files: { readonly jsonl: string; readonly csv: string; readonly html: string }): string => {
  const head = ["scenario", ...sweep.space.names, ...sweep.metrics, "constraints", "attack pays", "runs"]
  const rows = agg.points.slice(0, MAX_ROWS).map((p) => [
    p.scenario,
    ...sweep.space.names.map((n) => (typeof p.params[n] === "number" ? fmt(p.params[n] as number) : String(p.params[n]))),
    ...sweep.metrics.map((m) => `${fmt(meanOf(p, m))}±${fmt(stdOf(p.stats[m]!))}`),
    sweep.constraints.length === 0 ? "-" : meetsConstraints(p, sweep.constraints) ? "met" : "NOT met",
    attackPays(p) === null ? "-" : attackPays(p) ? "YES" : "no",
    formatOutcomes(p.outcomes),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  const meeting = agg.points.filter((p) => meetsConstraints(p, sweep.constraints)).length
  const paying = agg.points.filter((p) => attackPays(p) === true).length
  return [
    `${sweep.name}: ${agg.runs} runs (${formatOutcomes(totalOutcomes(agg.points))}), ${agg.points.length} points${sweep.constraints.length > 0 ? `, ${meeting} meet the constraints (${sweep.constraints.map((c) => `${c.metric} ${c.text}`).join(", ")})` : ""}, ${paying} where the attack pays`,
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    ...(agg.points.length > MAX_ROWS ? [`… ${agg.points.length - MAX_ROWS} more points in ${files.csv}`] : []),
    `results: ${files.jsonl}`, `table:   ${files.csv}`, `report:  ${files.html}`,
  ].join("\n")
}

/** The machine-readable summary (`--json`). */
export const summaryJson = (sweep: Sweep, agg: SweepAggregate, files: { readonly jsonl: string; readonly csv: string; readonly html: string }) => ({
  name: sweep.name,
  runs: agg.runs,
  /** Runs by verdict: passed, correctness, liveness, crash. */
  outcomes: totalOutcomes(agg.points),
  seeds: sweep.seeds,
  parameters: sweep.space.names,
  metrics: sweep.metrics,
  constraints: Object.fromEntries(sweep.constraints.map((c) => [c.metric, c.text])),
  files,
  points: agg.points.map((p) => ({
    point: p.index,
    scenario: p.scenario,
    params: p.params,
    runs: p.runs,
    outcomes: p.outcomes,
    meetsConstraints: meetsConstraints(p, sweep.constraints),
    attackPays: attackPays(p),
    metrics: Object.fromEntries(sweep.metrics.map((m) => {
      const s = p.stats[m]!
      return [m, s.n === 0 ? null : { mean: s.mean, sd: stdOf(s), min: s.min, max: s.max, n: s.n }]
    })),
  })),
})
