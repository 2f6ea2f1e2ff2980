/**
 * A small line chart drawn in plain characters, so a screen needs no blessed-contrib and a test can
 * read it as text. The y axis is labelled with the range; each point is a glyph, consecutive points
 * are joined by vertical strokes so a jump reads as a line.
 */

export interface ChartOptions {
  readonly width: number
  readonly height: number
  readonly glyph?: string
  /** Fixed y range; otherwise the data's own (padded when flat). */
  readonly min?: number
  readonly max?: number
  /** Digits of the axis labels. */
  readonly digits?: number
  /** A label per value (its round): the first and last shown are written under the x axis. */
  readonly xLabels?: readonly string[]
  /** Spread fewer points than columns over the whole width (default: one column per point, from the left). */
  readonly stretch?: boolean
}

/** Lines of a chart of `values` (oldest first; the newest that fit are drawn). Width includes the axis. */
export const lineChart = (values: readonly (number | undefined)[], o: ChartOptions): string[] => {
  const digits = o.digits ?? 2
  const glyph = o.glyph ?? "*"
  const height = Math.max(2, Math.floor(o.height))
  const kept = values.flatMap((v, i) => (v !== undefined && Number.isFinite(v) ? [{ v, label: o.xLabels?.[i] }] : []))
  const points = kept.map((k) => k.v)
  let lo = o.min ?? Math.min(...points)
  let hi = o.max ?? Math.max(...points)
  if (points.length === 0) {
    lo = o.min ?? 0
    hi = o.max ?? 1
  }
  if (hi === lo) {
    // Padded by at least one unit in the last place: ± 0.5 is lost to rounding beyond 2^52.
    const pad = Math.max(0.5, Math.abs(hi) * Number.EPSILON)
    hi += pad
    lo -= pad
  }
  const labels = [hi.toFixed(digits), lo.toFixed(digits)]
  const axis = Math.max(...labels.map((l) => l.length))
  const plotWidth = Math.max(1, Math.floor(o.width) - axis - 2)
  const shown = points.slice(-plotWidth)
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: plotWidth }, () => " "))
  const rowOf = (v: number): number => {
    const clamped = Math.min(hi, Math.max(lo, v))
    // Halves first: hi − lo overflows to Infinity for a range as wide as ±1e308.
    const f = (clamped / 2 - lo / 2) / (hi / 2 - lo / 2)
    return height - 1 - Math.round((Number.isFinite(f) ? f : 0) * (height - 1))
  }
  let prev: number | undefined
  const columnOf = (i: number): number => (o.stretch === true && shown.length > 1 ? Math.round((i * (plotWidth - 1)) / (shown.length - 1)) : i)
  shown.forEach((v, i) => {
    const x = columnOf(i)
    const y = rowOf(v)
    if (prev !== undefined && Math.abs(prev - y) > 1) {
      for (let r = Math.min(prev, y) + 1; r < Math.max(prev, y); r++) grid[r]![x] = "|"
    }
    grid[y]![x] = glyph
    prev = y
  })
  const lines = grid.map((row, r) => {
    const label = r === 0 ? labels[0]! : r === height - 1 ? labels[1]! : ""
    return `${label.padStart(axis)} |${row.join("")}`
  }).concat(`${" ".repeat(axis)} +${"-".repeat(plotWidth)}`)
  if (o.xLabels === undefined) return lines
  // Under the axis: the first shown point's label from its column, the last one's ending at its column.
  const window = kept.slice(-plotWidth)
  const first = window[0]?.label ?? ""
  const lastLabel = window.length > 1 ? (window.at(-1)?.label ?? "") : ""
  const end = columnOf(window.length - 1) + 1
  const under = lastLabel !== "" && first.length + 1 + lastLabel.length <= end ? `${first.padEnd(end - lastLabel.length)}${lastLabel}` : first
  return lines.concat(`${" ".repeat(axis + 2)}${under}`.slice(0, axis + 2 + plotWidth))
}

/** A y range for fractions (accuracy): the data's, padded by 0.05 and kept within [0, 1], so a change of a few points shows. */
export const fractionRange = (values: readonly (number | undefined)[]): { readonly min: number; readonly max: number } => {
  const xs = values.filter((v): v is number => v !== undefined && Number.isFinite(v))
  if (xs.length === 0) return { min: 0, max: 1 }
  // Whole hundredths, rounded first so that 0.92 + 0.05 = 0.9700000000000001 stays 0.97.
  const hundredths = (x: number) => Number((x * 100).toFixed(6))
  return { min: Math.max(0, Math.floor(hundredths(Math.min(...xs) - 0.05)) / 100), max: Math.min(1, Math.ceil(hundredths(Math.max(...xs) + 0.05)) / 100) }
}
