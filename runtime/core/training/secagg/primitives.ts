/**
 * Cryptographic building blocks of secure aggregation, all from node:crypto except Shamir sharing
 * (shamir.ts, GF(2^8), at most 255 shares):
 * X25519 key pairs from injected bytes, key agreement + HKDF, an AES-256-CTR PRG expanding a
 * 32-byte seed into a mask of uint32 words, AES-256-GCM for the shares relayed by the server, and
 * the one fused pass that adds inputs and streams masks into a sum.
 * Nothing here draws randomness itself: every random byte comes from the caller's `randomBytes`.
 *
 * Why AES-256-CTR from node:crypto for the masks: both worlds run on Node, so it is the same bytes in
 * the simulator and on a real node, and with AES-NI it expands a 200k-word mask about 5× faster than
 * @noble/ciphers' ChaCha20 in JavaScript (bench/secagg.bench.ts prints both): at n = 100 the server
 * expands 100 masks, and with ChaCha20 in JS that alone would cost several plain sums.
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from "node:crypto"

/** The source of every random byte of the protocol (crypto randomness for real, the seeded PRNG in the simulator). */
export type RandomBytes = (n: number) => Uint8Array

/** PKCS#8 DER prefix of a raw 32-byte X25519 private key; SPKI prefix of a raw public key. */
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex")
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex")

/** An X25519 key pair: the private key object and the raw 32-byte public key. */
export interface KeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: Uint8Array
}

/** An X25519 key pair from 32 bytes (clamped by X25519 itself). */
export const keyPairFromSeed = (seed: Uint8Array): KeyPair => {
  if (seed.length !== 32) throw new RangeError(`an X25519 private key has 32 bytes, got ${seed.length}`)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, seed]), format: "der", type: "pkcs8" })
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" })
  return { privateKey, publicKey: new Uint8Array(spki.subarray(spki.length - 32)) }
}

/** The private key object of a raw 32-byte X25519 private key. */
export const privateKeyFromRaw = (raw: Uint8Array): KeyObject => keyPairFromSeed(raw).privateKey

/** The raw 32 bytes of an X25519 private key object (what gets Shamir-shared). */
export const rawPrivateKey = (key: KeyObject): Uint8Array => {
  const der = key.export({ format: "der", type: "pkcs8" })
  return new Uint8Array(der.subarray(der.length - 32))
}

/**
 * A 32-byte key shared by the holders of `privateKey` and `publicKey`: HKDF-SHA256 over the X25519
 * output, salted with the round id and bound to a purpose label (so the encryption and mask keys
 * of one pair are independent). Throws on a public key of the wrong size or a small-order point.
 */
export const agree = (privateKey: KeyObject, publicKey: Uint8Array, round: string, purpose: string): Uint8Array => {
  if (publicKey.length !== 32) throw new RangeError(`an X25519 public key has 32 bytes, got ${publicKey.length}`)
  const peer = createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: "der", type: "spki" })
  const shared = diffieHellman({ privateKey, publicKey: peer })
  return new Uint8Array(hkdfSync("sha256", shared, `dai/secagg/${round}`, purpose, 32))
}

const ZERO_IV = Buffer.alloc(16)
let zeros = Buffer.alloc(0)

/**
 * `length` uint32 words of AES-256-CTR keystream under `seed` (a PRG: the same seed gives the same
 * mask on every machine). Words are read little-endian.
 */
export const expandMask = (seed: Uint8Array, length: number): Uint32Array => {
  if (seed.length !== 32) throw new RangeError(`a mask seed has 32 bytes, got ${seed.length}`)
  const bytes = length * 4
  if (zeros.length < bytes) zeros = Buffer.alloc(bytes)
  const cipher = createCipheriv("aes-256-ctr", seed, ZERO_IV)
  const stream = cipher.update(zeros.subarray(0, bytes))
  if (stream.byteOffset % 4 === 0 && LITTLE_ENDIAN) return new Uint32Array(stream.buffer, stream.byteOffset, length)
  const out = new Uint32Array(length)
  for (let i = 0; i < length; i++) out[i] = stream.readUInt32LE(i * 4)
  return out
}
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** AES-256-GCM: nonce (12, from `randomBytes`) ‖ ciphertext ‖ tag (16); `aad` binds sender, recipient and round. */
export const seal = (key: Uint8Array, plaintext: Uint8Array, aad: string, randomBytes: RandomBytes): Uint8Array => {
  const nonce = randomBytes(12)
  if (nonce.length !== 12) throw new RangeError(`randomBytes(12) returned ${nonce.length} bytes`)
  const cipher = createCipheriv("aes-256-gcm", key, nonce)
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]))
}

/** Open a `seal`ed message; `undefined` when it was tampered with, misaddressed or under another key. */
export const open = (key: Uint8Array, sealed: Uint8Array, aad: string): Uint8Array | undefined => {
  if (sealed.length < 28) return undefined
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12))
    decipher.setAAD(Buffer.from(aad, "utf8"))
    decipher.setAuthTag(sealed.subarray(sealed.length - 16))
    return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]))
  } catch {
    return undefined
  }
}

export { MAX_SHARES, shamirCombine, shamirSplit } from "./shamir.ts"

/**
 * Words per chunk of the fused pass (256 KiB of the sum, and of each term read beside it). Each
 * keystream chunk is a fresh Buffer from node:crypto's `update` (it has no output-buffer form), so
 * the chunk size sets how many allocations a pass makes: at 16,384 words the server's finish() at
 * n = 100, d = 200,000 made 1,300 and took 105–193 ms of process CPU; at 65,536 words, 325 and
 * 67–110 ms, lower in each of 5 alternating pairs (bench/secagg.bench.ts): the collections saved
 * are worth more than the cache locality lost.
 */
export const ACCUMULATE_CHUNK = 65_536
const CHUNK = ACCUMULATE_CHUNK
const ZERO_CHUNK = Buffer.alloc(4 * CHUNK)

/** A mask to add (+1) or subtract (−1) in `accumulate`: expandMask(seed, length), streamed. */
export interface MaskTerm {
  readonly seed: Uint8Array
  readonly sign: 1 | -1
}

/**
 * out += each term (mod 2^32): a Uint32Array is added, a MaskTerm's keystream added or subtracted.
 * One pass over `out`, chunk by chunk: each mask's keystream is produced a chunk at a time while that
 * chunk of `out` is in cache (no mask is materialised whole: allocation, page faults and a pass per
 * term cost about twice as much), and terms are taken two at a time, so `out` is read and written
 * once per two terms (put an input next to its mask, as the server does with y_u and PRG(b_u)).
 */
export const accumulate = (out: Uint32Array, terms: readonly (Uint32Array | MaskTerm)[]): void => {
  const n = out.length
  const streams = terms.map((t) => {
    if (t instanceof Uint32Array) {
      if (t.length !== n) throw new RangeError(`accumulate: an input has ${t.length} words, the sum ${n}`)
      return { input: t, cipher: undefined, sign: 1 }
    }
    if (t.seed.length !== 32) throw new RangeError(`a mask seed has 32 bytes, got ${t.seed.length}`)
    return { input: undefined, cipher: createCipheriv("aes-256-ctr", t.seed, ZERO_IV), sign: t.sign }
  })
  for (let lo = 0; lo < n; lo += CHUNK) {
    const hi = Math.min(n, lo + CHUNK)
    const part = out.subarray(lo, hi)
    // A keystream chunk is made just before it is added and dropped just after: the allocator then
    // hands back the same warm blocks (holding every term's chunk at once cost page faults and GC).
    const words = (t: (typeof streams)[number]): Uint32Array =>
      t.input !== undefined ? t.input.subarray(lo, hi) : keystreamWords(t.cipher!.update(ZERO_CHUNK.subarray(0, 4 * (hi - lo))))
    let j = 0
    for (; j + 1 < streams.length; j += 2) addPair(part, words(streams[j]!), streams[j]!.sign, words(streams[j + 1]!), streams[j + 1]!.sign)
    if (j < streams.length) addPair(part, words(streams[j]!), streams[j]!.sign, undefined, 1)
  }
}

/** out += sa·a + sb·b (b optional) mod 2^32, one loop per sign pattern; `| 0` keeps it in int32. */
const addPair = (out: Uint32Array, a: Uint32Array, sa: number, b: Uint32Array | undefined, sb: number): void => {
  const n = out.length
  if (b === undefined) {
    if (sa > 0) for (let i = 0; i < n; i++) out[i] = (out[i]! + a[i]!) | 0
    else for (let i = 0; i < n; i++) out[i] = (out[i]! - a[i]!) | 0
  } else if (sa > 0 && sb > 0) for (let i = 0; i < n; i++) out[i] = (out[i]! + a[i]! + b[i]!) | 0
  else if (sa > 0) for (let i = 0; i < n; i++) out[i] = (out[i]! + a[i]! - b[i]!) | 0
  else if (sb > 0) for (let i = 0; i < n; i++) out[i] = (out[i]! - a[i]! + b[i]!) | 0
  else for (let i = 0; i < n; i++) out[i] = (out[i]! - a[i]! - b[i]!) | 0
}

/** Keystream bytes as little-endian uint32 words (a view when aligned on a little-endian machine). */
const keystreamWords = (bytes: Buffer): Uint32Array => {
  if (bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
  const out = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = bytes.readUInt32LE(i * 4)
  return out
}

/**
 * A deterministic `RandomBytes` stream: AES-256-CTR keystream under SHA-256(seed). For the simulator
 * and tests (derive `seed` from the run's seed and the client id); never for real keys.
 */
export const seededRandomBytes = (seed: string | Uint8Array): RandomBytes => {
  const key = createHash("sha256").update(typeof seed === "string" ? Buffer.from(seed, "utf8") : seed).digest()
  const cipher = createCipheriv("aes-256-ctr", key, ZERO_IV)
  return (n: number) => new Uint8Array(cipher.update(Buffer.alloc(n)))
}
