/**
 * Model identity: `modelHash(weights)` is the 0x-prefixed keccak256 of the weights' float32
 * little-endian bytes, so every node (whatever its CPU) names the same model with the same hash,
 * and the hash can be compared with one computed by a contract or another client.
 */
import { keccak256, toHex } from "../crypto.ts"

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** The little-endian bytes of a Float32Array (a view when the host is little-endian, a copy otherwise). */
export const float32Bytes = (weights: Float32Array): Uint8Array => {
  if (LITTLE_ENDIAN) return new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)
  const out = new Uint8Array(weights.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < weights.length; i++) view.setFloat32(i * 4, weights[i]!, true)
  return out
}

/** 0x keccak256 of the weights' little-endian float32 bytes. */
export const modelHash = (weights: Float32Array): string => toHex(keccak256(float32Bytes(weights)))
