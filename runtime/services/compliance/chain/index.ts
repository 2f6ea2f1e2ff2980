/**
 * The Chain port's compliance suite: every backend (the simulated ledger, the EVM contracts) must
 * pass it. One file per topic; `chainSuite` runs them all against the chains `common` sets up (see
 * harness.ts for what a setup must provide). Supply is checked to be conserved after every step.
 */
import { describe } from "vitest"
import { governanceTests } from "./governance.ts"
import type { ChainSetup } from "./harness.ts"
import { refusalsTests } from "./refusals.ts"
import { rewardsTests } from "./rewards.ts"
import { slashingTests } from "./slashing.ts"
import { stakingTests } from "./staking.ts"
import { tokenTests } from "./token.ts"
import { treasuryTests } from "./treasury.ts"

export type { ChainHarness, ChainSetup } from "./harness.ts"

/** Runs every Chain topic against `common`, under `Chain compliance: <name>`. */
export const chainSuite = (name: string, common: ChainSetup): void => {
  describe(`Chain compliance: ${name}`, () => {
    tokenTests(common)
    refusalsTests(common)
    stakingTests(common)
    rewardsTests(common)
    slashingTests(common)
    governanceTests(common)
    treasuryTests(common)
  })
}
