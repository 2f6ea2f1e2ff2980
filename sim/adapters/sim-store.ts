/**
 * The simulated store: one node's durable key-value state, in memory, with the failure mode that
 * matters — a crash loses every write not yet synced.
 *
 * Writes land in an unsynced overlay on top of the synced contents. Reads see both (a process
 * reads its own writes); `sync()` folds the overlay into the synced contents; `crash()` throws
 * the overlay away. Values are copied in and out, as a real store serialises them, so a caller
 * mutating a buffer can never change what is stored — except sealed bytes (runtime/core/sealed-bytes.ts),
 * which nobody may change and which are kept as they are.
 */

import { isSealed } from "../../runtime/core/sealed-bytes.ts"

/** A deleted key in the unsynced overlay. */
const DELETED = null

/**
 * A value kept in the sealed parts it was given (`putParts`), read as their concatenation: nodes
 * that store commit certificates differing in a vote or two hold one copy of what they share.
 */
class Joined {
  readonly parts: readonly Uint8Array[]
  constructor(parts: readonly Uint8Array[]) {
    this.parts = parts
  }
  bytes(): Uint8Array {
    let length = 0
    for (const p of this.parts) length += p.length
    const out = new Uint8Array(length)
    let at = 0
    for (const p of this.parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }
}
type Stored = Uint8Array | Joined

/** Values at least this long are shared between stores when equal (below, a copy is cheaper than the lookup). */
const SHARE_FROM = 4096
/**
 * The stored copy last made of a given source buffer, for every store of the process. Stored copies
 * are never handed out (reads return copies) nor changed, so stores that are given equal bytes in
 * the same buffer — in a simulated world, the commit certificate every node stores
 * (`encodeCommitShared`) — can hold one copy: a byte comparison instead of a new allocation per node.
 */
const storedCopies = new WeakMap<Uint8Array, Uint8Array>()

const storedCopy = (value: Uint8Array): Uint8Array => {
  if (value.length < SHARE_FROM) return value.slice()
  // Bytes their maker sealed are never changed: kept as they are (a copy would be new memory to fault in).
  if (isSealed(value)) return value
  const previous = storedCopies.get(value)
  if (previous !== undefined && previous.length === value.length && Buffer.compare(previous, value) === 0) return previous
  const copy = value.slice()
  storedCopies.set(value, copy)
  return copy
}

export class SimStore {
  /** What survives a crash. */
  readonly #synced = new Map<string, Stored>()
  /** Writes since the last sync; DELETED marks a delete. */
  readonly #unsynced = new Map<string, Stored | typeof DELETED>()

  #stored(key: string): Stored | undefined {
    const v = this.#unsynced.has(key) ? this.#unsynced.get(key) : this.#synced.get(key)
    return v === DELETED ? undefined : v
  }

  /** The value at `key` (a copy), including unsynced writes; undefined if absent. */
  get(key: string): Uint8Array | undefined {
    const v = this.#stored(key)
    return v === undefined ? undefined : v instanceof Joined ? v.bytes() : v.slice()
  }

  /** Whether `key` has a value. */
  has(key: string): boolean {
    return this.#stored(key) !== undefined
  }

  /** Writes `value` (copied) at `key`; durable only after `sync()`. */
  put(key: string, value: Uint8Array): void {
    this.#unsynced.set(key, storedCopy(value))
  }

  /**
   * Writes the concatenation of `parts` at `key`, as `put` of it would; durable only after `sync()`.
   * Sealed parts are kept as they are (the list itself is copied), any other part makes it one copy.
   */
  putParts(key: string, parts: readonly Uint8Array[]): void {
    if (parts.length === 1) return this.put(key, parts[0]!)
    const joined = new Joined([...parts])
    this.#unsynced.set(key, parts.every(isSealed) ? joined : joined.bytes())
  }

  /** Deletes `key`; returns whether it had a value. Durable only after `sync()`. */
  delete(key: string): boolean {
    const had = this.has(key)
    this.#unsynced.set(key, DELETED)
    return had
  }

  /** Keys starting with `prefix` (all keys by default), ascending by UTF-16 code units. */
  keys(prefix = ""): string[] {
    const out = new Set<string>()
    for (const k of this.#synced.keys()) if (k.startsWith(prefix)) out.add(k)
    for (const [k, v] of this.#unsynced) {
      if (!k.startsWith(prefix)) continue
      if (v === DELETED) out.delete(k)
      else out.add(k)
    }
    return [...out].sort()
  }

  /** Makes every write so far durable. */
  sync(): void {
    for (const [k, v] of this.#unsynced) {
      if (v === DELETED) this.#synced.delete(k)
      else this.#synced.set(k, v)
    }
    this.#unsynced.clear()
  }

  /** Simulates a crash: every write since the last sync is lost. */
  crash(): void {
    this.#unsynced.clear()
  }

  /** How many keys have writes that a crash would lose. */
  get unsynced(): number {
    return this.#unsynced.size
  }
}
