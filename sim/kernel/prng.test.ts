import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { chanceOf, Prng, toRatio } from "./prng.ts"

const draws = (p: Prng, n: number): number[] => Array.from({ length: n }, () => p.u32())
const ZERO_KEY = "0".repeat(64)

/** xoshiro128** written independently over bigint, as the reference for the Math.imul version. */
function* reference(s: bigint[]): Generator<number> {
  const M = 0xffffffffn
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M
  let [s0, s1, s2, s3] = s as [bigint, bigint, bigint, bigint]
  for (;;) {
    yield Number((rotl((s1 * 5n) & M, 7n) * 9n) & M)
    const t = (s1 << 9n) & M
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11n)
  }
}

/** Pearson chi-square statistic of observed counts against a uniform expectation. */
const chiSquare = (counts: number[], total: number): number => {
  const expected = total / counts.length
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0)
}

describe("Prng", () => {
  it("matches the xoshiro128** reference (known answers and a bigint implementation)", () => {
    const p = Prng.fromState({ key: ZERO_KEY, s: [1, 2, 3, 4] })
    const got = draws(p, 1000)
    expect(got.slice(0, 2)).toEqual([11520, 0])
    const ref = reference([1n, 2n, 3n, 4n])
    expect(got).toEqual(Array.from({ length: 1000 }, () => ref.next().value))
  })

  it("pins the stream of a seed (traces of old runs stay replayable)", () => {
    expect(draws(Prng.fromSeed(42), 4)).toMatchInlineSnapshot(`
      [
        166055366,
        961180375,
        2764493063,
        4093412831,
      ]
    `)
    expect(Prng.fromSeed(42).child("v0").state().key).toMatchInlineSnapshot(`"39cbf9301b98adbf74e4d2939ad967357c29559a87a0ab1d2c872cde4f53cb25"`)
  })

  it("is deterministic: same seed, same stream; 7, 7n and '7' are one seed", () => {
    expect(draws(Prng.fromSeed(7), 100)).toEqual(draws(Prng.fromSeed(7), 100))
    expect(draws(Prng.fromSeed(7n), 100)).toEqual(draws(Prng.fromSeed(7), 100))
    expect(draws(Prng.fromSeed("7"), 100)).toEqual(draws(Prng.fromSeed(7), 100))
    expect(draws(Prng.fromSeed(8), 100)).not.toEqual(draws(Prng.fromSeed(7), 100))
    expect(() => Prng.fromSeed(1.5)).toThrow(RangeError)
  })

  it("derives children from the seed and label, not from the parent's position", () => {
    const a = Prng.fromSeed(1)
    const b = Prng.fromSeed(1)
    draws(b, 57) // the parent drawing must not change its children
    expect(draws(a.child("v3"), 50)).toEqual(draws(b.child("v3"), 50))
    // and a child drawing must not change its siblings or the parent
    const c = Prng.fromSeed(1)
    draws(c.child("v1"), 1000)
    expect(draws(c.child("v2"), 50)).toEqual(draws(Prng.fromSeed(1).child("v2"), 50))
    expect(draws(c, 50)).toEqual(draws(Prng.fromSeed(1), 50))
  })

  it("gives distinct, uncorrelated streams to different labels and paths", () => {
    const root = Prng.fromSeed(1)
    const streams = [root, root.child("a"), root.child("b"), root.child("a").child("b"), root.child("ab"), Prng.fromSeed(2).child("a")]
    const firsts = streams.map((s) => draws(s, 8).join(","))
    expect(new Set(firsts).size).toBe(streams.length)
    // Agreement in the top bit between two streams should be about half.
    const x = draws(root.child("a"), 20_000)
    const y = draws(root.child("b"), 20_000)
    const agree = x.filter((v, i) => v >>> 31 === y[i]! >>> 31).length
    expect(Math.abs(agree - 10_000)).toBeLessThan(400) // ~4 sigma
  })

  it("round-trips through state()/fromState(), including JSON", () => {
    const p = Prng.fromSeed("snapshot")
    draws(p, 13)
    const q = Prng.fromState(JSON.parse(JSON.stringify(p.state())))
    expect(draws(q, 100)).toEqual(draws(p, 100))
    expect(draws(q.child("x"), 10)).toEqual(draws(p.child("x"), 10))
    expect(() => Prng.fromState({ key: "zz", s: [1, 2, 3, 4] })).toThrow(/key/)
    expect(() => Prng.fromState({ key: ZERO_KEY, s: [0, 0, 0, 0] })).toThrow(/not all zero/)
    expect(() => Prng.fromState({ key: ZERO_KEY, s: [1, 2, 3, 2 ** 32] })).toThrow(/uint32/)
  })

  it("draws uniformly: chi-square over 10 and 64 buckets and over u32 bytes", () => {
    const p = Prng.fromSeed(2024)
    for (const [k, critical] of [[10, 27.88], [64, 103.44]] as const) { // p = 0.001 critical values
      const counts = new Array<number>(k).fill(0)
      const n = 200_000
      for (let i = 0; i < n; i++) counts[p.int(k)]!++
      expect(chiSquare(counts, n)).toBeLessThan(critical)
    }
    const bytes = new Array<number>(256).fill(0)
    for (let i = 0; i < 100_000; i++) bytes[p.u32() & 0xff]!++
    expect(chiSquare(bytes, 100_000)).toBeLessThan(330.5) // df 255, p = 0.001
  })

  it("int has no modulo bias at awkward n", () => {
    // With plain `u32 % n` for n = 3·2^30, the first third of [0, n) would be hit half the time.
    const p = Prng.fromSeed(3)
    const n = 3 * 2 ** 30
    const thirds = [0, 0, 0]
    for (let i = 0; i < 60_000; i++) thirds[Math.floor((p.int(n) / n) * 3)]!++
    expect(chiSquare(thirds, 60_000)).toBeLessThan(13.82) // df 2, p = 0.001
    // Same above 2^32, where int draws 53 bits: n = 3·2^50.
    const m = 3 * 2 ** 50
    const wide = [0, 0, 0]
    for (let i = 0; i < 60_000; i++) wide[Math.floor((p.int(m) / m) * 3)]!++
    expect(chiSquare(wide, 60_000)).toBeLessThan(13.82)
  })

  it("keeps int, range, pick and shuffle within their contracts (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (seed, n, min, span) => {
          const p = Prng.fromSeed(seed)
          const i = p.int(n)
          expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true)
          const r = p.range(min, min + span)
          expect(Number.isInteger(r) && r >= min && r <= min + span).toBe(true)
          expect(p.range(min, min)).toBe(min)
        },
      ),
    )
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer(), { minLength: 1, maxLength: 50 }), (seed, xs) => {
        const p = Prng.fromSeed(seed)
        expect(xs).toContain(p.pick(xs))
        const copy = [...xs]
        expect(p.shuffle(copy)).toBe(copy)
        expect([...copy].sort((a, b) => a - b)).toEqual([...xs].sort((a, b) => a - b))
      }),
    )
  })

  it("shuffles into every permutation equally often", () => {
    const p = Prng.fromSeed(11)
    const counts = new Map<string, number>()
    const n = 60_000
    for (let i = 0; i < n; i++) {
      const key = p.shuffle([0, 1, 2, 3]).join("")
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    expect(counts.size).toBe(24)
    expect(chiSquare([...counts.values()], n)).toBeLessThan(49.73) // df 23, p = 0.001
  })

  it("rejects bad arguments", () => {
    const p = Prng.fromSeed(0)
    expect(() => p.int(0)).toThrow(RangeError)
    expect(() => p.int(1.5)).toThrow(RangeError)
    expect(() => p.int(2 ** 53 + 2)).toThrow(RangeError)
    expect(() => p.range(3, 2)).toThrow(RangeError)
    expect(() => p.chance(3, 2)).toThrow(RangeError)
    expect(() => p.chance(1, 0)).toThrow(RangeError)
    expect(() => p.pick([])).toThrow(RangeError)
  })
})

describe("chance and ratios", () => {
  it("hits num/den of the time", () => {
    const p = Prng.fromSeed(5)
    let hits = 0
    for (let i = 0; i < 100_000; i++) if (p.chance(3, 10)) hits++
    expect(Math.abs(hits - 30_000)).toBeLessThan(600) // ~4 sigma
    expect(Array.from({ length: 100 }, () => p.chance(0, 7)).some(Boolean)).toBe(false)
    expect(Array.from({ length: 100 }, () => p.chance(7, 7)).every(Boolean)).toBe(true)
  })

  it("turns decimals into exact ratios", () => {
    expect(toRatio(0.05)).toEqual({ num: 50_000, den: 1_000_000 })
    expect(toRatio(0)).toEqual({ num: 0, den: 1_000_000 })
    expect(toRatio(1)).toEqual({ num: 1_000_000, den: 1_000_000 })
    expect(toRatio(0.1 + 0.2)).toEqual({ num: 300_000, den: 1_000_000 })
    expect(toRatio(0.25, 4)).toEqual({ num: 1, den: 4 })
    expect(() => toRatio(1.01)).toThrow(/between 0 and 1/)
    expect(() => toRatio(Number.NaN)).toThrow(RangeError)
  })

  it("chanceOf draws nothing for a zero probability", () => {
    const a = Prng.fromSeed(9)
    const b = Prng.fromSeed(9)
    expect(chanceOf(a, toRatio(0))).toBe(false)
    expect(a.u32()).toBe(b.u32())
    expect(chanceOf(a, toRatio(1))).toBe(true)
    expect(a.u32()).not.toBe(b.u32())
  })
})
