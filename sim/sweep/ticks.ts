/**
 * Number labels for the report's axes, legends and cells, formatted by the range they show: a supply
 * axis from 999,980,000 to 1,000,000,000 reads 999.98M, 999.99M, 1.00000B, not 1.00e+9 three times. Each label
 * gets a unit suffix (k, M, B, T) or an exponent for very small values, and as many decimals as it
 * takes for the distinct values given to get distinct labels (up to a limit, so noise stays short).
 */

const UNITS = [
  { at: 1e12, suffix: "T" },
  { at: 1e9, suffix: "B" },
  { at: 1e6, suffix: "M" },
  { at: 1e3, suffix: "k" },
] as const

/** Most decimals a label gets: beyond this, two values that close read the same (they are, for a plot). */
const MAX_DECIMALS = 10

/** One value with `decimals` decimals in its own unit (k, M, B, T; an exponent below 1e-3). */
const labelOf = (x: number, decimals: number): string => {
  if (!Number.isFinite(x)) return "–"
  if (x === 0) return "0"
  const a = Math.abs(x)
  if (a < 1e-3) return x.toExponential(Math.min(MAX_DECIMALS, Math.max(1, decimals)))
  const i = UNITS.findIndex((u) => a >= u.at)
  const unit = UNITS[i]
  const scale = unit?.at ?? 1
  const up = i < 0 ? UNITS.at(-1) : UNITS[i - 1]
  // 999.98M at one decimal rounds to 1000.0M: a few more decimals (999.98M), else the next unit up.
  for (let d = decimals; d <= decimals + 3; d++) {
    const v = (x / scale).toFixed(d)
    if (up === undefined || Math.abs(Number.parseFloat(v)) * scale < up.at) return `${v}${unit?.suffix ?? ""}`
  }
  return `${(x / up!.at).toFixed(Math.max(2, decimals))}${up!.suffix}`
}

/** Decimals needed to show a difference of `step` at the magnitude of `x` (in x's unit). */
const decimalsFor = (x: number, step: number): number => {
  const a = Math.abs(x)
  if (a < 1e-3 && a > 0) {
    // Exponent form: mantissa digits to show step relative to x's power of ten.
    return Math.max(1, Math.ceil(Math.log10(Math.pow(10, Math.floor(Math.log10(a))) / step)))
  }
  const scale = UNITS.find((u) => a >= u.at)?.at ?? 1
  return Math.max(0, Math.ceil(-Math.log10(step / scale) - 1e-9))
}

/** Decimals beyond a value's 3 significant figures it may get to differ from its neighbours. */
const MAX_EXTRA = 3

/** Decimals that show 3 significant figures of `x` in its own unit (0.541, 1.20M, 999k; exponent form: 2). */
const baseDecimals = (x: number): number => {
  const a = Math.abs(x)
  if (a === 0 || a < 1e-3) return 2
  const scale = UNITS.find((u) => a >= u.at)?.at ?? 1
  return Math.max(0, 2 - Math.floor(Math.log10(a / scale)))
}

/**
 * Labels for `values` (ticks of an axis, a legend, cells of a map), in order. Each gets the decimals
 * that tell it from its nearest distinct neighbour, at least 3 significant figures and at most
 * `maxExtra` (default MAX_EXTRA) more: values closer than that (float noise between seeds) read the same.
 */
export const rangeLabels = (values: readonly number[], maxExtra: number = MAX_EXTRA): string[] => {
  const finite = [...new Set(values.filter(Number.isFinite))].sort((a, b) => a - b)
  const gapOf = (x: number): number => {
    const i = finite.indexOf(x)
    const below = i > 0 ? x - finite[i - 1]! : Infinity
    const above = i >= 0 && i < finite.length - 1 ? finite[i + 1]! - x : Infinity
    return Math.min(below, above)
  }
  return values.map((x) => {
    if (!Number.isFinite(x)) return labelOf(x, 0)
    const base = baseDecimals(x)
    const gap = gapOf(x)
    const wanted = Number.isFinite(gap) && gap > 0 ? decimalsFor(x, gap) : base
    return labelOf(x, Math.min(MAX_DECIMALS, base + maxExtra, Math.max(base, wanted)))
  })
}

