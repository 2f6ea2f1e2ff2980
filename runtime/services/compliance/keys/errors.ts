/** Keys compliance, bad input: a digest of the wrong size is a KeysError; malformed input to verify is `false`, never a throw. */
import { afterEach, describe, expect, it } from "vitest"
import { digestOf, type KeysSetup, sign, signFailure } from "./harness.ts"

/** The bad-input tests, each on a fresh world from `common`. */
export const errorsTests = (common: KeysSetup): void => {
  describe("bad input", () => {
    afterEach(() => common.teardown())

    it("refuses to sign a digest that is not 32 bytes with a KeysError, and still signs afterwards", async () => {
      const { self, peer } = await common.setup()
      for (const length of [0, 31, 33, 64]) {
        const error = signFailure(self, new Uint8Array(length).fill(7))
        expect(error._tag, `${length}-byte digest`).toBe("KeysError")
        expect(error.operation).toBe("sign")
      }
      const digest = digestOf("after a refusal")
      expect(peer.verify(self.address, digest, sign(self, digest))).toBe(true)
    })

    it("answers false, without throwing, for a malformed signature, digest or address", async () => {
      const { self, peer } = await common.setup()
      const digest = digestOf("malformed")
      const signature = sign(self, digest)
      for (const bad of [new Uint8Array(0), new Uint8Array(64), new Uint8Array(65), new Uint8Array(66), signature.subarray(0, 64)]) {
        expect(peer.verify(self.address, digest, bad), `${bad.length}-byte signature`).toBe(false)
      }
      expect(peer.verify(self.address, digest.subarray(0, 31), signature)).toBe(false)
      expect(peer.verify(self.address, new Uint8Array(0), signature)).toBe(false)
      for (const address of ["", "not an address", "0x", self.address.slice(0, 20)]) {
        expect(peer.verify(address, digest, signature), JSON.stringify(address)).toBe(false)
      }
    })
  })
}
