/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) with, per
 * scenario, each metric against each swept parameter (mean per point, the min–max spread over seeds
 * as a bar), the points that meet the constraints in green, the values where some point's attack
 * pays shaded red with a dashed frontier, and a heat map per metric when two parameters are swept
 * (frontier drawn as thick edges between paying and non-paying cells).
 */
import type { ParamValue } from "../../runtime/core/params.ts"
import { attackPays, economicsNotes, meanOf, ROI_METRICS, meetsConstraints, stdOf, totalOutcomes, type PointAggregate, type SweepAggregate } from "./aggregate.ts"
import { formatOutcomes, OUTCOMES } from "../check/verdict.ts"
import type { Sweep } from "./file.ts"
import { rangeLabels } from "./ticks.ts"

const W = 420
const H = 260
/** Margins; the top one holds a title of up to two lines. */
const M = { l: 64, r: 16, t: 36, b: 44 }
/** Right margin of a heat map: its colour legend. */
const LEGEND_W = 90
/** Characters of the 12-px bold title that fit the plot's width (about 7 px each). */
const TITLE_CHARS = Math.floor((W - 8) / 7)
const GREEN = "#1a9850"
const RED = "#d73027"
const GREY = "#777"

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** Short, readable number. */
export const fmt = (x: number | null): string => {
  if (x === null || !Number.isFinite(x)) return "–"
  if (x === 0) return "0"
  const a = Math.abs(x)
  return a >= 1e6 || a < 1e-3 ? x.toExponential(2) : a >= 100 ? x.toFixed(1) : x.toPrecision(3)
}

/** Positions of the distinct values of a parameter: evenly spaced when few (a grid), linear when many. */
const axisOf = (values: readonly ParamValue[]) => {
  const distinct = [...new Set(values)].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))))
  const numeric = distinct.every((v) => typeof v === "number")
  if (!numeric || distinct.length <= 20) {
    const pos = new Map(distinct.map((v, i) => [v, distinct.length === 1 ? 0.5 : i / (distinct.length - 1)]))
    // Numbers labelled against each other (20.0M, 100M), the same labels the heat map's axes use.
    const labels = new Map(numeric ? rangeLabels(distinct as number[]).map((l, i) => [distinct[i]!, l] as const) : distinct.map((v) => [v, String(v)] as const))
    return { pos: (v: ParamValue) => pos.get(v) ?? 0, ticks: distinct.map((v) => ({ at: pos.get(v)!, label: labels.get(v)! })), categories: distinct, labelOf: (v: ParamValue) => labels.get(v) ?? String(v) }
  }
  const lo = distinct[0] as number
  const hi = distinct.at(-1) as number
  const span = hi - lo || 1
  const fs = [0, 0.25, 0.5, 0.75, 1]
  const labels = rangeLabels(fs.map((f) => lo + f * span))
  return { pos: (v: ParamValue) => ((v as number) - lo) / span, ticks: fs.map((f, i) => ({ at: f, label: labels[i]! })), categories: undefined, labelOf: (v: ParamValue) => String(v) }
}

const yScale = (lo: number, hi: number) => {
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1
  const a = lo - pad
  const b = hi + pad
  return { y: (v: number) => M.t + (H - M.t - M.b) * (1 - (v - a) / (b - a)), lo: a, hi: b }
}

/** A title as at most two lines of about `max` characters, broken between words (the last line takes the rest). */
export const titleLines = (title: string, max: number = TITLE_CHARS): string[] => {
  const lines: string[] = []
  for (const word of title.split(" ")) {
    const current = lines.at(-1)
    if (current !== undefined && `${current} ${word}`.length <= max) lines[lines.length - 1] = `${current} ${word}`
    else lines.push(word)
  }
  return lines.length <= 2 ? lines : [lines[0]!, lines.slice(1).join(" ")]
}

/** The title's SVG: each line centred; a line still longer than the width is squeezed to fit (never clipped). */
const titleSvg = (title: string): string =>
  titleLines(title).map((l, i) => `<text x="${W / 2}" y="${15 + i * 14}" text-anchor="middle" class="t"${l.length > TITLE_CHARS ? ` textLength="${W - 8}" lengthAdjust="spacingAndGlyphs"` : ""}>${esc(l)}</text>`).join("")

const frame = (title: string, xLabel: string, body: string, yTicks: string, right: number = M.r): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">` +
  `${titleSvg(title)}${body}${yTicks}` +
  `<line x1="${M.l}" y1="${H - M.b}" x2="${W - right}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>` +
  `<text x="${(M.l + W - right) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text></svg>`

/** One metric against one parameter: mean per point, spread over seeds, constraint colours, paying region. */
export const metricPlot = (points: readonly PointAggregate[], param: string, metric: string, sweep: Sweep): string => {
  const withValue = points.filter((p) => p.stats[metric] !== undefined && p.stats[metric]!.n > 0)
  if (withValue.length === 0) return frame(`${metric} vs ${param}`, param, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no values</text>`, "")
  const axis = axisOf(points.map((p) => p.params[param]!))
  const at = (f: number) => M.l + 10 + (W - M.l - M.r - 20) * f
  const x = (v: ParamValue) => at(axis.pos(v))
  const lo = Math.min(...withValue.map((p) => p.stats[metric]!.min), ...((ROI_METRICS as readonly string[]).includes(metric) ? [0] : []))
  const hi = Math.max(...withValue.map((p) => p.stats[metric]!.max), ...((ROI_METRICS as readonly string[]).includes(metric) ? [0] : []))
  const { y, lo: ya, hi: yb } = yScale(lo, hi)
  let body = ""
  // Where an attack pays for some point at this value of the parameter: shaded, with a dashed frontier.
  const paysAt = new Map<ParamValue, boolean>()
  for (const p of points) {
    const pays = attackPays(p)
    if (pays !== null) paysAt.set(p.params[param]!, (paysAt.get(p.params[param]!) ?? false) || pays)
  }
  const xs = [...paysAt.keys()].sort((a, b) => axis.pos(a) - axis.pos(b))
  const half = xs.length > 1 ? (x(xs[1]!) - x(xs[0]!)) / 2 : 20
  for (const [i, v] of xs.entries()) {
    if (paysAt.get(v) === true) body += `<rect x="${x(v) - half}" y="${M.t}" width="${2 * half}" height="${H - M.t - M.b}" fill="${RED}" fill-opacity="0.12"/>`
    if (i > 0 && paysAt.get(v) !== paysAt.get(xs[i - 1]!)) {
      const fx = (x(v) + x(xs[i - 1]!)) / 2
      body += `<line x1="${fx}" y1="${M.t}" x2="${fx}" y2="${H - M.b}" stroke="${RED}" stroke-dasharray="5,3" class="frontier"/>`
    }
  }
  if (ya < 0 && yb > 0) body += `<line x1="${M.l}" y1="${y(0)}" x2="${W - M.r}" y2="${y(0)}" stroke="#bbb" stroke-dasharray="2,2"/>`
  for (const t of axis.ticks) body += `<text x="${at(t.at)}" y="${H - M.b + 14}" text-anchor="middle" class="s">${esc(t.label)}</text>`
  for (const p of withValue) {
    const s = p.stats[metric]!
    const cx = x(p.params[param]!)
    const ok = sweep.constraints.length === 0 ? undefined : meetsConstraints(p, sweep.constraints)
    const colour = ok === undefined ? GREY : ok ? GREEN : RED
    body += `<line x1="${cx}" y1="${y(s.min)}" x2="${cx}" y2="${y(s.max)}" stroke="${colour}" stroke-opacity="0.5" stroke-width="3"/>`
    body += `<circle cx="${cx}" cy="${y(s.mean)}" r="3.5" fill="${colour}"><title>${esc(`${Object.entries(p.params).map(([k, v]) => `${k}=${String(v)}`).join(", ")}: mean ${fmt(s.mean)} (min ${fmt(s.min)}, max ${fmt(s.max)}, sd ${fmt(stdOf(s))}, ${s.n} seeds)`)}</title></circle>`
  }
  // Labels by the axis's range, so that ticks differ (999.98M, 999.99M, 1.00000B; not 1.00e+9 thrice).
  const tickValues = [0, 0.5, 1].map((f) => ya + f * (yb - ya))
  const tickLabels = rangeLabels(tickValues)
  const yTicks = tickValues.map((v, i) => `<text x="${M.l - 4}" y="${y(v) + 4}" text-anchor="end" class="s">${esc(tickLabels[i]!)}</text>`).join("")
  return frame(`${metric} vs ${param}`, param, body, yTicks)
}

const colourOf = (v: number, lo: number, hi: number, diverging: boolean): string => {
  if (diverging) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1
    const f = Math.min(1, Math.abs(v) / m)
    const c = Math.round(255 * (1 - f))
    return v > 0 ? `rgb(255,${c},${c})` : `rgb(${c},${c},255)`
  }
  const f = hi === lo ? 0.5 : (v - lo) / (hi - lo)
  return `rgb(${Math.round(255 - 200 * f)},${Math.round(255 - 120 * f)},${Math.round(255 - 60 * f)})`
}

/** Whether an `rgb(r,g,b)` fill is dark enough to need white text on it (relative luminance below 0.4). */
const dark = (rgb: string): boolean => {
  const [r, g, b] = (rgb.match(/\d+/g) ?? ["255", "255", "255"]).map(Number) as [number, number, number]
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.4
}

/** A heat map of a metric over two parameters; thick black edges separate paying from non-paying cells. */
export const heatMap = (points: readonly PointAggregate[], px: string, py: string, metric: string, sweep: Sweep): string => {
  const ax = axisOf(points.map((p) => p.params[px]!))
  const ay = axisOf(points.map((p) => p.params[py]!))
  const nx = ax.categories?.length ?? 10
  const ny = ay.categories?.length ?? 10
  const bin = (pos: number, n: number) => Math.min(n - 1, Math.floor(pos * n * 0.9999))
  const idx = (pos: number, n: number, cats: boolean) => (cats ? Math.round(pos * (n - 1)) : bin(pos, n))
  const cells = new Map<string, { sum: number; n: number; pays: boolean | null; ok: boolean }>()
  for (const p of points) {
    const mean = meanOf(p, metric)
    if (mean === null) continue
    const key = `${idx(ax.pos(p.params[px]!), nx, ax.categories !== undefined)},${idx(ay.pos(p.params[py]!), ny, ay.categories !== undefined)}`
    const c = cells.get(key) ?? { sum: 0, n: 0, pays: null, ok: true }
    c.sum += mean
    c.n++
    const pays = attackPays(p)
    if (pays !== null) c.pays = (c.pays ?? false) || pays
    c.ok = c.ok && (sweep.constraints.length > 0 && meetsConstraints(p, sweep.constraints))
    cells.set(key, c)
  }
  const values = [...cells.values()].map((c) => c.sum / c.n)
  if (values.length === 0) return frame(`${metric}: ${py} × ${px}`, px, "", "")
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const diverging = lo < 0 && hi > 0
  const right = LEGEND_W
  const cw = (W - M.l - right) / nx
  const ch = (H - M.t - M.b) / ny
  const cx = (i: number) => M.l + i * cw
  const cy = (j: number) => H - M.b - (j + 1) * ch
  let body = ""
  const entries = [...cells]
  // Cells read against each other: 999.98M beside 1.00B, three figures at most (the tooltip has more).
  const cellLabels = rangeLabels(entries.map(([, c]) => c.sum / c.n), 1)
  for (const [k, [key, c]] of entries.entries()) {
    const [i, j] = key.split(",").map(Number) as [number, number]
    const v = c.sum / c.n
    const fill = colourOf(v, lo, hi, diverging)
    body += `<rect x="${cx(i)}" y="${cy(j)}" width="${cw}" height="${ch}" fill="${fill}" stroke="#fff"><title>${esc(`${metric} ${fmt(v)} (${v})`)}</title></rect>`
    body += `<text x="${cx(i) + cw / 2}" y="${cy(j) + ch / 2 + 4}" text-anchor="middle" class="s"${dark(fill) ? ' fill="#fff"' : ""}>${esc(cellLabels[k]!)}${c.ok ? " ✓" : ""}</text>`
  }
  body += legend(lo, hi, diverging)
  // Frontier: edges between neighbouring cells of which exactly one pays.
  for (const [key, c] of cells) {
    const [i, j] = key.split(",").map(Number) as [number, number]
    const right = cells.get(`${i + 1},${j}`)
    const up = cells.get(`${i},${j + 1}`)
    if (right !== undefined && c.pays !== null && right.pays !== null && c.pays !== right.pays) {
      body += `<line x1="${cx(i + 1)}" y1="${cy(j)}" x2="${cx(i + 1)}" y2="${cy(j) + ch}" stroke="#000" stroke-width="3" class="frontier"/>`
    }
    if (up !== undefined && c.pays !== null && up.pays !== null && c.pays !== up.pays) {
      body += `<line x1="${cx(i)}" y1="${cy(j)}" x2="${cx(i) + cw}" y2="${cy(j)}" stroke="#000" stroke-width="3" class="frontier"/>`
    }
  }
  const xt = ax.categories !== undefined ? ax.categories.map((v, i) => ({ at: cx(i) + cw / 2, label: ax.labelOf(v) })) : ax.ticks.map((t) => ({ at: M.l + t.at * (W - M.l - right), label: t.label }))
  const yt = ay.categories !== undefined ? ay.categories.map((v, j) => ({ at: cy(j) + ch / 2, label: ay.labelOf(v) })) : ay.ticks.map((t) => ({ at: H - M.b - t.at * (H - M.t - M.b), label: t.label }))
  for (const t of xt) body += `<text x="${t.at}" y="${H - M.b + 14}" text-anchor="middle" class="s">${esc(t.label)}</text>`
  const yTicks = yt.map((t) => `<text x="${M.l - 4}" y="${t.at + 4}" text-anchor="end" class="s">${esc(t.label)}</text>`).join("") +
    `<text x="12" y="${(M.t + H - M.b) / 2}" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})" text-anchor="middle">${esc(py)}</text>`
  return frame(`${metric}: ${py} × ${px}`, px, body, yTicks, right)
}

/** Steps of a heat map's colour legend (plain rects: no gradient ids to clash between inline SVGs). */
const LEGEND_STEPS = 24

/** The colour scale beside a heat map: lowest value at the bottom, highest at the top (diverging: −m … 0 … +m). */
const legend = (lo: number, hi: number, diverging: boolean): string => {
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1
  const [a, b] = diverging ? [-m, m] : [lo, hi]
  const x = W - LEGEND_W + 10
  const top = M.t
  const height = H - M.t - M.b
  const step = height / LEGEND_STEPS
  let svg = `<g class="legend">`
  for (let k = 0; k < LEGEND_STEPS; k++) {
    const v = a + ((k + 0.5) / LEGEND_STEPS) * (b - a)
    svg += `<rect x="${x}" y="${top + height - (k + 1) * step}" width="12" height="${step + 0.5}" fill="${colourOf(v, lo, hi, diverging)}"/>`
  }
  svg += `<rect x="${x}" y="${top}" width="12" height="${height}" fill="none" stroke="#999"/>`
  const ticks = a === b ? [a] : [a, (a + b) / 2, b]
  const labels = rangeLabels(ticks)
  for (const [i, v] of ticks.entries()) {
    const ty = a === b ? top + height / 2 : top + height * (1 - (v - a) / (b - a))
    svg += `<text x="${x + 16}" y="${ty + 4}" class="s">${esc(labels[i]!)}</text>`
  }
  return `${svg}</g>`
}

/** The whole page. */
export const renderReport = (sweep: Sweep, agg: SweepAggregate): string => {
  const names = sweep.space.names
  const sections = sweep.scenarios.map((sc) => {
    const points = agg.points.filter((p) => p.scenario === sc.name)
    const plots = sweep.metrics.flatMap((m) => names.map((n) => metricPlot(points, n, m, sweep)))
    const heat = names.length === 2 ? sweep.metrics.map((m) => heatMap(points, names[0]!, names[1]!, m, sweep)) : []
    const meeting = points.filter((p) => meetsConstraints(p, sweep.constraints)).length
    const paying = points.filter((p) => attackPays(p) === true).length
    return `<h2>${esc(sc.name)} — ${esc(sc.scenario.name)}</h2>` +
      `<p>${points.length} points, ${points.reduce((s, p) => s + p.runs, 0)} runs (${esc(formatOutcomes(totalOutcomes(points)))}); ${sweep.constraints.length > 0 ? `${meeting} meet the constraints; ` : ""}${paying} where the attack pays.</p>` +
      `<div class="plots">${plots.join("")}</div>` + (heat.length > 0 ? `<h3>Heat maps</h3><div class="plots">${heat.join("")}</div>` : "") +
      table(points, sweep)
  })
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(sweep.name)}</title><style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}svg{margin:6px;background:#fafafa;border:1px solid #ddd}svg text{font-size:11px}svg text.t{font-size:12px;font-weight:600}svg text.s{font-size:10px}
.plots{display:flex;flex-wrap:wrap}table{border-collapse:collapse;margin-top:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}td.ok{color:${GREEN}}td.no{color:${RED}}
</style></head><body><h1>${esc(sweep.name)}</h1><p>${esc(sweep.description)}</p>
<p>${agg.runs} runs of ${sweep.seeds} seed${sweep.seeds > 1 ? "s" : ""} per point; swept: ${names.map(esc).join(", ")}; constraints: ${sweep.constraints.map((c) => `${esc(c.metric)} ${esc(c.text)}`).join(", ") || "none"}.
Green: the point meets every constraint (on the mean over seeds); red: it does not. Bars: min–max over seeds. Red shading and dashed lines: where an attack pays and its frontier. Heat maps: each cell coloured by the metric's mean (scale beside each map), ✓ where the point meets every constraint, thick black edges between paying and non-paying cells. The table counts each run's verdict: passed, correctness (a safety, slashing, supply, accuracy or economics expectation failed), liveness (the progress expected was not reached), crash.</p>
<ul>${economicsNotes(sweep).map((n) => `<li>${esc(n)}</li>`).join("")}</ul>
${sections.join("\n")}</body></html>
`
}

const table = (points: readonly PointAggregate[], sweep: Sweep): string => {
  const shown = points.slice(0, 500)
  const head = `<tr>${[...sweep.space.names, ...sweep.metrics.map((m) => `${m} (mean ± sd)`), "constraints", "runs", ...OUTCOMES].map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`
  const rows = shown.map((p) => {
    const ok = meetsConstraints(p, sweep.constraints)
    return `<tr>${sweep.space.names.map((n) => `<td>${esc(typeof p.params[n] === "number" ? fmt(p.params[n] as number) : String(p.params[n]))}</td>`).join("")}` +
      sweep.metrics.map((m) => `<td>${fmt(meanOf(p, m))} ± ${fmt(stdOf(p.stats[m]!))}</td>`).join("") +
      `<td class="${ok ? "ok" : "no"}">${sweep.constraints.length === 0 ? "–" : ok ? "met" : "not met"}</td><td>${p.runs}</td>${OUTCOMES.map((o) => `<td${o !== "passed" && p.outcomes[o] > 0 ? ' class="no"' : ""}>${p.outcomes[o] ?? 0}</td>`).join("")}</tr>`
  }).join("")
  return `<table>${head}${rows}</table>${points.length > shown.length ? `<p>… ${points.length - shown.length} more points in results.csv</p>` : ""}`
}
