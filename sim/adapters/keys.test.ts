import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { keccak256, utf8ToBytes, verifySignature } from "../../runtime/core/crypto.ts"
import { makeSimKeys } from "./keys.ts"

describe("simulated keys", () => {
  it("derive one stable key per (seed, node) and sign verifiably", () => {
    const a = makeSimKeys(42, "v0")
    expect(makeSimKeys(42, "v0").address).toBe(a.address)
    expect(makeSimKeys(43, "v0").address).not.toBe(a.address)
    expect(makeSimKeys(42, "v1").address).not.toBe(a.address)
    const digest = keccak256(utf8ToBytes("prevote/5/0"))
    const sig = Effect.runSync(a.sign(digest))
    expect(verifySignature(a.address, digest, sig)).toBe(true)
  })

  it("report a bad digest as a KeysError, not a crash", () => {
    const exit = Effect.runSyncExit(makeSimKeys(1, "v0").sign(new Uint8Array(3)))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toMatch(/KeysError/)
  })
})
