/** Store compliance, durability: what was synced is there after a restart, equal to a model map. */
import fc from "fast-check"
import { afterEach, describe, expect, it } from "vitest"
import { run, type StoreSetup } from "./harness.ts"

/** The durability tests: a fresh store from `common` per property run. */
export const durabilityTests = (common: StoreSetup): void => {
  describe("durability", () => {
    afterEach(() => common.teardown())

    it("property: after sync and a restart, the contents equal a model map", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom("put", "putParts", "delete"), fc.constantFrom("a", "b", "c", "d/1", "d/2"), fc.uint8Array({ maxLength: 8 }), fc.nat(8)), { maxLength: 30 }),
          async (ops) => {
            const h = await common.setup()
            try {
              const model = new Map<string, Uint8Array>()
              for (const [op, key, value, cut] of ops) {
                if (op === "put") {
                  await run(h.store.put(key, value))
                  model.set(key, value)
                } else if (op === "putParts") {
                  const at = Math.min(cut, value.length)
                  await run(h.store.putParts(key, [value.subarray(0, at), value.subarray(at)]))
                  model.set(key, value)
                } else {
                  await run(h.store.delete(key))
                  model.delete(key)
                }
              }
              await run(h.store.sync)
              const after = await h.reopen()
              expect(await run(after.keys(""))).toEqual([...model.keys()].sort())
              for (const [k, v] of model) expect(await run(after.get(k))).toEqual(v)
            } finally {
              await common.teardown()
            }
          },
        ),
        { numRuns: 50 },
      )
    })
  })
}
