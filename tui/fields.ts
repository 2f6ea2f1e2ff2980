/**
 * Tolerant readers for telemetry `data` fields. Events come from other processes, other versions
 * and hand-written traces: a field of the wrong type reads as `undefined`, never throws.
 */

type Data = Readonly<Record<string, unknown>>

/** A finite number (numbers only; a numeric string or bigint that fits is accepted too). */
export const num = (data: Data, key: string): number | undefined => {
  const v = data[key]
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v)
  return undefined
}

/** A non-negative integer (heights, rounds, counts). */
export const count = (data: Data, key: string): number | undefined => {
  const n = num(data, key)
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** A string, or a number/bigint written as one (ids, addresses). */
export const str = (data: Data, key: string): string | undefined => {
  const v = data[key]
  if (typeof v === "string") return v
  if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "bigint") return String(v)
  return undefined
}

export const bool = (data: Data, key: string): boolean | undefined => {
  const v = data[key]
  return typeof v === "boolean" ? v : undefined
}

const INTEGER = /^-?\d+$/

/** A token amount in base units: a bigint, a decimal integer string, or a safe integer number. */
export const amount = (data: Data, key: string): bigint | undefined => {
  const v = data[key]
  if (typeof v === "bigint") return v
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : undefined
  if (typeof v === "string" && INTEGER.test(v)) return BigInt(v)
  return undefined
}

/** The first of `keys` that reads as an amount (for aliases such as `forVotes` / `for`). */
export const firstAmount = (data: Data, ...keys: string[]): bigint | undefined => {
  for (const k of keys) {
    const a = amount(data, k)
    if (a !== undefined) return a
  }
  return undefined
}

/** A plain object field (`validators[i]`), else undefined. */
export const record = (v: unknown): Data | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Data) : undefined

/** An array field, else undefined. */
export const list = (data: Data, key: string): readonly unknown[] | undefined => {
  const v = data[key]
  return Array.isArray(v) ? v : undefined
}

/** `k=v` text of every field, short enough for one log line (hashes abbreviated). */
export const describe = (data: Data, limit = 160): string => {
  let out = ""
  for (const [k, v] of Object.entries(data)) {
    const piece = `${out === "" ? "" : " "}${k}=${show(v, 0)}`
    if (out.length + piece.length > limit) return `${out} …`
    out += piece
  }
  return out
}

const show = (v: unknown, depth: number): string => {
  if (typeof v === "bigint") return v.toString()
  if (typeof v === "string") return v.length > 18 && v.startsWith("0x") ? `${v.slice(0, 10)}…` : v
  if (v instanceof Uint8Array) return `${v.length}B`
  if (depth > 2) return "…"
  if (Array.isArray(v)) return `[${v.slice(0, 8).map((x) => show(x, depth + 1)).join(",")}${v.length > 8 ? ",…" : ""}]`
  if (v !== null && typeof v === "object") return `{${Object.entries(v).slice(0, 8).map(([k, x]) => `${k}:${show(x, depth + 1)}`).join(" ")}}`
  return String(v)
}
