/**
 * The clock's compliance suite: every world's timers and `now` (the simulator's virtual clock, the
 * wall clock, Effect's Clock on the simulator) must pass it. One file per topic; `clockSuite` runs
 * them all against the clocks `common` sets up.
 */
import { describe } from "vitest"
import { clockTopic, type ClockSetup, type ClockSuiteOptions } from "./harness.ts"
import { nowTests } from "./now.ts"
import { timersTests } from "./timers.ts"

export type { ClockHarness, ClockSetup, ClockSuiteOptions } from "./harness.ts"

/** Runs every clock topic against `common`, under `Clock compliance: <name>`. */
export const clockSuite = (name: string, common: ClockSetup, options: ClockSuiteOptions = {}): void => {
  const topic = clockTopic(name, common, options)
  describe(`Clock compliance: ${name}`, () => {
    timersTests(topic)
    nowTests(topic)
  })
}
