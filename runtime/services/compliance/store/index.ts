/**
 * The Store port's compliance suite: every backend (simulated, sqlite) must pass it. One file per
 * topic; `storeSuite` runs them all against the stores `common` sets up.
 */
import { describe } from "vitest"
import { durabilityTests } from "./durability.ts"
import type { StoreSetup } from "./harness.ts"
import { readsWritesTests } from "./reads-writes.ts"

export type { StoreHarness, StoreSetup } from "./harness.ts"

/** Runs every Store topic against `common`, under `Store compliance: <name>`. */
export const storeSuite = (name: string, common: StoreSetup): void => {
  describe(`Store compliance: ${name}`, () => {
    readsWritesTests(common)
    durabilityTests(common)
  })
}
