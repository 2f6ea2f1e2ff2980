/**
 * The simulator's seeded PRNG: xoshiro128** (Blackman & Vigna), integer-only.
 *
 * Everything random in a simulation derives from one seed through this class, so a run is a pure
 * function of its seed. The state is four uint32 words and every decision is made on integers
 * (probabilities are ratios of integers), so no floating-point rounding can ever make two runs
 * diverge.
 *
 * Streams: each Prng also carries a 32-byte `key`, the SHA-256 of how it was derived. `child(label)`
 * derives a new stream from the parent's key and the label only — never from the parent's position —
 * so a node drawing more numbers from its own stream cannot shift any other node's stream.
 */
import { createHash } from "node:crypto"

/** A probability as an exact ratio of integers, `num / den`, with `0 <= num <= den`, `den >= 1`. */
export interface Ratio {
  readonly num: number
  readonly den: number
}

/** A snapshot of a Prng: its derivation key (hex) and its four state words. Plain JSON data. */
export interface PrngState {
  readonly key: string
  readonly s: readonly [number, number, number, number]
}

/** The denominator `toRatio` uses: probabilities from files are exact to one part in a million. */
export const PROBABILITY_SCALE = 1_000_000

const TWO_32 = 0x1_0000_0000
const TWO_53 = 2 ** 53

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash("sha256")
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

/** Canonical text of a seed: 7, 7n and "7" are the same seed; other strings are used verbatim. */
function seedText(seed: number | bigint | string): string {
  if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Prng seed must be a safe integer, got ${seed}`)
    return String(seed)
  }
  return typeof seed === "bigint" ? seed.toString() : seed
}

const isU32 = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0 && x < TWO_32

export class Prng {
  readonly #key: Uint8Array
  #s0: number
  #s1: number
  #s2: number
  #s3: number

  private constructor(key: Uint8Array, s0: number, s1: number, s2: number, s3: number) {
    // xoshiro's one forbidden state is all zeros (it would output zeros forever).
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1
    this.#key = key
    this.#s0 = s0 >>> 0
    this.#s1 = s1 >>> 0
    this.#s2 = s2 >>> 0
    this.#s3 = s3 >>> 0
  }

  /** The root stream of a run. `7`, `7n` and `"7"` give the same stream. */
  static fromSeed(seed: number | bigint | string): Prng {
    return Prng.#fromKey(sha256(utf8(`dai/prng/seed:${seedText(seed)}`)))
  }

  /** Restores a stream captured by `state()`; it continues exactly where the original was. */
  static fromState(state: PrngState): Prng {
    const { key, s } = state
    if (typeof key !== "string" || !/^[0-9a-f]{64}$/.test(key)) {
      throw new TypeError(`Prng state: key must be 64 lowercase hex digits, got ${JSON.stringify(key)}`)
    }
    if (!Array.isArray(s) || s.length !== 4 || !s.every(isU32) || s.every((w) => w === 0)) {
      throw new TypeError(`Prng state: s must be four uint32 words, not all zero, got ${JSON.stringify(s)}`)
    }
    return new Prng(new Uint8Array(Buffer.from(key, "hex")), s[0], s[1], s[2], s[3])
  }

  static #fromKey(key: Uint8Array): Prng {
    const v = new DataView(key.buffer, key.byteOffset, key.byteLength)
    return new Prng(key, v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true))
  }

  /**
   * An independent stream named `label`, derived from this stream's key (its seed and derivation
   * path), not from its position: `p.child("v3")` is the same stream however much `p` has drawn.
   */
  child(label: string): Prng {
    return Prng.#fromKey(sha256(this.#key, utf8(label)))
  }

  /** A snapshot for `fromState`. */
  state(): PrngState {
    return { key: toHex(this.#key), s: [this.#s0, this.#s1, this.#s2, this.#s3] }
  }

  /** The next uniform uint32. */
  u32(): number {
    const s0 = this.#s0, s1 = this.#s1
    let s2 = this.#s2, s3 = this.#s3
    const m = Math.imul(s1, 5)
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    this.#s1 = (s1 ^ s2) >>> 0
    this.#s0 = (s0 ^ s3) >>> 0
    this.#s2 = (s2 ^ t) >>> 0
    this.#s3 = ((s3 << 11) | (s3 >>> 21)) >>> 0
    return result
  }

  /** A uniform integer in [0, n), for 1 <= n <= 2^53, without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= TWO_53)) {
      throw new RangeError(`Prng.int: n must be an integer in [1, 2^53], got ${n}`)
    }
    if (n <= TWO_32) {
      // Accept only draws below the largest multiple of n, so every residue is equally likely.
      const limit = TWO_32 - (TWO_32 % n)
      let x = this.u32()
      while (x >= limit) x = this.u32()
      return x % n
    }
    // Wide n: 53 random bits (21 high + 32 low); every step is exact in a double.
    const limit = TWO_53 - (TWO_53 % n)
    let x: number
    do x = (this.u32() >>> 11) * TWO_32 + this.u32()
    while (x >= limit)
    return x % n
  }

  /** A uniform integer in [min, max], both inclusive safe integers. */
  range(min: number, max: number): number {
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max)) {
      throw new RangeError(`Prng.range: need safe integers min <= max, got [${min}, ${max}]`)
    }
    return min + this.int(max - min + 1)
  }

  /** True with probability num/den (integers, 0 <= num <= den). Always consumes exactly one `int(den)`. */
  chance(num: number, den: number): boolean {
    if (!(Number.isInteger(num) && Number.isInteger(den) && den >= 1 && num >= 0 && num <= den)) {
      throw new RangeError(`Prng.chance: need integers 0 <= num <= den, den >= 1, got ${num}/${den}`)
    }
    return this.int(den) < num
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Prng.pick: the array is empty")
    return items[this.int(items.length)] as T
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = items[i] as T
      items[i] = items[j] as T
      items[j] = tmp
    }
    return items
  }
}

/**
 * An exact ratio for a probability written as a decimal (e.g. YAML `drop: 0.05` → 50000/1000000),
 * rounded to the nearest 1/den. Rejects anything outside [0, 1] or not finite.
 */
export function toRatio(p: number, den: number = PROBABILITY_SCALE): Ratio {
  if (!(Number.isInteger(den) && den >= 1 && den <= TWO_32)) {
    throw new RangeError(`toRatio: den must be an integer in [1, 2^32], got ${den}`)
  }
  if (!(Number.isFinite(p) && p >= 0 && p <= 1)) {
    throw new RangeError(`a probability must be a number between 0 and 1, got ${p}`)
  }
  return { num: Math.round(p * den), den }
}

/** True with probability `r`; draws nothing when `r` is 0 (so an unused fault never shifts a stream). */
export function chanceOf(prng: Prng, r: Ratio): boolean {
  return r.num !== 0 && prng.chance(r.num, r.den)
}
