/** Keys compliance, identity: an address per key, distinct between nodes and stable across a restart. */
import { afterEach, describe, expect, it } from "vitest"
import { digestOf, type KeysSetup, sign } from "./harness.ts"

/** The identity tests, each on a fresh world from `common`. */
export const identityTests = (common: KeysSetup): void => {
  describe("identity", () => {
    afterEach(() => common.teardown())

    it("has a 20-byte address in 0x-prefixed lowercase hex, different from a peer's", async () => {
      const { self, peer } = await common.setup()
      for (const k of [self, peer]) expect(k.address).toMatch(/^0x[0-9a-f]{40}$/)
      expect(self.address).not.toBe(peer.address)
    })

    it("keeps its address across a restart, and what it signed before still verifies after", async () => {
      const { self, peer, reload } = await common.setup()
      const digest = digestOf("signed before the restart")
      const before = sign(self, digest)
      const again = await reload()
      expect(again.address).toBe(self.address)
      expect(again.verify(self.address, digest, before)).toBe(true)
      const after = sign(again, digestOf("signed after the restart"))
      expect(peer.verify(self.address, digestOf("signed after the restart"), after)).toBe(true)
    })
  })
}
