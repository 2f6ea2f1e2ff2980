/**
 * The wire format of pipeline inference (issue 14, item 2): what a client and the stage servers of
 * the language model send each other as direct messages.
 *
 *   client → server (LM_SERVER_TOPIC): open { session, from, to, job? } start a session over blocks from..to (paid by market job `job`)
 *                                      forward { session, seq, start, length, dim, input } + payload
 *                                      close { session }
 *   server → client (LM_CLIENT_TOPIC): opened { session }
 *                                      result { session, seq, start, length, dim, output, trace? } + payload (trace: a paid stage's middle leaves, core/lm/trace.ts)
 *                                      error { session, seq?, message }
 *
 * A message is a 2-byte big-endian header length, a UTF-8 JSON header decoded with Schema (unknown
 * fields refused), then a little-endian payload: `input: "tokens"` is `length` int32 token ids (dim 1),
 * `"activations"` and the results are `length × dim` float32 (all finite), a last stage's
 * `output: "logits"` the last position's logits (length 1, dim = vocabulary). Floats travel as raw
 * bytes because JSON would triple their size and round them; the header stays JSON so the decoder can
 * say which field was wrong. The whole message is at most {@link MAX_LM_MESSAGE_BYTES}, checked
 * before anything is parsed; the payload must be exactly as long as the header says.
 */
import { Result, Schema, SchemaIssue } from "effect"

/** Requests to a stage server (direct sends). */
export const LM_SERVER_TOPIC = "lm/stage/v1"
/** Replies to a client (direct sends). */
export const LM_CLIENT_TOPIC = "lm/client/v1"
/** Largest header, in bytes (a few small fields and an error message). */
export const MAX_LM_HEADER_BYTES = 1024
/** Largest payload: a full context of 1024 positions × 256 floats, far above the committed model's 64 × 64. */
export const MAX_LM_PAYLOAD_BYTES = 1024 * 1024
/** Largest message taken off the wire. */
export const MAX_LM_MESSAGE_BYTES = 2 + MAX_LM_HEADER_BYTES + MAX_LM_PAYLOAD_BYTES
/** Longest error message a server sends (longer ones are cut). */
export const MAX_LM_ERROR_CHARS = 400

/** Most middle leaves a result carries (a stage of at most this + 1 blocks can be verified block by block; the header's size bounds it). */
export const MAX_RESULT_TRACE = 11

/** The DHT key under which a server of blocks from..to announces itself. */
export const lmBlocksKey = (from: number, to: number): string => `lm/blocks/${from}-${to}`

const Whole = (min: number, max: number) =>
  Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= min && n <= max) || `a whole number from ${min} to ${max}`))
const SessionId = Schema.String.check(Schema.makeFilter((s) => /^[0-9a-f]{8,64}$/.test(s) || "8 to 64 lowercase hex digits"))
const Block = Whole(0, 1023)
const Position = Whole(0, 1 << 20)
const Count = Whole(1, MAX_LM_PAYLOAD_BYTES / 4)
const Seq = Whole(0, Number.MAX_SAFE_INTEGER)

// `job`: the market job that pays this session (a paid stage server opens none without one).
const Open = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("open"), session: SessionId, from: Block, to: Block, job: Schema.optionalKey(Whole(1, Number.MAX_SAFE_INTEGER)) })
const Forward = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("forward"), session: SessionId, seq: Seq, start: Position, length: Count, dim: Count, input: Schema.Literals(["tokens", "activations"]) })
const Close = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("close"), session: SessionId })
const Opened = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("opened"), session: SessionId })
// `trace`: a paid stage's middle leaves of its session's trace so far (core/lm/trace.ts), so the client can check a note's word binds what it sent and received.
const TraceLeaves = Schema.Array(Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-f]{64}$/.test(s) || "0x + 64 lowercase hex"))).check(Schema.makeFilter((a) => a.length <= MAX_RESULT_TRACE || `at most ${MAX_RESULT_TRACE} leaves`))
const ResultHeader = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("result"), session: SessionId, seq: Seq, start: Position, length: Count, dim: Count, output: Schema.Literals(["activations", "logits"]), trace: Schema.optionalKey(TraceLeaves) })
const ErrorHeader = Schema.Struct({ v: Schema.Literal(1), t: Schema.Literal("error"), session: SessionId, seq: Schema.optionalKey(Seq), message: Schema.String.check(Schema.makeFilter((s) => s.length <= MAX_LM_ERROR_CHARS || `at most ${MAX_LM_ERROR_CHARS} characters`)) })

const ServerHeader = Schema.Union([Open, Forward, Close])
const ClientHeader = Schema.Union([Opened, ResultHeader, ErrorHeader])
type ServerHeader = typeof ServerHeader.Type
type ClientHeader = typeof ClientHeader.Type

/** A request to a stage server. */
export type ServerMessage =
  | Extract<ServerHeader, { t: "open" }>
  | Extract<ServerHeader, { t: "close" }>
  | (Extract<ServerHeader, { t: "forward" }> & { readonly data: Int32Array | Float32Array })
/** A reply to a client. */
export type ClientMessage =
  | Extract<ClientHeader, { t: "opened" }>
  | Extract<ClientHeader, { t: "error" }>
  | (Extract<ClientHeader, { t: "result" }> & { readonly data: Float32Array })

/** A forward request without the version tag (what a caller builds). */
export type ForwardRequest = Omit<Extract<ServerMessage, { t: "forward" }>, "v" | "t">
/** A result without the version tag. */
export type ForwardResult = Omit<Extract<ClientMessage, { t: "result" }>, "v" | "t">

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const decodeServerHeader = Schema.decodeUnknownResult(ServerHeader)
const decodeClientHeader = Schema.decodeUnknownResult(ClientHeader)

const frame = (header: object, payload?: Int32Array | Float32Array): Uint8Array => {
  const h = utf8.encode(JSON.stringify(header))
  if (h.length > MAX_LM_HEADER_BYTES) throw new RangeError(`lm message header of ${h.length} bytes (limit ${MAX_LM_HEADER_BYTES})`)
  const bytes = payload === undefined ? 0 : payload.length * 4
  if (bytes > MAX_LM_PAYLOAD_BYTES) throw new RangeError(`lm message payload of ${bytes} bytes (limit ${MAX_LM_PAYLOAD_BYTES})`)
  const out = new Uint8Array(2 + h.length + bytes)
  const view = new DataView(out.buffer)
  view.setUint16(0, h.length)
  out.set(h, 2)
  if (payload !== undefined) {
    const isInt = payload instanceof Int32Array
    for (let i = 0; i < payload.length; i++) {
      if (isInt) view.setInt32(2 + h.length + 4 * i, payload[i]!, true)
      else view.setFloat32(2 + h.length + 4 * i, payload[i]!, true)
    }
  }
  return out
}

/** The wire form of a request to a server. Throws a RangeError on a message too big for the wire (a local bug). */
export const encodeServerMessage = (m: ServerMessage): Uint8Array => {
  if (m.t !== "forward") return frame(m)
  const { data, ...header } = m
  if (data.length !== m.length * m.dim) throw new RangeError(`forward: ${data.length} values for ${m.length} × ${m.dim}`)
  return frame(header, data)
}

/** The wire form of a reply to a client. Throws a RangeError on a message too big for the wire (a local bug). */
export const encodeClientMessage = (m: ClientMessage): Uint8Array => {
  if (m.t === "error") return frame({ ...m, message: m.message.slice(0, MAX_LM_ERROR_CHARS) })
  if (m.t !== "result") return frame(m)
  const { data, ...header } = m
  if (data.length !== m.length * m.dim) throw new RangeError(`result: ${data.length} values for ${m.length} × ${m.dim}`)
  return frame(header, data)
}

/** Splits a message into its header (as JSON) and payload bytes, or says why it cannot. */
const split = (bytes: Uint8Array): Result.Result<{ readonly json: unknown; readonly payload: Uint8Array }, string> => {
  if (bytes.length > MAX_LM_MESSAGE_BYTES) return Result.fail(`oversized: ${bytes.length} bytes (limit ${MAX_LM_MESSAGE_BYTES})`)
  if (bytes.length < 2) return Result.fail("truncated: no header length")
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(0)
  if (n > MAX_LM_HEADER_BYTES) return Result.fail(`header of ${n} bytes (limit ${MAX_LM_HEADER_BYTES})`)
  if (2 + n > bytes.length) return Result.fail(`truncated: header of ${n} bytes in a message of ${bytes.length}`)
  try {
    return Result.succeed({ json: JSON.parse(strictUtf8.decode(bytes.subarray(2, 2 + n))), payload: bytes.subarray(2 + n) })
  } catch {
    return Result.fail("header is not UTF-8 JSON")
  }
}

const issueText = (failure: { readonly issue: SchemaIssue.Issue }): string => {
  const issue = formatter(failure.issue).issues[0]
  const path = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  return `${path === "" ? "header" : path}: ${issue?.message ?? "invalid"}`
}

/** The payload as `count` values of `kind`, or why not (wrong length, a non-finite float, a token out of range). */
const values = (payload: Uint8Array, count: number, kind: "int32" | "float32", vocab?: number): Result.Result<Int32Array | Float32Array, string> => {
  if (payload.length !== 4 * count) return Result.fail(`payload of ${payload.length} bytes, expected ${4 * count} (${count} ${kind} values)`)
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  if (kind === "int32") {
    const out = new Int32Array(count)
    for (let i = 0; i < count; i++) {
      const t = view.getInt32(4 * i, true)
      if (t < 0 || (vocab !== undefined && t >= vocab)) return Result.fail(`token ${t} at ${i} is out of range`)
      out[i] = t
    }
    return Result.succeed(out)
  }
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) {
    const x = view.getFloat32(4 * i, true)
    if (!Number.isFinite(x)) return Result.fail(`value ${x} at ${i} is not finite`)
    out[i] = x
  }
  return Result.succeed(out)
}

/** Reads a request a client sent; the failure says what was wrong. Never throws. */
export const decodeServerMessage = (bytes: Uint8Array): Result.Result<ServerMessage, string> => {
  const parts = split(bytes)
  if (Result.isFailure(parts)) return Result.fail(`malformed lm request: ${parts.failure}`)
  const r = decodeServerHeader(parts.success.json, { onExcessProperty: "error" })
  if (Result.isFailure(r)) return Result.fail(`malformed lm request: ${issueText(r.failure)}`)
  const h = r.success
  if (h.t !== "forward") {
    if (parts.success.payload.length > 0) return Result.fail(`malformed lm request: ${h.t} carries no payload, got ${parts.success.payload.length} bytes`)
    if (h.t === "open" && h.to < h.from) return Result.fail(`malformed lm request: block range ${h.from}-${h.to} is empty`)
    return Result.succeed(h)
  }
  if (h.input === "tokens" && h.dim !== 1) return Result.fail(`malformed lm request: tokens have dim 1, got ${h.dim}`)
  const data = values(parts.success.payload, h.length * h.dim, h.input === "tokens" ? "int32" : "float32")
  return Result.isFailure(data) ? Result.fail(`malformed lm request: ${data.failure}`) : Result.succeed({ ...h, data: data.success })
}

/** Reads a reply a server sent; the failure says what was wrong. Never throws. */
export const decodeClientMessage = (bytes: Uint8Array): Result.Result<ClientMessage, string> => {
  const parts = split(bytes)
  if (Result.isFailure(parts)) return Result.fail(`malformed lm reply: ${parts.failure}`)
  const r = decodeClientHeader(parts.success.json, { onExcessProperty: "error" })
  if (Result.isFailure(r)) return Result.fail(`malformed lm reply: ${issueText(r.failure)}`)
  const h = r.success
  if (h.t !== "result") {
    if (parts.success.payload.length > 0) return Result.fail(`malformed lm reply: ${h.t} carries no payload, got ${parts.success.payload.length} bytes`)
    return Result.succeed(h)
  }
  const data = values(parts.success.payload, h.length * h.dim, "float32")
  return Result.isFailure(data) ? Result.fail(`malformed lm reply: ${data.failure}`) : Result.succeed({ ...h, data: data.success as Float32Array })
}

// ---------------------------------------------------------------------------------------------------
// Verification (issue 14, item 6): what a paid stage's debit note commits to, and the evidence a
// client gives a referee to have one note re-executed (docs/lm.md, "Verification").
//
// A note's result word commits to the layer trace of its session up to the note's last forward
// (core/lm/trace.ts): the inputs, every block's outputs, the outputs returned. The client sends a
// referee the session's inputs and the trace's leaves it checked.
// ---------------------------------------------------------------------------------------------------

/** One forward's input as recorded and sent to a referee (tokens at the first stage, else activations). */
export interface LmInput {
  readonly start: number
  readonly length: number
  readonly dim: number
  readonly input: "tokens" | "activations"
  readonly data: Int32Array | Float32Array
}

/** Little-endian bytes of int32 or float32 values (the wire's payload encoding). */
const leBytes = (data: Int32Array | Float32Array): Uint8Array => {
  const out = new Uint8Array(data.length * 4)
  const view = new DataView(out.buffer)
  const isInt = data instanceof Int32Array
  for (let i = 0; i < data.length; i++) {
    if (isInt) view.setInt32(4 * i, data[i]!, true)
    else view.setFloat32(4 * i, data[i]!, true)
  }
  return out
}

/** Evidence for one note, client → referee (direct sends). */
export const LM_VERIFY_TOPIC = "lm/verify/v1"
/** A referee's answer, referee → client (direct sends). */
export const LM_VERIFIED_TOPIC = "lm/verified/v1"
/** Largest verify header (one [start, length] pair per input). */
export const MAX_LM_VERIFY_HEADER_BYTES = 32 * 1024
/** Largest verify message taken off the wire. */
export const MAX_LM_VERIFY_BYTES = 2 + MAX_LM_VERIFY_HEADER_BYTES + MAX_LM_PAYLOAD_BYTES

const Hash = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-f]{64}$/.test(s) || "0x + 64 lowercase hex"))
const JobId = Whole(1, Number.MAX_SAFE_INTEGER)
const VerifyHeader = Schema.Struct({
  v: Schema.Literal(1), t: Schema.Literal("verify"), nonce: Seq, job: JobId, note: JobId, from: Block, to: Block,
  // Inputs [0, first) rebuild the session's cache; [first, end) are the note's forwards.
  first: Whole(0, 4096), input: Schema.Literals(["tokens", "activations"]), dim: Count,
  shapes: Schema.Array(Schema.Tuple([Position, Count])).check(Schema.makeFilter((a) => (a.length >= 1 && a.length <= 4096) || "1 to 4096 inputs")),
  // The leaves of the note's trace (core/lm/trace.ts), L + 1 of them: leaf 0 the inputs', the last the outputs' the client received, the middle ones as the server sent them.
  leaves: Schema.Array(Hash).check(Schema.makeFilter((a) => (a.length >= 2 && a.length <= 1024) || "2 to 1024 leaves")),
  // Kept for a verdict, not re-executed now: the referee checks the evidence binds to the note, keeps it, answers `kept`, and re-executes it only if it must judge the note whole (a fraud proof needs none of it).
  defer: Schema.optionalKey(Schema.Literal(true)),
})
const VerifiedMessage = Schema.Struct({
  v: Schema.Literal(1), t: Schema.Literal("verified"), nonce: Seq, job: JobId, note: JobId,
  // right: the re-execution reproduced the note; wrong: it did not; unbound: the evidence is not what the note commits to; kept: bound, kept for a verdict (`defer`).
  outcome: Schema.Literals(["right", "wrong", "unbound", "unable", "kept"]),
  reason: Schema.optionalKey(Schema.String.check(Schema.makeFilter((s) => s.length <= MAX_LM_ERROR_CHARS || `at most ${MAX_LM_ERROR_CHARS} characters`))),
})

/** The evidence for one note: every input of its session up to the note's end, and the leaves of the note's trace as the client checked them. */
export type VerifyRequest = Omit<typeof VerifyHeader.Type, "shapes"> & { readonly inputs: readonly LmInput[] }
/** A referee's answer about one note. */
export type VerifiedReply = typeof VerifiedMessage.Type
const decodeVerifyHeader = Schema.decodeUnknownResult(VerifyHeader)
const decodeVerified = Schema.decodeUnknownResult(VerifiedMessage)

/** The wire form of a verify request (a header of shapes, then every input's values). Throws a RangeError when too big (a local bug). */
export const encodeVerifyRequest = (m: VerifyRequest): Uint8Array => {
  const { inputs, ...rest } = m
  const h = utf8.encode(JSON.stringify({ ...rest, shapes: inputs.map((x) => [x.start, x.length]) }))
  if (h.length > MAX_LM_VERIFY_HEADER_BYTES) throw new RangeError(`lm verify header of ${h.length} bytes (limit ${MAX_LM_VERIFY_HEADER_BYTES})`)
  const values = inputs.map((x) => {
    if (x.input !== m.input || x.dim !== m.dim || x.data.length !== x.length * x.dim) throw new RangeError("lm verify: inputs of another kind or shape than the header's")
    return leBytes(x.data)
  })
  const bytes = values.reduce((n, v) => n + v.length, 0)
  if (bytes > MAX_LM_PAYLOAD_BYTES) throw new RangeError(`lm verify payload of ${bytes} bytes (limit ${MAX_LM_PAYLOAD_BYTES})`)
  const out = new Uint8Array(2 + h.length + bytes)
  new DataView(out.buffer).setUint16(0, h.length)
  out.set(h, 2)
  let at = 2 + h.length
  for (const v of values) {
    out.set(v, at)
    at += v.length
  }
  return out
}

/** Reads a verify request; the failure says what was wrong. Never throws. */
export const decodeVerifyRequest = (bytes: Uint8Array): Result.Result<VerifyRequest, string> => {
  if (bytes.length > MAX_LM_VERIFY_BYTES) return Result.fail(`malformed lm verify: oversized: ${bytes.length} bytes (limit ${MAX_LM_VERIFY_BYTES})`)
  if (bytes.length < 2) return Result.fail("malformed lm verify: truncated: no header length")
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(0)
  if (2 + n > bytes.length) return Result.fail(`malformed lm verify: truncated: header of ${n} bytes in a message of ${bytes.length}`)
  let json: unknown
  try {
    json = JSON.parse(strictUtf8.decode(bytes.subarray(2, 2 + n)))
  } catch {
    return Result.fail("malformed lm verify: header is not UTF-8 JSON")
  }
  const r = decodeVerifyHeader(json, { onExcessProperty: "error" })
  if (Result.isFailure(r)) return Result.fail(`malformed lm verify: ${issueText(r.failure)}`)
  const { shapes, ...h } = r.success
  if (h.to < h.from) return Result.fail(`malformed lm verify: block range ${h.from}-${h.to} is empty`)
  if (h.first >= shapes.length) return Result.fail(`malformed lm verify: the note's first input ${h.first} is past the ${shapes.length} inputs`)
  if (h.input === "tokens" && h.dim !== 1) return Result.fail(`malformed lm verify: tokens have dim 1, got ${h.dim}`)
  const payload = bytes.subarray(2 + n)
  const count = shapes.reduce((s, [, length]) => s + length * h.dim, 0)
  const all = values(payload, count, h.input === "tokens" ? "int32" : "float32")
  if (Result.isFailure(all)) return Result.fail(`malformed lm verify: ${all.failure}`)
  let at = 0
  const inputs = shapes.map(([start, length]): LmInput => {
    const data = all.success.subarray(at, at + length * h.dim)
    at += length * h.dim
    return { start, length, dim: h.dim, input: h.input, data }
  })
  return Result.succeed({ ...h, inputs })
}

/** The wire form of a referee's answer. */
export const encodeVerifiedReply = (m: VerifiedReply): Uint8Array =>
  utf8.encode(JSON.stringify(m.reason === undefined ? m : { ...m, reason: m.reason.slice(0, MAX_LM_ERROR_CHARS) }))

/** Reads a referee's answer; the failure says what was wrong. Never throws. */
export const decodeVerifiedReply = (bytes: Uint8Array): Result.Result<VerifiedReply, string> => {
  if (bytes.length > MAX_LM_HEADER_BYTES) return Result.fail(`malformed lm verified: oversized: ${bytes.length} bytes (limit ${MAX_LM_HEADER_BYTES})`)
  let json: unknown
  try {
    json = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return Result.fail("malformed lm verified: not UTF-8 JSON")
  }
  const r = decodeVerified(json, { onExcessProperty: "error" })
  return Result.isFailure(r) ? Result.fail(`malformed lm verified: ${issueText(r.failure)}`) : Result.succeed(r.success)
}
