/**
 * The Store port's compliance suite: every backend (simulated, sqlite) must pass it.
 * `make` returns a fresh, empty store and a `reopen` that simulates a restart after a clean sync.
 */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Store } from "./store.ts"

export interface StoreHarness {
  readonly store: Store["Service"]
  /** The same store as a restarted node sees it (everything synced must be there). */
  reopen(): Promise<Store["Service"]>
  close(): Promise<void>
}

const bytes = (s: string) => new TextEncoder().encode(s)
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

export const storeSuite = (name: string, make: () => Promise<StoreHarness>): void => {
  describe(`Store compliance: ${name}`, () => {
    it("reads back what it wrote, and nothing for a missing key", async () => {
      const h = await make()
      try {
        await run(h.store.put("a", bytes("1")))
        expect(await run(h.store.get("a"))).toEqual(bytes("1"))
        expect(await run(h.store.get("missing"))).toBeUndefined()
        await run(h.store.put("a", bytes("2")))
        expect(await run(h.store.get("a"))).toEqual(bytes("2"))
        await run(h.store.delete("a"))
        expect(await run(h.store.get("a"))).toBeUndefined()
      } finally {
        await h.close()
      }
    })

    it("lists keys by prefix in ascending order", async () => {
      const h = await make()
      try {
        for (const k of ["sign/2", "sign/10", "other", "sign/1"]) await run(h.store.put(k, bytes(k)))
        expect(await run(h.store.keys("sign/"))).toEqual(["sign/1", "sign/10", "sign/2"])
        expect(await run(h.store.keys(""))).toHaveLength(4)
      } finally {
        await h.close()
      }
    })

    it("keeps a copy: mutating the written buffer later changes nothing", async () => {
      const h = await make()
      try {
        const v = bytes("abc")
        await run(h.store.put("k", v))
        v[0] = 0
        expect(await run(h.store.get("k"))).toEqual(bytes("abc"))
      } finally {
        await h.close()
      }
    })

    it("property: after sync and a restart, the contents equal a model map", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom("put", "delete"), fc.constantFrom("a", "b", "c", "d/1", "d/2"), fc.uint8Array({ maxLength: 8 })), { maxLength: 30 }),
          async (ops) => {
            const h = await make()
            try {
              const model = new Map<string, Uint8Array>()
              for (const [op, key, value] of ops) {
                if (op === "put") {
                  await run(h.store.put(key, value))
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
              await h.close()
            }
          },
        ),
        { numRuns: 50 },
      )
    })
  })
}
