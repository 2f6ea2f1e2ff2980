/**
 * The trace of a run: one canonical JSON line per delivered event, and a hash over all of them.
 *
 * Canonical form (what makes "same seed, same trace, bit for bit" checkable):
 * - an event is a plain object `{ t, kind, node?, ...payload }`; `t`, `kind` and `node` come first
 *   in that order, every other key (at every depth) follows in ascending UTF-16 code-unit order;
 * - `bigint` is written `{"$bigint":"-123"}` and `Uint8Array` `{"$bytes":"00ff"}` (lowercase hex), so
 *   a line parses back to exactly the values recorded; object keys starting with `$` are reserved;
 * - numbers must be finite (-0 is written 0); an `undefined` property is omitted;
 * - anything else (undefined in an array, Map, Date, Float32Array, class instances, functions) is
 *   rejected with a TypeError naming its path, rather than silently written lossily.
 *
 * This is the trace's format, a port shared by the simulator (which writes traces: sim/kernel/trace.ts)
 * and the TUI (which replays them); neither depends on the other.
 */

export type TraceValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | readonly TraceValue[]
  | { readonly [key: string]: TraceValue | undefined }

/** One traced event: virtual time `t` (ms), a `kind` such as `net.deliver`, the node it concerns. */
export interface TraceEvent {
  readonly t: number
  readonly kind: string
  readonly node?: string
  readonly [key: string]: TraceValue | undefined
}

const FIRST_KEYS = ["t", "kind", "node"]

/** Where the writer is, as a stack of keys and indices; joined into text only for an error. */
type Path = Array<string | number>

function fail(path: Path | string, what: string): never {
  const where = typeof path === "string" ? path : path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").slice(1)
  throw new TypeError(`trace: ${where} ${what}`)
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")

/** JSON string literal; the fast path skips JSON.stringify when nothing needs escaping. */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // control characters, `"`, `\` and surrogates (JSON.stringify escapes lone ones) take the slow path
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return `"${s}"`
}

function writeValue(v: unknown, path: Path): string {
  switch (typeof v) {
    case "string":
      return quote(v)
    case "boolean":
      return v ? "true" : "false"
    case "number":
      if (!Number.isFinite(v)) fail(path, `is ${v}; only finite numbers can be traced`)
      return v === 0 ? "0" : String(v)
    case "bigint":
      return `{"$bigint":"${v}"}`
    case "object": {
      if (v === null) return "null"
      if (v instanceof Uint8Array) return `{"$bytes":"${hex(v)}"}`
      if (!Array.isArray(v)) return writeObject(v, path)
      let out = "["
      for (let i = 0; i < v.length; i++) {
        path.push(i)
        if (v[i] === undefined) fail(path, "is undefined")
        out += (i === 0 ? "" : ",") + writeValue(v[i], path)
        path.pop()
      }
      return out + "]"
    }
    default:
      return fail(path, `is a ${typeof v}, which cannot be traced`)
  }
}

const NONE: readonly string[] = []

/** Writes a plain object: the `first` keys (when present) in that order, then the rest sorted. */
function writeObject(o: object, path: Path, first: readonly string[] = NONE): string {
  const proto = Object.getPrototypeOf(o)
  if (proto !== Object.prototype && proto !== null) {
    fail(path, `is a ${proto?.constructor?.name ?? "non-plain object"}; use a plain object, array or Uint8Array`)
  }
  const rec = o as Record<string, unknown>
  let out = ""
  for (const k of first) out = writeEntry(out, rec, k, path)
  for (const k of Object.keys(rec).sort()) if (!first.includes(k)) out = writeEntry(out, rec, k, path)
  return `{${out}}`
}

/** Appends `"k":value` to the entries written so far (undefined values are left out). */
function writeEntry(out: string, rec: Record<string, unknown>, k: string, path: Path): string {
  const x = rec[k]
  if (x === undefined) return out
  path.push(k)
  if (k.startsWith("$")) fail(path, "is a reserved key (keys starting with $ tag bigint and bytes)")
  out = `${out === "" ? "" : `${out},`}${quote(k)}:${writeValue(x, path)}`
  path.pop()
  return out
}

/** The canonical JSON text of any traceable value (sorted keys, tagged bigint and bytes). */
export function canonicalJson(value: TraceValue): string {
  return writeValue(value, ["value"])
}

/** The canonical line of one event (without the trailing newline). Validates `t`, `kind`, `node`. */
export function traceLine(event: TraceEvent): string {
  if (event === null || typeof event !== "object") fail("event", "must be an object")
  if (!Number.isSafeInteger(event.t) || event.t < 0) fail("event.t", `must be a non-negative integer (virtual ms), got ${String(event.t)}`)
  if (typeof event.kind !== "string" || event.kind === "") fail("event.kind", "must be a non-empty string")
  if (event.node !== undefined && typeof event.node !== "string") fail("event.node", "must be a string when present")
  return writeObject(event, ["event"], FIRST_KEYS)
}

// Turns the tagged forms back into bigint and Uint8Array while parsing.
function revive(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v
  const keys = Object.keys(v)
  if (keys.length !== 1) return v
  const o = v as Record<string, unknown>
  if (typeof o.$bigint === "string" && /^-?\d+$/.test(o.$bigint)) return BigInt(o.$bigint)
  if (typeof o.$bytes === "string" && /^(?:[0-9a-f]{2})*$/.test(o.$bytes)) return new Uint8Array(Buffer.from(o.$bytes, "hex"))
  return v
}

/** Parses one trace line back into its event (bigint and bytes restored). `where` names it in errors. */
export function parseTraceLine(line: string, where = "trace line"): TraceEvent {
  let value: unknown
  try {
    value = JSON.parse(line, revive)
  } catch (e) {
    throw new SyntaxError(`${where}: not valid JSON (${(e as Error).message})`)
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SyntaxError(`${where}: expected a JSON object`)
  }
  const ev = value as Record<string, unknown>
  if (!Number.isSafeInteger(ev.t) || (ev.t as number) < 0) throw new SyntaxError(`${where}: "t" must be a non-negative integer`)
  if (typeof ev.kind !== "string" || ev.kind === "") throw new SyntaxError(`${where}: "kind" must be a non-empty string`)
  return ev as TraceEvent
}

/** Parses a whole trace file (one event per line; a final newline is optional). */
export function parseTrace(text: string, file = "trace"): TraceEvent[] {
  const lines = text.split("\n")
  if (lines.at(-1) === "") lines.pop()
  return lines.map((line, i) => parseTraceLine(line, `${file}:${i + 1}`))
}
