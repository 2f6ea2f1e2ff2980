/** The terminal summary of a sweep (a table of points) and its `--json` form. */
import { attackPays, attackRoiOf, economicsNotes, meanOf, meetsConstraints, stdOf, totalOutcomes, type PointAggregate, type SweepAggregate } from "./aggregate.ts"
import { PAYS_TOLERANCE } from "../scenario/metrics.ts"
import { formatOutcomes } from "../check/verdict.ts"
import type { Sweep } from "./file.ts"
import { fmt } from "./report.ts"
import { rangeLabels } from "./ticks.ts"

const MAX_ROWS = 40

/** The "attack pays" cell: YES above the tolerance, "≈0" for a gain within it, else no ("-" without an ROI). */
export const paysCell = (p: PointAggregate): string => {
  const roi = attackRoiOf(p)
  if (roi === null) return "-"
  return attackPays(p) ? "YES" : roi > 0 ? "no (≈0)" : "no"
}

/** A table: one row per point (the first MAX_ROWS), mean ± sd of each metric, constraints, whether the attack pays, the runs' verdicts. */
export const formatSummary = (sweep: Sweep, agg: SweepAggregate, files: { readonly jsonl: string; readonly csv: string; readonly html: string }): string => {
  const head = ["scenario", ...sweep.space.names, ...sweep.metrics, "constraints", "attack pays", "runs"]
  const shown = agg.points.slice(0, MAX_ROWS)
  // Each column's means read against each other (999.98M beside 1.00B, not 1.00e+9 twice).
  const meanLabels = sweep.metrics.map((m) => {
    const means = shown.map((p) => meanOf(p, m))
    const labels = rangeLabels(means.filter((x): x is number => x !== null), 1)
    let k = 0
    return means.map((x) => (x === null ? fmt(null) : labels[k++]!))
  })
  const rows = shown.map((p, row) => [
    p.scenario,
    ...sweep.space.names.map((n) => (typeof p.params[n] === "number" ? fmt(p.params[n] as number) : String(p.params[n]))),
    ...sweep.metrics.map((m, col) => `${meanLabels[col]![row]}±${fmt(stdOf(p.stats[m]!))}`),
    sweep.constraints.length === 0 ? "-" : meetsConstraints(p, sweep.constraints) ? "met" : "NOT met",
    paysCell(p),
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
    ...economicsNotes(sweep).map((n) => `note: ${n}`),
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
  /** An attack pays where its mean ROI exceeds this fraction of the stake at risk. */
  paysTolerance: PAYS_TOLERANCE,
  files,
  points: agg.points.map((p) => ({
    point: p.index,
    scenario: p.scenario,
    params: p.params,
    runs: p.runs,
    outcomes: p.outcomes,
    meetsConstraints: meetsConstraints(p, sweep.constraints),
    attackPays: attackPays(p),
    /** The mean ROI that judged it (the first of attackerExcessRoi, sybilRoi, attackerRoi swept), or null. */
    attackRoi: attackRoiOf(p),
    metrics: Object.fromEntries(sweep.metrics.map((m) => {
      const s = p.stats[m]!
      return [m, s.n === 0 ? null : { mean: s.mean, sd: stdOf(s), min: s.min, max: s.max, n: s.n }]
    })),
  })),
})
