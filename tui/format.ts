/** Text helpers for the screens: amounts, percentages, padding, and escaping event text from blessed tags. */
import { formatTokens } from "../runtime/core/units.ts"

/** Event text may contain `{…}`, which blessed would read as tags. */
export const esc = (s: string): string => s.replace(/[{}]/g, (c) => (c === "{" ? "{open}" : "{close}"))

/** Tokens with at most `decimals` decimals ("1,234.5"), or "—" when unknown. */
export const tokensText = (v: bigint | undefined, decimals = 2): string => (v === undefined ? "—" : formatTokens(v, decimals))

/** "12.5 %" from a fraction, or "—". */
export const pct = (v: number | undefined, digits = 1): string => (v === undefined ? "—" : `${(v * 100).toFixed(digits)} %`)

/** A number with `digits` decimals, or "—". */
export const fixed = (v: number | undefined, digits = 3): string => (v === undefined ? "—" : v.toFixed(digits))

/** An integer count, or "—". */
export const int = (v: number | undefined): string => (v === undefined ? "—" : String(v))

/** Large integer tallies compactly: 950, 12.3k, 4.56M, 7.89G. */
export const compact = (v: bigint): string => {
  const neg = v < 0n
  const a = neg ? -v : v
  const units: Array<[bigint, string]> = [[10n ** 12n, "T"], [10n ** 9n, "G"], [10n ** 6n, "M"], [10n ** 3n, "k"]]
  for (const [u, s] of units) {
    if (a >= u) {
      const scaled = Number((a * 100n) / u) / 100
      return `${neg ? "-" : ""}${scaled >= 100 ? scaled.toFixed(0) : scaled.toFixed(scaled >= 10 ? 1 : 2)}${s}`
    }
  }
  return `${neg ? "-" : ""}${a}`
}

/**
 * A vote tally in the unit people weigh it in. The chain counts votes in base units: stake (wei,
 * 18 decimals) with linear votes, √(stake in wei) with quadratic ones. A tally of 1e15 or more can
 * only be linear (√ of the whole supply in wei is 3.2e13), so it reads as DAI of stake (750k);
 * below, as √DAI (√(stake in wei) ÷ 1e9). Either fits a 7-column cell, where the raw number did not.
 */
export const votesText = (v: bigint): string => (v >= 10n ** 15n || v <= -(10n ** 15n) ? compact(v / 10n ** 18n) : compact(v / 10n ** 9n))

/** Cut or pad to exactly `width` columns (an ellipsis marks a cut). */
export const fit = (s: string, width: number, align: "left" | "right" = "left"): string => {
  if (width <= 0) return ""
  if (s.length > width) return width === 1 ? "…" : `${s.slice(0, width - 1)}…`
  return align === "left" ? s.padEnd(width) : s.padStart(width)
}

/** Abbreviated hash or address: 0x1234ab…. */
export const short = (s: string | undefined, keep = 10): string => (s === undefined ? "—" : s.length > keep + 2 && s.startsWith("0x") ? `${s.slice(0, keep)}…` : s)

/** From here on a time is Unix ms (a live node), below it virtual ms since the start (a replay). */
const UNIX_TIME_FROM = 1e12

/**
 * A time as people read it: virtual time (a replay) as h:mm:ss.mmm since the start; Unix time (a live
 * node) as the UTC time of day, hh:mm:ss.mmm. Callers pass ms.
 */
export const clock = (ms: number): string => {
  const unix = ms >= UNIX_TIME_FROM
  const total = Math.max(0, Math.floor(unix ? ms % 86_400_000 : ms))
  const h = Math.floor(total / 3_600_000)
  const m = Math.floor((total % 3_600_000) / 60_000)
  const s = Math.floor((total % 60_000) / 1000)
  const frac = total % 1000
  return `${unix ? String(h).padStart(2, "0") : h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(frac).padStart(3, "0")}`
}

/** A bar of `width` cells filled `done/total` of the way: [#####-----]. */
export const bar = (done: number, total: number, width: number): string => {
  const w = Math.max(1, width)
  const filled = total > 0 ? Math.min(w, Math.round((Math.max(0, done) / total) * w)) : 0
  return `[${"#".repeat(filled)}${"-".repeat(w - filled)}]`
}
