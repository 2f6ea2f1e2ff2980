/**
 * The Network port's compliance suite: every backend (simulated, libp2p) must pass it. One file per
 * topic; `networkSuite` runs them all against the networks `common` sets up (harness.ts says what a
 * setup provides and how `settle()` is used).
 */
import { describe } from "vitest"
import { directTests } from "./direct.ts"
import { faultsTests } from "./faults.ts"
import { gossipTests } from "./gossip.ts"
import { networkTopic, type NetworkSetup, type NetworkSuiteOptions } from "./harness.ts"
import { payloadsTests } from "./payloads.ts"
import { peersTests } from "./peers.ts"
import { providersTests } from "./providers.ts"
import { subscriptionsTests } from "./subscriptions.ts"

export type { NetworkHarness, NetworkSetup, NetworkSetupArgs, NetworkSuiteOptions } from "./harness.ts"

/** Runs every Network topic against `common`, under `Network compliance: <name>`. */
export const networkSuite = (name: string, common: NetworkSetup, options: NetworkSuiteOptions = {}): void => {
  const topic = networkTopic(name, common, options)
  describe(`Network compliance: ${name}`, () => {
    gossipTests(topic)
    directTests(topic)
    subscriptionsTests(topic)
    payloadsTests(topic)
    peersTests(topic)
    faultsTests(topic)
    providersTests(topic)
  })
}
