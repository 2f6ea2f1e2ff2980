/** The sweep report's SVG: titles that fit, a colour legend on every heat map, supply ticks that differ, the paying region's tolerance. */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { PAYS_TOLERANCE } from "../scenario/metrics.ts"
import { addValue, attackPays, type PointAggregate, type Stat } from "./aggregate.ts"
import { loadSweep } from "./file.ts"
import { heatMap, metricPlot, renderReport, titleLines } from "./report.ts"
import { formatSummary } from "./summary.ts"

const path = join(import.meta.dirname, "testdata", "report.yaml")
const sweep = loadSweep(
  "name: r\nscenario: tiny.yaml\nseeds: 1\ngrid: { slashing.downtimeFraction: [0, 0.0001, 0.001], rewards.annualEmission: [20000000, 100000000] }\nmetrics: [attackerRoi, honestApr, supply]\nconstraints: { attackerRoi: \"< 0\" }\n",
  path,
)

/** A point of the grid whose single run measured `metrics`. */
const point = (index: number, fraction: number, emission: number, metrics: Record<string, number>): PointAggregate => {
  const stats: Record<string, Stat> = {}
  for (const m of sweep.metrics) {
    const s: Stat = { n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, missing: 0 }
    addValue(s, metrics[m] ?? null)
    stats[m] = s
  }
  return { index, scenario: sweep.scenarios[0]!.name, params: { "slashing.downtimeFraction": fraction, "rewards.annualEmission": emission }, runs: 1, outcomes: { passed: 1, correctness: 0, liveness: 0, crash: 0 }, stats }
}

// The downtime sweep's shape: at fraction 0 the offline validator keeps 5.4e-7 of its stake (within the tolerance).
const points = [0, 0.0001, 0.001].flatMap((f, i) => [2e7, 1e8].map((e, j) => point(i * 2 + j, f, e, {
  attackerRoi: f === 0 ? 5.4e-7 * (e / 2e7) : -f, honestApr: 0.108 * (e / 2e7), supply: 1e9 - f * 2e7,
})))
const agg = { runs: points.length, points }

const texts = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`<text[^>]*class="${cls}"[^>]*>([^<]*)</text>`, "g"))].map((m) => m[1]!)

describe("sweep report", () => {
  it("the supply plot's y ticks differ (999.98M … 1.00000B, not 1.00e+9 three times)", () => {
    const svg = metricPlot(points, "slashing.downtimeFraction", "supply", sweep)
    const yTicks = [...svg.matchAll(/<text x="60" y="[^"]+" text-anchor="end" class="s">([^<]*)<\/text>/g)].map((m) => m[1]!)
    expect(yTicks).toHaveLength(3)
    expect(new Set(yTicks).size).toBe(3)
    expect(yTicks.some((t) => t.endsWith("M"))).toBe(true)
  })

  it("every heat map has a colour legend with its range, and its cells tell 999.98M from 1.00B", () => {
    const svg = heatMap(points, "slashing.downtimeFraction", "rewards.annualEmission", "supply", sweep)
    expect(svg).toContain('<g class="legend">')
    const legend = svg.slice(svg.indexOf('<g class="legend">'), svg.indexOf("</g>"))
    expect(legend.match(/<rect /g)!.length).toBeGreaterThan(10)
    expect(texts(legend, "s")).toHaveLength(3)
    const cells = texts(svg.slice(0, svg.indexOf('<g class="legend">')), "s")
    expect(cells).toContain("999.98M ✓")
    expect(cells.some((c) => c.startsWith("1.00"))).toBe(true)
    const html = renderReport(sweep, agg)
    expect(html.match(/<g class="legend">/g)).toHaveLength(sweep.metrics.length)
  })

  it("titles fit the plot: broken into two lines between words, a longer line squeezed, never cut", () => {
    const title = "attackerRoi: rewards.annualEmission × slashing.downtimeFraction"
    const lines = titleLines(title)
    expect(lines.length).toBe(2)
    expect(lines.join(" ")).toBe(title)
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(58)
    const svg = heatMap(points, "slashing.downtimeFraction", "rewards.annualEmission", "attackerRoi", sweep)
    expect(texts(svg, "t")).toEqual(lines)
    const long = titleLines(`${"x".repeat(90)} y`)
    expect(long).toEqual(["x".repeat(90), "y"])
    expect(metricPlot(points, "x".repeat(90), "supply", sweep)).toContain('textLength="412"')
  })

  it("an attack pays only above the tolerance: +5.4e-7 of the stake is break-even, not a paying region", () => {
    expect(PAYS_TOLERANCE).toBe(1e-4)
    expect(points.map(attackPays)).toEqual([false, false, false, false, false, false])
    expect(attackPays(point(9, 0, 2e7, { attackerRoi: 2e-4 }))).toBe(true)
    const summary = formatSummary(sweep, agg, { jsonl: "r.jsonl", csv: "r.csv", html: "r.html" })
    expect(summary).toMatch(/0 where the attack pays/)
    expect(summary).toMatch(/no \(≈0\)/)
    expect(summary).toMatch(/note: attack pays: mean ROI above 0\.0001 of the stake at risk/)
    expect(summary).toMatch(/note: APR metrics annualise .* 7 days/)
    expect(renderReport(sweep, agg)).toContain("<li>attack pays: mean ROI above 0.0001")
  })
})
