/**
 * A few results remembered per key object, for work that the replicas of a simulated world do alike on
 * the same (shared, never changed) objects: the first replica computes, the others find it. Each key
 * keeps at most `limit` entries, the oldest dropped first; a key's entries go with the key (WeakMap).
 * A real node has one replica: it finds nothing here and computes as it would without it.
 */
export class RecentByObject<K extends object, E> {
  readonly #entries = new WeakMap<K, E[]>()
  readonly #limit: number

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`RecentByObject: limit must be a positive whole number, got ${limit}`)
    this.#limit = limit
  }

  /** The entry of `key` that `match` accepts, if one is remembered. */
  find(key: K, match: (entry: E) => boolean): E | undefined {
    const entries = this.#entries.get(key)
    if (entries !== undefined) for (const e of entries) if (match(e)) return e
    return undefined
  }

  /** Remember `entry` under `key` (dropping the key's oldest past the limit); returns it. */
  add(key: K, entry: E): E {
    let entries = this.#entries.get(key)
    if (entries === undefined) this.#entries.set(key, (entries = []))
    if (entries.length >= this.#limit) entries.shift()
    entries.push(entry)
    return entry
  }
}
