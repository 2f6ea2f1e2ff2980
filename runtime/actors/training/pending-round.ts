/**
 * What a coordinator must not forget between submitting a round's result and the reveal of its
 * scores: the new model (nobody else holds it until it is gossiped) and the salt and scores the
 * result commits to (without them the scores can never be revealed). Both go into the node's store,
 * synced, before the `round-result` leaves the node, so a coordinator killed at any moment after it
 * restarts serving the model the chain names and reveals the scores (training-node.ts).
 *
 * Record: `u32 header length (LE) ‖ header (UTF-8 JSON: round, model hash, salt, scores) ‖ weights
 * (little-endian float32)`, under `training/pending/<round, 12 digits>`.
 */
import { Effect, Result, Schema } from "effect"
import { modelHash } from "../../core/training/hash.ts"
import type { Store, StoreError } from "../../services/store.ts"
import { bytesFloat, floatBytes } from "./wire.ts"

/** Every pending round's key starts with this. */
export const PENDING_KEY_PREFIX = "training/pending/"
/** The store key of round `round`'s pending record (zero-padded, so keys sort by round). */
export const pendingKey = (round: number): string => `${PENDING_KEY_PREFIX}${String(round).padStart(12, "0")}`

/** A round this node coordinated and submitted, kept until the chain holds its revealed scores. */
export interface PendingRound {
  readonly round: number
  readonly modelHash: string
  readonly salt: string
  readonly scores: ReadonlyArray<{ readonly account: string; readonly score: number }>
  readonly weights: Float32Array
}

const Header = Schema.Struct({
  round: Schema.Number,
  modelHash: Schema.String,
  salt: Schema.String,
  scores: Schema.Array(Schema.Struct({ account: Schema.String, score: Schema.Number })),
})
const decodeHeader = Schema.decodeUnknownResult(Header)
const utf8 = new TextEncoder()

/** A pending round as stored bytes. */
export const encodePending = (p: PendingRound): Uint8Array => {
  const h = utf8.encode(JSON.stringify({ round: p.round, modelHash: p.modelHash, salt: p.salt, scores: p.scores }))
  const w = floatBytes(p.weights)
  const out = new Uint8Array(4 + h.length + w.length)
  new DataView(out.buffer).setUint32(0, h.length, true)
  out.set(h, 4)
  out.set(w, 4 + h.length)
  return out
}

/** Stored bytes back to a pending round; undefined unless the weights have `modelLength` parameters and hash to the recorded hash. */
export const decodePending = (bytes: Uint8Array, modelLength: number): PendingRound | undefined => {
  if (bytes.length < 4) return undefined
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  if (4 + n > bytes.length) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)))
  } catch {
    return undefined
  }
  const h = decodeHeader(raw)
  if (Result.isFailure(h)) return undefined
  const weights = bytesFloat(bytes.subarray(4 + n), modelLength)
  if (weights === undefined || modelHash(weights) !== h.success.modelHash) return undefined
  return { ...h.success, weights }
}

/** Keep a pending round durably (written and synced). */
export const savePending = (store: Store["Service"], p: PendingRound): Effect.Effect<void, StoreError> =>
  Effect.andThen(store.put(pendingKey(p.round), encodePending(p)), store.sync)

/** Every pending round in the store, by round (records that do not decode are skipped). */
export const loadPending = (store: Store["Service"], modelLength: number): Effect.Effect<PendingRound[], StoreError> =>
  Effect.gen(function*() {
    const out: PendingRound[] = []
    for (const key of yield* store.keys(PENDING_KEY_PREFIX)) {
      const bytes = yield* store.get(key)
      const p = bytes === undefined ? undefined : decodePending(bytes, modelLength)
      if (p !== undefined) out.push(p)
    }
    return out
  })

/** Forget a pending round (its scores are revealed, or it never committed). */
export const deletePending = (store: Store["Service"], round: number): Effect.Effect<void, StoreError> => store.delete(pendingKey(round))
