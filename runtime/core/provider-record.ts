/**
 * What a provider says about one key it serves (a job kind like `market/infer:mnist`, later a range
 * of model blocks like `lm/blocks/0-1`): its price per unit of work, how many jobs it takes at once
 * and how many it has open now. The Network port adds who (the peer id, from the authenticated
 * connection) and where (its addresses); the record itself is small and decoded at the boundary.
 *
 * Wire form: UTF-8 JSON `{"v":1,"pricePerUnit":"<decimal>","capacity":n,"queue":n}`, at most
 * {@link MAX_PROVIDER_RECORD_BYTES}. A record that is oversized or does not decode is refused with a
 * reason and counts as a fault of the peer that served it (runtime/core/peer-faults.ts).
 */
import { Result, Schema, SchemaIssue } from "effect"

/** A provider's offer under one key. */
export interface ProviderRecord {
  /** Price per unit of work, in token base units. */
  readonly pricePerUnit: bigint
  /** Jobs it runs at once (the market's `capacity`, ≥ 1). */
  readonly capacity: number
  /** Jobs open at the provider now (running and waiting, ≥ 0). */
  readonly queue: number
}

/** Largest record on the wire: a few numbers fit in a tenth of it; more is a peer wasting our time. */
export const MAX_PROVIDER_RECORD_BYTES = 256
/** Longest key, in UTF-8 bytes. */
export const MAX_PROVIDER_KEY_BYTES = 128
/** Largest capacity and queue a record may claim (beyond any real machine; keeps scores finite). */
export const MAX_PROVIDER_JOBS = 1_000_000

const Jobs = (min: number) =>
  Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= min && n <= MAX_PROVIDER_JOBS) || `a whole number from ${min} to ${MAX_PROVIDER_JOBS}`))
// At most 78 digits: any uint256, the contract's range.
const Price = Schema.String.check(Schema.makeFilter((s) => /^(0|[1-9][0-9]{0,77})$/.test(s) || "a decimal whole number of at most 78 digits"))
const Wire = Schema.Struct({ v: Schema.Literal(1), pricePerUnit: Price, capacity: Jobs(1), queue: Jobs(0) })
const decodeWire = Schema.decodeUnknownResult(Wire)
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** What is wrong with `record` (undefined: nothing). */
export function providerRecordProblem(record: ProviderRecord): string | undefined {
  if (typeof record.pricePerUnit !== "bigint" || record.pricePerUnit < 0n || record.pricePerUnit >= 2n ** 256n) return `pricePerUnit must be a bigint in [0, 2^256), got ${String(record.pricePerUnit)}`
  if (!(Number.isSafeInteger(record.capacity) && record.capacity >= 1 && record.capacity <= MAX_PROVIDER_JOBS)) return `capacity must be a whole number from 1 to ${MAX_PROVIDER_JOBS}, got ${record.capacity}`
  if (!(Number.isSafeInteger(record.queue) && record.queue >= 0 && record.queue <= MAX_PROVIDER_JOBS)) return `queue must be a whole number from 0 to ${MAX_PROVIDER_JOBS}, got ${record.queue}`
  return undefined
}

/** What is wrong with a provider key (undefined: nothing): 1..128 UTF-8 bytes, no control characters. */
export function providerKeyProblem(key: string): string | undefined {
  const n = utf8.encode(key).length
  if (n === 0 || n > MAX_PROVIDER_KEY_BYTES) return `a provider key must be 1..${MAX_PROVIDER_KEY_BYTES} UTF-8 bytes, got ${n}`
  if (/[\u0000-\u001f\u007f]/.test(key)) return `a provider key must not contain control characters, got ${JSON.stringify(key)}`
  return undefined
}

/** The wire form of a record. Throws a RangeError on an invalid record (a local bug, not peer input). */
export function encodeProviderRecord(record: ProviderRecord): Uint8Array {
  const problem = providerRecordProblem(record)
  if (problem !== undefined) throw new RangeError(`provider record: ${problem}`)
  return utf8.encode(JSON.stringify({ v: 1, pricePerUnit: record.pricePerUnit.toString(), capacity: record.capacity, queue: record.queue }))
}

/** Reads a record a peer served; the failure says what was wrong (oversized, not UTF-8 JSON, which field). Never throws. */
export function decodeProviderRecord(bytes: Uint8Array): Result.Result<ProviderRecord, string> {
  if (bytes.length > MAX_PROVIDER_RECORD_BYTES) return Result.fail(`oversized: ${bytes.length} bytes (limit ${MAX_PROVIDER_RECORD_BYTES})`)
  let json: unknown
  try {
    json = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return Result.fail("malformed: not UTF-8 JSON")
  }
  const r = decodeWire(json, { onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed({ pricePerUnit: BigInt(r.success.pricePerUnit), capacity: r.success.capacity, queue: r.success.queue })
  const issue = formatter(r.failure.issue).issues[0]
  const path = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  return Result.fail(`malformed: ${path === "" ? "record" : path}: ${issue?.message ?? "invalid"}`)
}
