import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeProviderRecord, encodeProviderRecord, MAX_PROVIDER_JOBS, MAX_PROVIDER_RECORD_BYTES, providerKeyProblem } from "./provider-record.ts"

const utf8 = new TextEncoder()
const seed = Date.now() % 2 ** 31
console.log(`provider-record properties: SEED=${seed}`)

describe("provider records", () => {
  it("round-trips every valid record, within the size limit", () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.integer({ min: 1, max: MAX_PROVIDER_JOBS }), fc.integer({ min: 0, max: MAX_PROVIDER_JOBS }),
      (pricePerUnit, capacity, queue) => {
        const bytes = encodeProviderRecord({ pricePerUnit, capacity, queue })
        expect(bytes.length).toBeLessThanOrEqual(MAX_PROVIDER_RECORD_BYTES)
        expect(Result.getOrThrow(decodeProviderRecord(bytes))).toEqual({ pricePerUnit, capacity, queue })
      }), { seed })
  })

  it("refuses oversized and malformed records with the reason, and never throws on any bytes", () => {
    const fail = (s: string | Uint8Array) => {
      const r = decodeProviderRecord(typeof s === "string" ? utf8.encode(s) : s)
      return Result.isFailure(r) ? r.failure : "accepted"
    }
    expect(fail(new Uint8Array(MAX_PROVIDER_RECORD_BYTES + 1))).toBe(`oversized: ${MAX_PROVIDER_RECORD_BYTES + 1} bytes (limit ${MAX_PROVIDER_RECORD_BYTES})`)
    expect(fail("{not json")).toBe("malformed: not UTF-8 JSON")
    expect(fail(new Uint8Array([0xff, 0xfe]))).toBe("malformed: not UTF-8 JSON")
    expect(fail('{"v":1,"pricePerUnit":"-1","capacity":1,"queue":0}')).toMatch(/^malformed: pricePerUnit: /)
    expect(fail('{"v":1,"pricePerUnit":"01","capacity":1,"queue":0}')).toMatch(/^malformed: pricePerUnit: /)
    expect(fail('{"v":1,"pricePerUnit":"1","capacity":0,"queue":0}')).toMatch(/^malformed: capacity: /)
    expect(fail('{"v":1,"pricePerUnit":"1","capacity":1,"queue":1.5}')).toMatch(/^malformed: queue: /)
    expect(fail('{"v":2,"pricePerUnit":"1","capacity":1,"queue":0}')).toMatch(/^malformed: v: /)
    expect(fail('{"v":1,"pricePerUnit":"1","capacity":1,"queue":0,"x":1}')).toMatch(/^malformed: /)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      decodeProviderRecord(bytes)
    }), { seed })
  })

  it("refuses a record it cannot encode, and checks keys", () => {
    expect(() => encodeProviderRecord({ pricePerUnit: -1n, capacity: 1, queue: 0 })).toThrow(/pricePerUnit/)
    expect(() => encodeProviderRecord({ pricePerUnit: 1n, capacity: 0, queue: 0 })).toThrow(/capacity/)
    expect(providerKeyProblem("market/infer:mnist")).toBeUndefined()
    expect(providerKeyProblem("")).toMatch(/1\.\.128/)
    expect(providerKeyProblem("x".repeat(129))).toMatch(/1\.\.128/)
    expect(providerKeyProblem("a\nb")).toMatch(/control/)
  })
})
