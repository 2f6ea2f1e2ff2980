/**
 * Keys compliance, signing: a signature made by a key verifies for its address — by the signer and
 * by a peer — and a tampered signature, another digest or another address does not.
 */
import fc from "fast-check"
import { afterEach, describe, expect, it } from "vitest"
import { recoverAddress } from "../../../core/crypto.ts"
import { digestOf, flipBit, type KeysSetup, type KeysSuiteOptions, sign } from "./harness.ts"

/** The signing tests, each on a fresh world from `common`. */
export const signingTests = (common: KeysSetup, options: KeysSuiteOptions): void => {
  describe("signing", () => {
    afterEach(() => common.teardown())

    it("signs a 32-byte digest with 65 bytes that verify for its address, by itself and by a peer", async () => {
      const { self, peer } = await common.setup()
      const digest = digestOf("prevote/5/0")
      const signature = sign(self, digest)
      expect(signature).toBeInstanceOf(Uint8Array)
      expect(signature).toHaveLength(65)
      expect(self.verify(self.address, digest, signature)).toBe(true)
      expect(peer.verify(self.address, digest, signature)).toBe(true)
      // Addresses compare as addresses, whatever the case of their hex digits.
      expect(peer.verify(self.address.toUpperCase().replace("0X", "0x"), digest, signature)).toBe(true)
    })

    it("does not verify a tampered signature, another digest, or another signer's address", async () => {
      const { self, peer } = await common.setup()
      const digest = digestOf("precommit/5/0")
      const signature = sign(self, digest)
      // A bit flipped in r, in s, and in v.
      for (const at of [0, 31, 32, 63, 64]) expect(peer.verify(self.address, digest, flipBit(signature, at)), `bit flipped in byte ${at}`).toBe(false)
      expect(peer.verify(self.address, digestOf("precommit/5/1"), signature)).toBe(false)
      expect(self.verify(peer.address, digest, signature)).toBe(false)
      expect(peer.verify(peer.address, digest, signature)).toBe(false)
      // The peer's own signature of the same digest is not this node's.
      expect(peer.verify(self.address, digest, sign(peer, digest))).toBe(false)
    })

    it("property: any digest signed verifies, and with any one bit flipped it does not", async () => {
      const { self, peer } = await common.setup()
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(65 * 8 - 1), (digest, bit) => {
          const signature = sign(self, digest)
          expect(peer.verify(self.address, digest, signature)).toBe(true)
          expect(peer.verify(self.address, digest, flipBit(signature, bit >> 3, bit & 7))).toBe(false)
        }),
        { numRuns: 50 },
      )
    })

    if (options.recoverable === true) {
      it("signs recoverably: ecrecover over the digest gives the signer's address, v is 27 or 28", async () => {
        const { self, peer } = await common.setup()
        for (const [k, label] of [[self, "a"], [peer, "b"]] as const) {
          const digest = digestOf(`recoverable/${label}`)
          const signature = sign(k, digest)
          expect([27, 28]).toContain(signature[64])
          expect(recoverAddress(digest, signature)).toBe(k.address)
        }
      })
    }
  })
}
