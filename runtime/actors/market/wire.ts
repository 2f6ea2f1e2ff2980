/**
 * The market's direct messages, the same in the simulator and on a real node: small UTF-8 JSON
 * objects decoded with Schema at the receiver (unknown fields refused), at most
 * {@link MAX_MARKET_MESSAGE_BYTES}. They carry no value and no rule: each only tells its receiver to
 * look at the ledger (an assignment), or asks a referee for its re-execution's verdict.
 *
 *   requester → provider: assigned { job }        (the ledger assigned it to you: start)
 *   requester → referee:  check { job, nonce }    (re-execute the job's pending notes, tell me)
 *   referee → requester:  verdict { job, nonce, ok }
 *   requester → referee:  resolve { job }         (I disputed the job: give the committee's verdict on the ledger)
 *
 * A dispute's bisection (core/market/bisection.ts), referee → provider about one disputed note:
 *
 *   trace-query { job, note, nonce, level, index }   (the children of node (level, index) of your committed tree)
 *   trace-answer { job, note, nonce, left, right }   (two 32-byte hashes)
 *   trace-none { job, note, nonce }                  (I hold no trace of that note: I lose it at once, as by silence)
 *   layer-query { job, note, nonce, layer }          (the bytes of layer `layer` of your trace: the agreed input)
 *   layer-answer { job, note, nonce, layer, data }   (base64; on TRACE_TOPIC, whose cap is MAX_TRACE_MESSAGE_BYTES)
 */
import { Result, Schema } from "effect"

/** The topic of every market message (direct sends). */
export const MARKET_TOPIC = "market/v1"
/** Largest market message taken off the wire (a few small numbers fit in a tenth of it). */
export const MAX_MARKET_MESSAGE_BYTES = 512

const JobId = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 1) || "a job id (a whole number >= 1)"))
const Nonce = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))

const Assigned = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("assigned"), job: JobId })
const Check = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("check"), job: JobId, nonce: Nonce })
const Verdict = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("verdict"), job: JobId, nonce: Nonce, ok: Schema.Boolean })
const Resolve = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("resolve"), job: JobId })
const Level = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 1 && n <= 11) || "a tree level (1..11)"))
const Index = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0 && n < 2 ** 11) || "a node index (0..2047)"))
const Layer = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0 && n <= 1_023) || "a layer (0..1023)"))
const Hash32 = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-f]{64}$/.test(s) || "0x + 64 lowercase hex"))
const TraceQuery = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("trace-query"), job: JobId, note: JobId, nonce: Nonce, level: Level, index: Index })
const TraceAnswer = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("trace-answer"), job: JobId, note: JobId, nonce: Nonce, left: Hash32, right: Hash32 })
const TraceNone = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("trace-none"), job: JobId, note: JobId, nonce: Nonce })
const LayerQuery = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("layer-query"), job: JobId, note: JobId, nonce: Nonce, layer: Layer })
const MarketMessageSchema = Schema.Union([Assigned, Check, Verdict, Resolve, TraceQuery, TraceAnswer, TraceNone, LayerQuery])

export type MarketMessage = typeof MarketMessageSchema.Type
const decodeMessage = Schema.decodeUnknownResult(MarketMessageSchema)
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** The wire form of a message. */
export const encodeMarketMessage = (m: MarketMessage): Uint8Array => utf8.encode(JSON.stringify(m))

/** A message a peer sent, or why it is refused (oversized, not JSON, not one of the messages). Never throws. */
export const decodeMarketMessage = (bytes: Uint8Array): Result.Result<MarketMessage, string> => {
  if (bytes.length > MAX_MARKET_MESSAGE_BYTES) return Result.fail(`oversized market message: ${bytes.length} bytes (limit ${MAX_MARKET_MESSAGE_BYTES})`)
  let json: unknown
  try {
    json = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return Result.fail("malformed market message: not UTF-8 JSON")
  }
  const r = decodeMessage(json, { onExcessProperty: "error" })
  return Result.isSuccess(r) ? Result.succeed(r.success) : Result.fail(`malformed market message: ${String(r.failure.message).split("\n")[0]}`)
}

/** The topic of a bisection's layer bytes (direct sends, referee ← provider). */
export const TRACE_TOPIC = "market/trace/v1"
/** Largest layer-answer taken off the wire: 1 MiB (base64 of ~780 KB of layer bytes). */
export const MAX_TRACE_MESSAGE_BYTES = 1 << 20
/** Most layer bytes a referee asks for (what fits in MAX_TRACE_MESSAGE_BYTES as base64 with the envelope); a larger agreed input is taken from its own trace. */
export const MAX_LAYER_BYTES = Math.floor(((MAX_TRACE_MESSAGE_BYTES - 256) * 3) / 4)

const Base64 = Schema.String.check(Schema.makeFilter((s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 || "base64"))
const LayerAnswerSchema = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("layer-answer"), job: JobId, note: JobId, nonce: Nonce, layer: Layer, data: Base64 })
const decodeLayer = Schema.decodeUnknownResult(LayerAnswerSchema)

/** A provider's bytes of one layer of a disputed note's trace. */
export interface LayerAnswer {
  readonly job: number
  readonly note: number
  readonly nonce: number
  readonly layer: number
  readonly data: Uint8Array
}

/** The wire form of a layer answer; undefined when it would exceed MAX_TRACE_MESSAGE_BYTES. */
export const encodeLayerAnswer = (a: LayerAnswer): Uint8Array | undefined => {
  const bytes = utf8.encode(JSON.stringify({ v: 1, t: "layer-answer", job: a.job, note: a.note, nonce: a.nonce, layer: a.layer, data: Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString("base64") }))
  return bytes.length > MAX_TRACE_MESSAGE_BYTES ? undefined : bytes
}

/** A layer answer a peer sent, or why it is refused. Never throws. */
export const decodeLayerAnswer = (bytes: Uint8Array): Result.Result<LayerAnswer, string> => {
  if (bytes.length > MAX_TRACE_MESSAGE_BYTES) return Result.fail(`oversized layer answer: ${bytes.length} bytes (limit ${MAX_TRACE_MESSAGE_BYTES})`)
  let json: unknown
  try {
    json = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return Result.fail("malformed layer answer: not UTF-8 JSON")
  }
  const r = decodeLayer(json, { onExcessProperty: "error" })
  if (Result.isFailure(r)) return Result.fail(`malformed layer answer: ${String(r.failure.message).split("\n")[0]}`)
  const { job, note, nonce, layer, data } = r.success
  return Result.succeed({ job, note, nonce, layer, data: new Uint8Array(Buffer.from(data, "base64")) })
}
