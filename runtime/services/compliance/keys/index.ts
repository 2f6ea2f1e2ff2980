/**
 * The Keys port's compliance suite: every implementation (the simulator's seeded keys under either
 * signature scheme, a raw private key, a key unlocked from the keystore) must pass it. One file per
 * topic; `keysSuite` runs them all against the worlds `common` sets up.
 */
import { describe } from "vitest"
import { errorsTests } from "./errors.ts"
import type { KeysSetup, KeysSuiteOptions } from "./harness.ts"
import { identityTests } from "./identity.ts"
import { signingTests } from "./signing.ts"

export type { KeysHarness, KeysSetup, KeysSuiteOptions } from "./harness.ts"

/** Runs every Keys topic against `common`, under `Keys compliance: <name>`. */
export const keysSuite = (name: string, common: KeysSetup, options: KeysSuiteOptions = {}): void => {
  describe(`Keys compliance: ${name}`, () => {
    identityTests(common)
    signingTests(common, options)
    errorsTests(common)
  })
}
