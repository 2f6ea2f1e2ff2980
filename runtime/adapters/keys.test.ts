/** Keys from a raw private key: real secp256k1, bad keys and bad input refused without a crash. */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, fromHex, keccak256, recoverAddress, toHex, utf8ToBytes } from "../core/crypto.ts"
import { keysSuite } from "../services/compliance/keys/index.ts"
import { testSetup } from "../services/compliance/test-setup.ts"
import { Keys } from "../services/keys.ts"
import { layerKeysFromPrivateKey, makeKeysFromPrivateKey } from "./keys.ts"
import { decryptKey, encryptKey } from "./keystore.ts"

const KNOWN = fromHex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
const KNOWN_ADDRESS = "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23"
const load = (key: Uint8Array) => Effect.runSync(makeKeysFromPrivateKey(key))

keysSuite("raw private key", testSetup(async () => ({
  self: load(KNOWN),
  peer: load(keccak256(utf8ToBytes("peer"))),
  reload: async () => load(KNOWN),
})), { recoverable: true })

// A key as a real node gets it: unlocked from its keystore, at start and again after a restart
// (a low scrypt cost: the suite checks the key, not the cost of guessing the password).
keysSuite("key unlocked from the keystore", testSetup(async () => {
  const json = await Effect.runPromise(encryptKey(KNOWN, "correct horse", { scryptN: 16 }))
  const unlock = async () => Effect.runPromise(Effect.flatMap(decryptKey(json, "correct horse", "node.keystore"), makeKeysFromPrivateKey))
  return { self: await unlock(), peer: load(keccak256(utf8ToBytes("peer"))), reload: unlock }
}), { recoverable: true })

describe("keys from a private key", () => {
  it("has the key's Ethereum address and signs digests ecrecover can check", () => {
    const keys = load(KNOWN)
    expect(keys.address).toBe(KNOWN_ADDRESS)
    const digest = keccak256(utf8ToBytes("prevote/1/0"))
    const signature = Effect.runSync(keys.sign(digest))
    expect(signature).toHaveLength(65)
    expect([27, 28]).toContain(signature[64])
    expect(recoverAddress(digest, signature)).toBe(KNOWN_ADDRESS)
    // RFC 6979: the same digest, the same signature.
    expect(toHex(Effect.runSync(keys.sign(digest)))).toBe(toHex(signature))
    expect(keys.verify(KNOWN_ADDRESS, digest, signature)).toBe(true)
    expect(keys.verify(KNOWN_ADDRESS.toUpperCase().replace("0X", "0x"), digest, signature)).toBe(true)
  })

  it("property: verifies any signer's signature, and only for that signer and digest", () => {
    const verifier = load(KNOWN)
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (seed, msg, other) => {
        const key = keccak256(seed) // a valid scalar with overwhelming probability
        const signer = load(key)
        const digest = keccak256(msg)
        const signature = Effect.runSync(signer.sign(digest))
        expect(verifier.verify(signer.address, digest, signature)).toBe(true)
        expect(verifier.verify(KNOWN_ADDRESS, digest, signature)).toBe(false)
        const otherDigest = keccak256(utf8ToBytes(`x${toHex(other)}`))
        if (toHex(otherDigest) !== toHex(digest)) expect(verifier.verify(signer.address, otherDigest, signature)).toBe(false)
      }),
      { numRuns: 50 },
    )
  })

  it("keeps its own copy of the key", () => {
    const buffer = KNOWN.slice()
    const keys = load(buffer)
    buffer.fill(0)
    const digest = keccak256(utf8ToBytes("after wipe"))
    expect(recoverAddress(digest, Effect.runSync(keys.sign(digest)))).toBe(KNOWN_ADDRESS)
  })

  it("refuses a key that is not a secp256k1 scalar with a KeysError", () => {
    const n = fromHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141") // the group order
    for (const bad of [new Uint8Array(31).fill(1), new Uint8Array(33).fill(1), new Uint8Array(32), n]) {
      const error = Effect.runSync(Effect.flip(makeKeysFromPrivateKey(bad)))
      expect(error._tag).toBe("KeysError")
      expect(error.operation).toBe("load")
    }
  })

  it("reports a bad digest as a KeysError, and a malformed signature as invalid", () => {
    const keys = load(KNOWN)
    const error = Effect.runSync(Effect.flip(keys.sign(new Uint8Array(31))))
    expect(error).toMatchObject({ _tag: "KeysError", operation: "sign" })
    const digest = keccak256(utf8ToBytes("d"))
    expect(keys.verify(KNOWN_ADDRESS, digest, new Uint8Array(65))).toBe(false)
    expect(keys.verify(KNOWN_ADDRESS, digest, new Uint8Array(3))).toBe(false)
    expect(keys.verify("not an address", digest, Effect.runSync(keys.sign(digest)))).toBe(false)
    expect(keys.verify(KNOWN_ADDRESS, new Uint8Array(5), Effect.runSync(keys.sign(digest)))).toBe(false)
  })

  it("provides the Keys port as a layer", async () => {
    const key = keccak256(utf8ToBytes("layer"))
    const address = await Effect.runPromise(Effect.map(Keys, (k) => k.address).pipe(Effect.provide(layerKeysFromPrivateKey(key))))
    expect(address).toBe(addressOfPrivateKey(key))
    const error = await Effect.runPromise(Effect.flip(Effect.map(Keys, (k) => k.address).pipe(Effect.provide(layerKeysFromPrivateKey(new Uint8Array(32))))))
    expect(error._tag).toBe("KeysError")
  })
})
