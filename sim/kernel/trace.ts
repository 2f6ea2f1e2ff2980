/**
 * The simulator's trace recorder: one canonical line per delivered event (the format is the trace
 * port, runtime/services/trace.ts), and a hash over all of them.
 *
 * Hash: SHA-256 over every line followed by "\n" — i.e. `hash()` equals `sha256sum` of the trace
 * file the sink writes. Before any event it is the SHA-256 of the empty string.
 */
import { createHash, type Hash } from "node:crypto"
import { canonicalJson, traceLine, type TraceEvent, type TraceValue } from "../../runtime/services/trace.ts"

/** A field's rows and their canonical text, as last written. */
interface WrittenRows {
  readonly rows: readonly Readonly<Record<string, TraceValue | undefined>>[]
  readonly text: string
  /** `text` as UTF-8, hashed as it is (each line of a 100-validator table is ≈ 15 kB, and every node writes one per block). */
  readonly bytes: Buffer
  /**
   * The caller's array itself when it and every row were frozen: the same array again is the same
   * rows without comparing them (nodes in the same state share one frozen table: block-report.ts).
   */
  readonly source: readonly unknown[] | undefined
}

/** Whether `row` is a plain object of strings, numbers, booleans and bigints only (what the row memo compares with ===). */
const flat = (row: unknown): row is Record<string, TraceValue | undefined> => {
  if (row === null || typeof row !== "object" || Object.getPrototypeOf(row) !== Object.prototype) return false
  for (const k in row) {
    const v = (row as Record<string, unknown>)[k]
    if (v !== null && typeof v === "object") return false
  }
  return true
}

/** Whether two flat rows have the same keys with identical values. */
const sameRow = (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean => {
  let n = 0
  for (const k in a) {
    if (a[k] !== b[k] || !(k in b)) return false
    n++
  }
  for (const _ in b) n--
  return n === 0
}

export class Trace {
  #hash: Hash = createHash("sha256")
  #count = 0
  #lastT = 0
  readonly #sink: ((line: string) => void) | undefined

  /** A trace; `sink`, if given, receives each line (without "\n") as it is recorded. */
  constructor(sink?: (line: string) => void) {
    this.#sink = sink
  }

  /** How many events were recorded. */
  get count(): number {
    return this.#count
  }

  /** Canonical text of the last rows written, by `kind` and field (see `record`'s `repeated`). */
  readonly #rows = new Map<string, WrittenRows>()

  /**
   * Records one event; `t` must not go back in time. Returns the line written.
   *
   * `repeated` names the event's one field besides `t`, `kind` and `node` when it is an array of
   * flat rows that many events repeat (every node's validator table each block): its canonical text
   * is reused when the rows equal, row for row, the last ones written under the same kind and field,
   * instead of being written again. The line is the same either way.
   */
  record(event: TraceEvent, repeated?: string): string {
    if (event.t < this.#lastT) {
      throw new TypeError(`trace: event.t is ${event.t}, before the previous event's ${this.#lastT}; a trace only moves forward`)
    }
    let line: string
    const parts = repeated === undefined ? undefined : this.#lineWithRows(event, repeated)
    if (parts === undefined) {
      line = traceLine(event)
      this.#hash.update(line + "\n")
    } else {
      // The same bytes as hashing `line + "\n"`, without flattening and encoding the table's text again.
      line = parts.head + parts.rows.text + "}"
      this.#hash.update(parts.head)
      this.#hash.update(parts.rows.bytes)
      this.#hash.update("}\n")
    }
    this.#lastT = event.t
    this.#count++
    this.#sink?.(line)
    return line
  }

  /** The line of an event with one repeated field of flat rows, in two parts (undefined: not such an event). */
  #lineWithRows(event: TraceEvent, key: string): { readonly head: string; readonly rows: WrittenRows } | undefined {
    const rows = event[key]
    const { t, kind, node, [key]: _, ...rest } = event
    if (!Array.isArray(rows) || key === "t" || key === "kind" || key === "node" || Object.keys(rest).length > 0) return undefined
    const memo = `${kind}\u0000${key}`
    let last = this.#rows.get(memo)
    if (last !== undefined && last.source === rows) return { head: this.#head(t, kind, node, key), rows: last }
    if (!rows.every(flat)) return undefined
    if (last === undefined || last.rows.length !== rows.length || !rows.every((r, i) => sameRow(r, last!.rows[i]!))) {
      const text = canonicalJson(rows)
      // A copy: the caller may change its rows later.
      last = { rows: rows.map((r) => ({ ...r })), text, bytes: Buffer.from(text, "utf8"), source: undefined }
    }
    last = { ...last, source: Object.isFrozen(rows) && rows.every((r) => Object.isFrozen(r)) ? rows : undefined }
    this.#rows.set(memo, last)
    return { head: this.#head(t, kind, node, key), rows: last }
  }

  /** The start of an event's canonical line up to its rows: t, kind, node first, then the one other key. */
  #head(t: number, kind: string, node: string | undefined, key: string): string {
    const head = traceLine(node === undefined ? { t, kind } : { t, kind, node })
    return `${head.slice(0, -1)},${JSON.stringify(key)}:`
  }

  /** Hex SHA-256 of every line so far, each followed by "\n" (= sha256sum of the trace file). */
  hash(): string {
    return this.#hash.copy().digest("hex")
  }
}
