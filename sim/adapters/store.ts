/** The Store port over the simulated per-node store (loses unsynced writes when its node crashes). */
import { Effect } from "effect"
import { Store } from "../../runtime/services/store.ts"
import type { SimStore } from "./sim-store.ts"

export const makeSimStorePort = (store: SimStore): Store["Service"] =>
  Store.of({
    get: (key) => Effect.sync(() => store.get(key)),
    put: (key, value) => Effect.sync(() => store.put(key, value)), // SimStore.put copies
    putParts: (key, parts) => Effect.sync(() => store.putParts(key, parts)), // copies all but sealed parts
    delete: (key) => Effect.sync(() => void store.delete(key)),
    keys: (prefix) => Effect.sync(() => store.keys(prefix)),
    sync: Effect.sync(() => store.sync()),
  })
