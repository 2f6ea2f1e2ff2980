/**
 * The messages of a training round on the network, the same in the simulator and a real node: a
 * JSON header, decoded with Schema at the receiver (every kind's `body` too), and a binary payload
 * (weights or an update as little-endian float32, or a masked input as uint32).
 * Frame: `u32 header length (LE) ‖ header (UTF-8 JSON) ‖ payload`.
 *
 *   coordinator → trainer: model (the global weights), shares.request, masked.request, unmask.request
 *   trainer → coordinator: update (a delta), advert, shares, masked, unmask
 *   any node (real network): hello (gossip: which validator this peer trains for), global (the
 *   committed model, gossiped by its coordinator or sent on a global.request)
 *
 * A message that does not decode is refused with a reason naming the kind and the field; nothing
 * of it reaches a round.
 */
import { Result, Schema, SchemaIssue } from "effect"

/** Direct messages of a round. */
export const TRAIN_TOPIC = "train"
/** Gossip: signed hellos (peer id → validator). */
export const TRAIN_HELLO_TOPIC = "train/hello"
/** Gossip: the model a round committed. */
export const TRAIN_GLOBAL_TOPIC = "train/global"

export const TRAIN_KINDS = [
  "model", "update", "advert", "shares.request", "shares", "masked.request", "masked", "unmask.request", "unmask",
  "hello", "global", "global.request",
] as const
export type TrainKind = (typeof TRAIN_KINDS)[number]

const Whole = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))
const Id = Schema.String.check(Schema.makeFilter((s) => (s.length > 0 && s.length <= 200) || "an id of 1 to 200 characters"))
/** A Uint8Array on the wire (what JSON cannot carry): `{ "$b": hex }`. */
const Bytes = Schema.Struct({ $b: Schema.String.check(Schema.makeFilter((s) => /^([0-9a-f]{2})*$/.test(s) || "lowercase hex bytes")) })
const Advert = Schema.Struct({ id: Id, encryptionKey: Bytes, maskKey: Bytes })
const Share = Schema.Struct({ from: Id, to: Id, ciphertext: Bytes })
const Held = Schema.Struct({ owner: Id, share: Bytes })
const Hex = (bytes: number) => Schema.String.check(Schema.makeFilter((s) => new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`).test(s) || `0x + ${bytes * 2} lowercase hex digits`))

/** The body each kind carries (undefined: none). */
const BODIES: Partial<Record<TrainKind, Schema.Top>> = {
  advert: Advert,
  "shares.request": Schema.Array(Advert),
  shares: Schema.Struct({ from: Id, shares: Schema.Array(Share) }),
  "masked.request": Schema.Struct({ shares: Schema.Array(Share), participants: Whole }),
  "unmask.request": Schema.Struct({ survivors: Schema.Array(Id), dropped: Schema.Array(Id) }),
  unmask: Schema.Struct({ from: Id, seedShares: Schema.Array(Held), keyShares: Schema.Array(Held) }),
  /** The validator's address and its signature over `helloDigest(chainId, peer id)`. */
  hello: Schema.Struct({ address: Hex(20), signature: Hex(65) }),
  /** The hash of the model asked for (or sent). */
  "global.request": Schema.Struct({ modelHash: Hex(32) }),
  global: Schema.Struct({ modelHash: Hex(32) }),
}

export const TrainHeader = Schema.Struct({
  kind: Schema.Literals(TRAIN_KINDS),
  round: Whole,
  /** `update` / `masked`: the samples the trainer claims it trained on. */
  samples: Schema.optional(Whole),
  /** `model`: whether the round uses secure aggregation. */
  secure: Schema.optional(Schema.Boolean),
  /**
   * `update` / `masked`: the trainer's signature over its update commitment, (chain id, round, its
   * account, keccak256 of this payload) (runtime/core/app/round-attestation.ts); the coordinator
   * carries it in the round's result, where every replica checks it.
   */
  signature: Schema.optional(Hex(65)),
  /** The kind's step data (plain JSON: ids, numbers, hex strings), checked against the kind's schema. */
  body: Schema.optional(Schema.Unknown),
})
export type TrainHeader = typeof TrainHeader.Type

export interface TrainMessage {
  readonly header: TrainHeader
  readonly payload: Uint8Array
}

const utf8 = new TextEncoder()
const decodeHeader = Schema.decodeUnknownResult(TrainHeader)
const bodyDecoders = new Map(Object.entries(BODIES).map(([k, s]) => [k, Schema.decodeUnknownResult(s as Schema.Codec<unknown, unknown>)]))
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The first issue of a Schema failure as `path: message`. */
const firstIssue = (issue: SchemaIssue.Issue, prefix: string): string => {
  const first = formatter(issue).issues[0]
  const path = (first?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  return `${path === "" ? prefix : `${prefix}.${path}`}: ${first?.message ?? "invalid"}`
}

/** Frame a message. */
export const encodeTrain = (header: TrainHeader, payload: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const h = utf8.encode(JSON.stringify(header))
  const out = new Uint8Array(4 + h.length + payload.length)
  new DataView(out.buffer).setUint32(0, h.length, true)
  out.set(h, 4)
  out.set(payload, 4 + h.length)
  return out
}

/** Read a frame; the failure says what is wrong with it (the kind and the field). */
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
  if (Result.isFailure(header)) return Result.fail(`train message: bad header (${firstIssue(header.failure.issue, "header")})`)
  const { kind, body } = header.success
  const decodeBody = bodyDecoders.get(kind)
  if (decodeBody === undefined) {
    if (body !== undefined) return Result.fail(`train message (${kind}): carries a body, and ${kind} has none`)
  } else {
    if (body === undefined) return Result.fail(`train message (${kind}): body missing`)
    const checked = decodeBody(body, { onExcessProperty: "error" })
    if (Result.isFailure(checked)) return Result.fail(`train message (${kind}): bad ${firstIssue(checked.failure.issue, "body")}`)
  }
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
