/** Store compliance, reads and writes: what was written reads back, keys list by prefix, values are copied. */
import { afterEach, describe, expect, it } from "vitest"
import { bytes, run, type StoreSetup } from "./harness.ts"

/** The read/write tests, each on a fresh store from `common`. */
export const readsWritesTests = (common: StoreSetup): void => {
  describe("reads and writes", () => {
    afterEach(() => common.teardown())

    it("reads back what it wrote, and nothing for a missing key", async () => {
      const h = await common.setup()
      await run(h.store.put("a", bytes("1")))
      expect(await run(h.store.get("a"))).toEqual(bytes("1"))
      expect(await run(h.store.get("missing"))).toBeUndefined()
      await run(h.store.put("a", bytes("2")))
      expect(await run(h.store.get("a"))).toEqual(bytes("2"))
      await run(h.store.delete("a"))
      expect(await run(h.store.get("a"))).toBeUndefined()
    })

    it("lists keys by prefix in ascending order", async () => {
      const h = await common.setup()
      for (const k of ["sign/2", "sign/10", "other", "sign/1"]) await run(h.store.put(k, bytes(k)))
      expect(await run(h.store.keys("sign/"))).toEqual(["sign/1", "sign/10", "sign/2"])
      expect(await run(h.store.keys(""))).toHaveLength(4)
    })

    it("putParts stores the concatenation of the parts, as put of it would", async () => {
      const h = await common.setup()
      await run(h.store.putParts("a", [bytes("ab"), bytes(""), bytes("cd")]))
      expect(await run(h.store.get("a"))).toEqual(bytes("abcd"))
      await run(h.store.putParts("a", [bytes("x")]))
      expect(await run(h.store.get("a"))).toEqual(bytes("x"))
      await run(h.store.putParts("a", []))
      expect(await run(h.store.get("a"))).toEqual(new Uint8Array(0))
      expect(await run(h.store.keys(""))).toEqual(["a"])
      // The parts are copied: changing them later changes nothing.
      const part = bytes("yz")
      await run(h.store.putParts("b", [bytes("w"), part]))
      part[0] = 0
      expect(await run(h.store.get("b"))).toEqual(bytes("wyz"))
    })

    it("keeps a copy: mutating the written buffer later changes nothing", async () => {
      const h = await common.setup()
      const v = bytes("abc")
      await run(h.store.put("k", v))
      v[0] = 0
      expect(await run(h.store.get("k"))).toEqual(bytes("abc"))
    })
  })
}
