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
}

/** Lines of a chart of `values` (oldest first; the newest that fit are drawn). Width includes the axis. */
export const lineChart = (values: readonly (number | undefined)[], o: ChartOptions): string[] => {
  const digits = o.digits ?? 2
  const glyph = o.glyph ?? "*"
  const height = Math.max(2, Math.floor(o.height))
  const points = values.filter((v): v is number => v !== undefined && Number.isFinite(v))
  let lo = o.min ?? Math.min(...points)
  let hi = o.max ?? Math.max(...points)
  if (points.length === 0) {
    lo = o.min ?? 0
    hi = o.max ?? 1
  }
  if (hi === lo) {
    hi += 0.5
    lo -= 0.5
  }
  const labels = [hi.toFixed(digits), lo.toFixed(digits)]
  const axis = Math.max(...labels.map((l) => l.length))
  const plotWidth = Math.max(1, Math.floor(o.width) - axis - 2)
  const shown = points.slice(-plotWidth)
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: plotWidth }, () => " "))
  const rowOf = (v: number): number => {
    const clamped = Math.min(hi, Math.max(lo, v))
    return height - 1 - Math.round(((clamped - lo) / (hi - lo)) * (height - 1))
  }
  let prev: number | undefined
  shown.forEach((v, x) => {
    const y = rowOf(v)
    if (prev !== undefined && Math.abs(prev - y) > 1) {
      for (let r = Math.min(prev, y) + 1; r < Math.max(prev, y); r++) grid[r]![x] = "|"
    }
    grid[y]![x] = glyph
    prev = y
  })
  return grid.map((row, r) => {
    const label = r === 0 ? labels[0]! : r === height - 1 ? labels[1]! : ""
    return `${label.padStart(axis)} |${row.join("")}`
  }).concat(`${" ".repeat(axis)} +${"-".repeat(plotWidth)}`)
}
