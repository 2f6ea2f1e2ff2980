/**
 * Seeded randomness for the tfjs trainer (weight init, per-epoch shuffles): xoshiro128** keyed by
 * SHA-256 of a label, so each purpose (`init`, `shuffle:<round>:<epoch>`) has its own stream and
 * drawing more from one never shifts another. Independent of tfjs's own (seedrandom) generators,
 * so the initial weights are the same on every backend.
 */
import { createHash } from "node:crypto"

export type Seed = number | string

/** A stream of floats in [0, 1) determined by `seed` and `label`. */
export function seededRandom(seed: Seed, label: string): () => number {
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer or a string, got ${seed}`)
  const key = createHash("sha256").update(`dai/tfjs/${label}:${String(seed)}`).digest()
  let s0 = key.readUInt32LE(0)
  let s1 = key.readUInt32LE(4)
  let s2 = key.readUInt32LE(8)
  let s3 = key.readUInt32LE(12)
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    return result / 0x1_0000_0000
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/** A permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rng: () => number): Int32Array {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = p[i]!
    p[i] = p[j]!
    p[j] = t
  }
  return p
}
