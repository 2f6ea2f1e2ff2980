/**
 * Secure-aggregation messages (plain data: strings, numbers, Uint8Array, Uint32Array, so they can
 * cross a network or a simulated one) and the two failures of a round.
 */
import { Data } from "effect"

/** The four stages of a round, named after the message sent in each (Bonawitz et al. 2017, rounds 0–2 and 4). */
export type SecAggStage = "advertise" | "share-keys" | "masked-input" | "unmask"

/** The two mask graphs (graph.ts): every pair ("full"), or SecAgg+'s random ring of O(log n) neighbours ("sparse"). */
export type SecAggGraph = "full" | "sparse"

/**
 * What both sides agree on before a round: its id (salts every key), threshold t, vector length, and
 * who masks with whom (graph.ts: "full", the default, or SecAgg+'s "sparse").
 */
export interface SecAggConfig {
  readonly round: string
  readonly threshold: number
  readonly length: number
  readonly graph?: SecAggGraph
}

/** Stage 0, client → server → all: the client's two X25519 public keys (encryption, masking). */
export interface Advert {
  readonly id: string
  readonly encryptionKey: Uint8Array
  readonly maskKey: Uint8Array
}

/** One sealed pair of shares (of the sender's self-mask seed and mask private key) for one recipient. */
export interface EncryptedShare {
  readonly from: string
  readonly to: string
  readonly ciphertext: Uint8Array
}

/** Stage 1, client → server: one EncryptedShare for every other advertised client. */
export interface SharesMessage {
  readonly from: string
  readonly shares: readonly EncryptedShare[]
}

/** Stage 2, client → server: the quantized input plus self mask plus pairwise masks, mod 2^32. */
export interface MaskedInput {
  readonly from: string
  readonly masked: Uint32Array
}

/** Server → survivors after stage 2: whose inputs count, whose pairwise masks must be removed. */
export interface UnmaskRequest {
  readonly survivors: readonly string[]
  readonly dropped: readonly string[]
}

/** A Shamir share held for `owner`. */
export interface HeldShare {
  readonly owner: string
  readonly share: Uint8Array
}

/** Stage 4, client → server: self-mask seed shares of survivors, mask-key shares of the dropped. */
export interface UnmaskResponse {
  readonly from: string
  readonly seedShares: readonly HeldShare[]
  readonly keyShares: readonly HeldShare[]
}

/** Too few participants left at `stage` to continue: the round ends without a result (nothing leaks). */
export class SecAggAbort extends Data.TaggedError("SecAggAbort")<{
  readonly stage: SecAggStage
  readonly reason: string
}> {
  override get message() {
    return `secure aggregation aborted at ${this.stage}: ${this.reason}`
  }
}

/** A malformed, misaddressed, tampered or out-of-order message or call; the message is not used. */
export class SecAggError extends Data.TaggedError("SecAggError")<{
  readonly stage: SecAggStage
  readonly reason: string
}> {
  override get message() {
    return `secure aggregation ${this.stage}: ${this.reason}`
  }
}

/** Validate a config; throws a RangeError naming the field. */
export const checkConfig = (config: SecAggConfig): void => {
  if (typeof config.round !== "string" || config.round.length === 0) throw new RangeError("secagg config.round must be a non-empty string")
  if (!Number.isInteger(config.threshold) || config.threshold < 2 || config.threshold > 255) {
    throw new RangeError(`secagg config.threshold must be an integer in [2, 255], got ${config.threshold}`)
  }
  if (!Number.isInteger(config.length) || config.length < 1) throw new RangeError(`secagg config.length must be a positive integer, got ${config.length}`)
  if (config.graph !== undefined && config.graph !== "full" && config.graph !== "sparse") {
    throw new RangeError(`secagg config.graph must be "full" or "sparse", got ${JSON.stringify(config.graph)}`)
  }
}

/** The label a share ciphertext is bound to (round, sender, recipient). */
export const shareAad = (round: string, from: string, to: string): string => `dai/secagg/share|${round}|${from}|${to}`

/** Purpose labels of the two key agreements. */
export const ENCRYPTION_PURPOSE = "share-encryption"
export const MASK_PURPOSE = "pairwise-mask"

/** Encode the two shares sent to one peer: u16 length ‖ seed share ‖ u16 length ‖ key share. */
export const encodeSharePair = (seedShare: Uint8Array, keyShare: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + seedShare.length + keyShare.length)
  const view = new DataView(out.buffer)
  view.setUint16(0, seedShare.length)
  out.set(seedShare, 2)
  view.setUint16(2 + seedShare.length, keyShare.length)
  out.set(keyShare, 4 + seedShare.length)
  return out
}

/** Decode `encodeSharePair`; undefined when the lengths do not add up. */
export const decodeSharePair = (bytes: Uint8Array): { seedShare: Uint8Array; keyShare: Uint8Array } | undefined => {
  if (bytes.length < 4) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const a = view.getUint16(0)
  if (2 + a + 2 > bytes.length) return undefined
  const b = view.getUint16(2 + a)
  if (4 + a + b !== bytes.length) return undefined
  return { seedShare: bytes.slice(2, 2 + a), keyShare: bytes.slice(4 + a) }
}
