import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, utf8ToBytes, verifySignature } from "../../runtime/core/crypto.ts"
import { keysSuite } from "../../runtime/services/compliance/keys/index.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { makeSimKeys, SignatureOracle, simAddress, simPrivateKey } from "./keys.ts"

// The port's suite under both schemes: two nodes of one run (the simulated scheme's oracle is the
// run's), and a restart derives the node's key from the seed again.
keysSuite("simulated, secp256k1", testSetup(async () => ({
  self: makeSimKeys(11, "v0"),
  peer: makeSimKeys(11, "v1"),
  reload: async () => makeSimKeys(11, "v0"),
})), { recoverable: true })
keysSuite("simulated signature scheme", testSetup(async () => {
  const oracle = new SignatureOracle()
  return {
    self: makeSimKeys(11, "v0", oracle),
    peer: makeSimKeys(11, "v1", oracle),
    reload: async () => makeSimKeys(11, "v0", oracle),
  }
}))

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

  it("derive the same address as the constant-time derivation, remembered or not", () => {
    for (let seed = 0; seed < 20; seed++) {
      for (const node of ["v0", "v1", "trainer-3"]) {
        const expected = addressOfPrivateKey(simPrivateKey(seed, node))
        expect(simAddress(seed, node)).toBe(expected)
        expect(simAddress(seed, node)).toBe(expected)
        expect(makeSimKeys(seed, node).address).toBe(expected)
      }
    }
  })

  it("report a bad digest as a KeysError, not a crash", () => {
    const exit = Effect.runSyncExit(makeSimKeys(1, "v0").sign(new Uint8Array(3)))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toMatch(/KeysError/)
  })
})

describe("simulated signature scheme", () => {
  it("verifies a node's own signatures and rejects forgeries and other signers", async () => {
    const { SignatureOracle } = await import("./keys.ts")
    const oracle = new SignatureOracle()
    const a = makeSimKeys(1, "v0", oracle)
    const b = makeSimKeys(1, "v1", oracle)
    const digest = keccak256(utf8ToBytes("precommit"))
    const sig = Effect.runSync(a.sign(digest))
    expect(b.verify(a.address, digest, sig)).toBe(true)
    expect(b.verify(b.address, digest, sig)).toBe(false)
    const forged = sig.slice()
    forged[0] = forged[0]! ^ 1
    expect(a.verify(a.address, digest, forged)).toBe(false)
    expect(a.verify("0x0000000000000000000000000000000000000000", digest, sig)).toBe(false)
    // The same keys sign with secp256k1 when no oracle is given, and both agree on the address.
    expect(makeSimKeys(1, "v0").address).toBe(a.address)
  })
})
