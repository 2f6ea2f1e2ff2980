/** Durations as written in scenario files and flags: `250ms`, `30s`, `10m`, `1h`, `2d`. */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/

/** Parse a duration string to whole milliseconds, or `undefined` when it is not one. */
export const parseDuration = (text: string): number | undefined => {
  const m = DURATION.exec(text.trim())
  if (m === null) return undefined
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined
}

/** Milliseconds → the shortest exact duration string (`90000` → `90s`, `5400000` → `90m`). */
export const formatDuration = (ms: number): string => {
  if (ms === 0) return "0s"
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

export const DAY_MS = UNIT_MS.d
export const YEAR_MS = 365 * UNIT_MS.d
