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
const MarketMessageSchema = Schema.Union([Assigned, Check, Verdict, Resolve])

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
