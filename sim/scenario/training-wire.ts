/**
 * The messages of a training round on the network (topic `train`): a JSON header, decoded with
 * Schema at the receiver, and a binary payload (weights or an update as little-endian float32, or a
 * masked input as uint32). Frame: `u32 header length (LE) ‖ header (UTF-8 JSON) ‖ payload`.
 *
 *   coordinator → trainer: model (the global weights), shares.request, masked.request, unmask.request
 *   trainer → coordinator: update (a delta), advert, shares, masked, unmask
 */
import { Result, Schema } from "effect"

export const TRAIN_TOPIC = "train"

export const TRAIN_KINDS = ["model", "update", "advert", "shares.request", "shares", "masked.request", "masked", "unmask.request", "unmask"] as const
export type TrainKind = (typeof TRAIN_KINDS)[number]

const Whole = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))

export const TrainHeader = Schema.Struct({
  kind: Schema.Literals(TRAIN_KINDS),
  round: Whole,
  /** `update` / `masked`: the samples the trainer claims it trained on. */
  samples: Schema.optional(Whole),
  /** `model`: whether the round uses secure aggregation. */
  secure: Schema.optional(Schema.Boolean),
  /** Step data of secure aggregation (plain JSON: ids, numbers, hex strings). */
  body: Schema.optional(Schema.Unknown),
})
export type TrainHeader = typeof TrainHeader.Type

export interface TrainMessage {
  readonly header: TrainHeader
  readonly payload: Uint8Array
}

const utf8 = new TextEncoder()
const decodeHeader = Schema.decodeUnknownResult(TrainHeader)

/** Frame a message. */
export const encodeTrain = (header: TrainHeader, payload: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const h = utf8.encode(JSON.stringify(header))
  const out = new Uint8Array(4 + h.length + payload.length)
  new DataView(out.buffer).setUint32(0, h.length, true)
  out.set(h, 4)
  out.set(payload, 4 + h.length)
  return out
}

/** Read a frame; the failure says what is wrong with it. */
export const decodeTrain = (bytes: Uint8Array): Result.Result<TrainMessage, string> => {
  if (bytes.length < 4) return Result.fail("train message: shorter than its header length")
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  if (4 + n > bytes.length) return Result.fail(`train message: header of ${n} bytes does not fit in ${bytes.length}`)
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)))
  } catch {
    return Result.fail("train message: header is not JSON")
  }
  const header = decodeHeader(raw, { onExcessProperty: "error" })
  if (Result.isFailure(header)) return Result.fail(`train message: bad header (${String(header.failure).split("\n")[0]})`)
  return Result.succeed({ header: header.success, payload: bytes.slice(4 + n) })
}

/** Float32 weights as little-endian bytes (a copy). */
export const floatBytes = (v: Float32Array): Uint8Array => {
  const out = new Uint8Array(v.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true)
  return out
}

/** Little-endian bytes back to float32 weights; undefined when the length is not what is expected. */
export const bytesFloat = (b: Uint8Array, expected: number): Float32Array | undefined => {
  if (b.length !== expected * 4) return undefined
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const out = new Float32Array(expected)
  for (let i = 0; i < expected; i++) out[i] = view.getFloat32(i * 4, true)
  return out
}

/** Uint32 vector as little-endian bytes, and back. */
export const u32Bytes = (v: Uint32Array): Uint8Array => {
  const out = new Uint8Array(v.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < v.length; i++) view.setUint32(i * 4, v[i]!, true)
  return out
}
export const bytesU32 = (b: Uint8Array, expected: number): Uint32Array | undefined => {
  if (b.length !== expected * 4) return undefined
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const out = new Uint32Array(expected)
  for (let i = 0; i < expected; i++) out[i] = view.getUint32(i * 4, true)
  return out
}
