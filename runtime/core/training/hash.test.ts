import { describe, expect, it } from "vitest"
import { keccak256, toHex } from "../crypto.ts"
import { modelHash } from "./hash.ts"

describe("modelHash", () => {
  it("is keccak256 of the little-endian float32 bytes", () => {
    // 1.0f = 0x3f800000 → bytes 00 00 80 3f; -2.0f = 0xc0000000 → 00 00 00 c0
    const bytes = Uint8Array.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0])
    expect(modelHash(Float32Array.from([1, -2]))).toBe(toHex(keccak256(bytes)))
  })
  it("of nothing is keccak256 of the empty string", () => {
    expect(modelHash(new Float32Array(0))).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
  })
  it("differs when one weight differs and ignores the view's offset in its buffer", () => {
    const w = Float32Array.from([0.5, 0.25, 0.125])
    const sub = new Float32Array(Float32Array.from([9, 0.5, 0.25, 0.125]).buffer, 4, 3)
    expect(modelHash(sub)).toBe(modelHash(w))
    expect(modelHash(Float32Array.from([0.5, 0.25, 0.126]))).not.toBe(modelHash(w))
  })
})
