/**
 * Our GF(2^8) Shamir against two independent implementations: Privy's audited `shamir-secret-sharing`
 * (same share format: y bytes ‖ x) and the `shamir` package (parts keyed by x). Shares made here
 * combine there and the reverse, from any threshold-sized subset; the split is a function of the
 * injected random bytes. Properties print their seed.
 */
import fc from "fast-check"
import { join as joinShamirPackage } from "shamir"
import { combine as privyCombine, split as privySplit } from "shamir-secret-sharing"
import { describe, expect, it } from "vitest"
import { seededRandomBytes } from "./primitives.ts"
import { gfMul, MAX_SHARES, shamirCombine, shamirSplit } from "./shamir.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const SEED = Number(process.env.DAI_PROPERTY_SEED ?? Date.now() % 2 ** 31)
console.info(`shamir properties: SEED=${SEED} (replay: DAI_PROPERTY_SEED=${SEED})`)

/** A secret, n, t and a subset of at least t share indices (a permutation prefix). */
const sharing = fc
  .record({ secret: fc.uint8Array({ minLength: 1, maxLength: 48 }), n: fc.integer({ min: 2, max: 40 }), tag: fc.string({ maxLength: 6 }) })
  .chain(({ secret, n, tag }) =>
    fc.integer({ min: 2, max: n }).chain((t) =>
      fc.record({
        secret: fc.constant(secret), n: fc.constant(n), t: fc.constant(t), tag: fc.constant(tag),
        pick: fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: t, maxLength: n }),
      })),
  )

describe("GF(2^8) Shamir", () => {
  it("the field is the AES field: 0x53 · 0xca = 1, 0x57 · 0x83 = 0xc1 (FIPS-197 §4.2)", () => {
    expect(gfMul(0x53, 0xca)).toBe(1)
    expect(gfMul(0x57, 0x83)).toBe(0xc1)
  })

  it("property: our shares combine in Privy's shamir-secret-sharing and in the shamir package, from any t of them", async () => {
    await fc.assert(
      fc.asyncProperty(sharing, async ({ secret, n, t, tag, pick }) => {
        const shares = shamirSplit(secret, n, t, seededRandomBytes(`split/${tag}`))
        expect(shares.map((s) => s[s.length - 1])).toEqual(Array.from({ length: n }, (_, i) => i + 1))
        const subset = pick.map((i) => shares[i]!)
        expect(shamirCombine(subset)).toEqual(secret)
        expect(await privyCombine(subset)).toEqual(secret)
        const parts = Object.fromEntries(subset.map((s) => [String(s[s.length - 1]), s.subarray(0, s.length - 1)]))
        expect(new Uint8Array(joinShamirPackage(parts))).toEqual(secret)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it("property: Privy's shares combine here, from any t of them", async () => {
    await fc.assert(
      fc.asyncProperty(sharing, async ({ secret, n, t, pick }) => {
        const shares = await privySplit(secret, n, t)
        expect(shamirCombine(pick.map((i) => shares[i]!))).toEqual(secret)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it("the same random bytes give the same shares; 255 holders work; t − 1 shares do not give the secret", () => {
    const secret = seededRandomBytes("secret")(32)
    const a = shamirSplit(secret, MAX_SHARES, 128, seededRandomBytes("r"))
    expect(shamirSplit(secret, MAX_SHARES, 128, seededRandomBytes("r"))).toEqual(a)
    expect(shamirCombine(a.slice(127))).toEqual(secret)
    expect(shamirCombine(a.slice(0, 127))).not.toEqual(secret)
  })

  it("refuses what cannot be combined, naming why", () => {
    const s = shamirSplit(new Uint8Array([1, 2, 3]), 3, 2, seededRandomBytes("x"))
    expect(() => shamirCombine([s[0]!])).toThrow(/combine needs 2 to 255 shares, got 1/)
    expect(() => shamirCombine([s[0]!, s[0]!])).toThrow(/x coordinate 1 is zero or repeated/)
    expect(() => shamirCombine([s[0]!, s[1]!.subarray(1)])).toThrow(/different lengths/)
    expect(() => shamirSplit(new Uint8Array([1]), 256, 2, seededRandomBytes("x"))).toThrow(/shares must be an integer in \[2, 255\], got 256/)
    expect(() => shamirSplit(new Uint8Array([1]), 3, 4, seededRandomBytes("x"))).toThrow(/threshold must be an integer in \[2, 3\], got 4/)
  })
})
