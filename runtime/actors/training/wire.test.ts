/**
 * The training wire format: every kind round-trips, and a bad message is refused with a reason that
 * names the kind and the field — never thrown, whatever the bytes.
 */
import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytesFloat, bytesU32, decodeTrain, encodeTrain, floatBytes, u32Bytes } from "./wire.ts"

const b = (hex: string) => ({ $b: hex })
const failure = (bytes: Uint8Array) => {
  const r = decodeTrain(bytes)
  return Result.isFailure(r) ? r.failure : "decoded"
}
const raw = (header: unknown) => {
  const h = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(4 + h.length)
  new DataView(out.buffer).setUint32(0, h.length, true)
  out.set(h, 4)
  return out
}

describe("training wire", () => {
  it("round-trips a model with its payload and a secure-aggregation step with its body", () => {
    const weights = Float32Array.from([0.5, -1.25, 3])
    const m = decodeTrain(encodeTrain({ kind: "model", round: 3, secure: false }, floatBytes(weights)))
    expect(Result.isSuccess(m)).toBe(true)
    if (Result.isSuccess(m)) expect([...bytesFloat(m.success.payload, 3)!]).toEqual([0.5, -1.25, 3])
    const advert = { kind: "advert" as const, round: 1, body: { id: "t0", encryptionKey: b("00ff"), maskKey: b("") } }
    expect(Result.isSuccess(decodeTrain(encodeTrain(advert)))).toBe(true)
    expect([...bytesU32(u32Bytes(Uint32Array.from([1, 2 ** 32 - 1])), 2)!]).toEqual([1, 2 ** 32 - 1])
    expect(bytesFloat(new Uint8Array(7), 2)).toBeUndefined()
  })

  it("refuses bad headers and bodies with the kind and the field", () => {
    expect(failure(new Uint8Array([1, 0]))).toMatch(/shorter than its header length/)
    expect(failure(new Uint8Array([200, 0, 0, 0, 1]))).toMatch(/header of 200 bytes does not fit in 5/)
    expect(failure(raw({ kind: "model", round: -1 }))).toMatch(/bad header \(header\.round: .*whole number/)
    expect(failure(raw({ kind: "gossip", round: 1 }))).toMatch(/bad header \(header\.kind/)
    expect(failure(raw({ kind: "model", round: 1, extra: true }))).toMatch(/bad header/)
    expect(failure(raw({ kind: "advert", round: 1 }))).toMatch(/train message \(advert\): body missing/)
    expect(failure(raw({ kind: "advert", round: 1, body: { id: "t0", encryptionKey: b("0g"), maskKey: b("") } }))).toMatch(/\(advert\): bad body\.encryptionKey\.\$b: lowercase hex bytes/)
    expect(failure(raw({ kind: "shares", round: 1, body: { from: "t0", shares: [{ from: "t0", to: "", ciphertext: b("") }] } }))).toMatch(/\(shares\): bad body\.shares\.0\.to/)
    expect(failure(raw({ kind: "hello", round: 0, body: { address: "0x12", signature: "0x" } }))).toMatch(/\(hello\): bad body\.address: 0x \+ 40 lowercase hex digits/)
    expect(failure(raw({ kind: "update", round: 1, body: {} }))).toMatch(/\(update\): carries a body, and update has none/)
    expect(failure(new Uint8Array([2, 0, 0, 0, 0x7b, 0x7d].slice(0, 5)))).toMatch(/does not fit/)
  })

  it("never throws on arbitrary bytes or arbitrary JSON headers", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      decodeTrain(bytes)
    }), { numRuns: 300 })
    fc.assert(fc.property(fc.jsonValue(), fc.constantFrom("model", "advert", "shares.request", "unmask", "hello", "global"), (body, kind) => {
      const r = decodeTrain(raw({ kind, round: 1, body }))
      if (Result.isFailure(r)) expect(r.failure).toMatch(/^train message/)
    }), { numRuns: 300 })
  })
})
