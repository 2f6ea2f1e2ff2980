import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, fromHex, keccak256, recoverAddress, signDigest, toHex, utf8ToBytes, verifySignature } from "./crypto.ts"

describe("crypto", () => {
  it("keccak256 matches the Ethereum test vector", () => {
    expect(toHex(keccak256(new Uint8Array()))).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
  })

  it("derives the well-known address of a known private key", () => {
    const key = fromHex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    expect(addressOfPrivateKey(key)).toBe("0x2c7536e3605d9c16a7a3d7b1898e529396a65c23")
  })

  it("signs deterministically and recovers the signer", () => {
    const key = fromHex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    const digest = keccak256(utf8ToBytes("vote"))
    const sig = signDigest(key, digest)
    expect(sig.length).toBe(65)
    expect([27, 28]).toContain(sig[64])
    expect(toHex(signDigest(key, digest))).toBe(toHex(sig))
    expect(recoverAddress(digest, sig)).toBe(addressOfPrivateKey(key))
  })

  it("property: a signature verifies for its signer only, and a flipped bit breaks it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(63), (seed, msg, bit) => {
        const key = keccak256(seed) // a valid scalar with overwhelming probability
        const digest = keccak256(msg)
        const sig = signDigest(key, digest)
        const addr = addressOfPrivateKey(key)
        expect(verifySignature(addr, digest, sig)).toBe(true)
        const bad = sig.slice()
        bad[bit] = bad[bit]! ^ 1
        expect(verifySignature(addr, digest, bad)).toBe(false)
      }),
      { numRuns: 100 },
    )
  })

  it("rejects malformed input without throwing", () => {
    expect(recoverAddress(new Uint8Array(31), new Uint8Array(65))).toBeUndefined()
    expect(recoverAddress(new Uint8Array(32), new Uint8Array(64))).toBeUndefined()
    expect(recoverAddress(new Uint8Array(32), new Uint8Array(65))).toBeUndefined()
    expect(() => fromHex("0xzz")).toThrow(/not hex/)
  })
})
