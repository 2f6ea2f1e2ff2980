import { Effect } from "effect"
import { expect, it } from "vitest"
import { storeSuite } from "../../runtime/services/compliance/store/index.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { makeSimStorePort } from "./store.ts"
import { SimStore } from "./sim-store.ts"

storeSuite("simulated", testSetup(async () => {
  const sim = new SimStore()
  return {
    store: makeSimStorePort(sim),
    // A restart after a sync: a crash only drops unsynced writes, so this shows what survived.
    reopen: async () => {
      sim.crash()
      return makeSimStorePort(sim)
    },
  }
}))

it("the simulated store port forgets unsynced writes on a crash", () => {
  const sim = new SimStore()
  const port = makeSimStorePort(sim)
  Effect.runSync(port.put("signed", new Uint8Array([1])))
  Effect.runSync(port.sync)
  Effect.runSync(port.put("signed", new Uint8Array([2])))
  sim.crash()
  expect(Effect.runSync(port.get("signed"))).toEqual(new Uint8Array([1]))
})
