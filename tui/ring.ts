/**
 * A bounded, immutable, structurally shared buffer of the newest `cap` items (the log, the chart
 * series). Pushing copies at most a small chunk, so a snapshot of the view model every few hundred
 * events (replay's step back) shares almost all of its memory with the next one.
 */

/** Items are split into an older frozen block and a short recent chunk; `items()` joins them. */
export interface Ring<T> {
  readonly cap: number
  readonly old: readonly T[]
  readonly recent: readonly T[]
}

/** Items appended before the recent chunk is folded into the old block. */
const CHUNK = 64

/** An empty ring holding at most `cap` (≥ 1) items. */
export const ring = <T>(cap: number): Ring<T> => {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`ring: cap must be a positive integer, got ${cap}`)
  return { cap, old: [], recent: [] }
}

/** A new ring with `item` appended (the oldest dropped beyond `cap`). */
export const push = <T>(r: Ring<T>, item: T): Ring<T> => {
  const recent = [...r.recent, item]
  if (recent.length < CHUNK && recent.length <= r.cap) return { cap: r.cap, old: r.old, recent }
  const all = r.old.concat(recent)
  return { cap: r.cap, old: all.length > r.cap ? all.slice(all.length - r.cap) : all, recent: [] }
}

/** A new ring whose newest item is replaced by `f(newest)` (no-op when empty). */
export const replaceLast = <T>(r: Ring<T>, f: (item: T) => T): Ring<T> => {
  if (r.recent.length > 0) return { cap: r.cap, old: r.old, recent: [...r.recent.slice(0, -1), f(r.recent.at(-1)!)] }
  if (r.old.length > 0) return { cap: r.cap, old: [...r.old.slice(0, -1), f(r.old.at(-1)!)], recent: [] }
  return r
}

/** The newest `n` items (all of them by default), oldest first; never more than `cap`. */
export const items = <T>(r: Ring<T>, n = r.cap): readonly T[] => {
  const all = r.recent.length === 0 ? r.old : r.old.concat(r.recent)
  const keep = Math.min(n, r.cap)
  return all.length > keep ? all.slice(all.length - keep) : all
}

/** How many items `items()` returns. */
export const size = <T>(r: Ring<T>): number => Math.min(r.cap, r.old.length + r.recent.length)

/** The newest item, if any. */
export const last = <T>(r: Ring<T>): T | undefined => r.recent.at(-1) ?? r.old.at(-1)
