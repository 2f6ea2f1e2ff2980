/**
 * Pure crypto helpers: hashing, Ethereum-style addresses and recoverable secp256k1 signatures.
 * The same signature format (r ‖ s ‖ v, v = 27 or 28) is checked by the contracts with `ecrecover`,
 * so evidence signed by a node can be verified on chain as well as here.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { keccak_256 } from "@noble/hashes/sha3.js"
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js"

export { bytesToHex, concatBytes, hexToBytes, utf8ToBytes }

/** keccak256 of bytes. */
export const keccak256 = (data: Uint8Array): Uint8Array => keccak_256(data)

/** 0x-prefixed lowercase hex. */
export const toHex = (data: Uint8Array): string => `0x${bytesToHex(data)}`

/** Parse 0x-prefixed (or bare) hex; throws a RangeError on anything else. */
export const fromHex = (hex: string): Uint8Array => {
  const bare = hex.startsWith("0x") ? hex.slice(2) : hex
  if (bare.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(bare)) throw new RangeError(`not hex: ${hex.slice(0, 20)}`)
  return hexToBytes(bare)
}

/** The Ethereum address of an uncompressed or compressed public key (lowercase 0x hex). */
export const addressOfPublicKey = (publicKey: Uint8Array): string => {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false)
  return toHex(keccak256(uncompressed.subarray(1)).subarray(12))
}

/** The address of a 32-byte private key. */
export const addressOfPrivateKey = (privateKey: Uint8Array): string =>
  addressOfPublicKey(secp256k1.getPublicKey(privateKey, false))

/** Sign a 32-byte digest (no further hashing) deterministically (RFC 6979); 65 bytes r ‖ s ‖ v. */
export const signDigest = (privateKey: Uint8Array, digest: Uint8Array): Uint8Array => {
  if (digest.length !== 32) throw new RangeError(`a digest has 32 bytes, got ${digest.length}`)
  // noble's "recovered" format is recovery ‖ r ‖ s; Ethereum's is r ‖ s ‖ (27 + recovery).
  const sig = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered", lowS: true })
  const out = new Uint8Array(65)
  out.set(sig.subarray(1, 65), 0)
  out[64] = 27 + sig[0]!
  return out
}

/** The address that signed `digest`, or `undefined` when the signature is malformed or invalid. */
export const recoverAddress = (digest: Uint8Array, signature: Uint8Array): string | undefined => {
  if (digest.length !== 32 || signature.length !== 65) return undefined
  const v = signature[64]!
  const recovery = v >= 27 ? v - 27 : v
  if (recovery !== 0 && recovery !== 1) return undefined
  const noble = new Uint8Array(65)
  noble[0] = recovery
  noble.set(signature.subarray(0, 64), 1)
  try {
    return addressOfPublicKey(secp256k1.recoverPublicKey(noble, digest, { prehash: false }))
  } catch {
    return undefined
  }
}

/** True when `signature` over `digest` was made by `address`. */
export const verifySignature = (address: string, digest: Uint8Array, signature: Uint8Array): boolean =>
  recoverAddress(digest, signature) === address.toLowerCase()
