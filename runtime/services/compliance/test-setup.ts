/**
 * How a compliance suite gets the implementation it checks (js-libp2p's `interface-compliance-tests`
 * habit): the caller hands the suite a `TestSetup`, the suite calls `setup()` for a fresh instance in
 * each test and `teardown()` after it. A suite therefore never knows which world it runs in, and a
 * test that fails half-way still releases what it opened.
 */

/** Builds the thing under test and releases it. */
export interface TestSetup<T, SetupArgs = void> {
  /** A fresh instance (a suite may call it several times in one test, e.g. once per property run). */
  setup(args: SetupArgs): Promise<T>
  /** Releases everything `setup` built since the last `teardown` (nothing open: a no-op). */
  teardown(): Promise<void>
}

/** Registers how to release something `open` built; releases run in reverse order at `teardown`. */
export type Cleanup = (release: () => Promise<void> | void) => void

/**
 * A TestSetup from an `open` function that registers its own cleanups, so a caller writes only how
 * to build one instance and what to close. Every release runs even when an earlier one fails; the
 * first failure is rethrown after all of them ran.
 */
export const testSetup = <T, SetupArgs = void>(open: (args: SetupArgs, cleanup: Cleanup) => Promise<T>): TestSetup<T, SetupArgs> => {
  let releases: (() => Promise<void> | void)[] = []
  return {
    setup: (args) => open(args, (release) => void releases.push(release)),
    teardown: async () => {
      const pending = releases.reverse()
      releases = []
      let failure: { readonly error: unknown } | undefined
      for (const release of pending) {
        try {
          await release()
        } catch (error) {
          failure ??= { error }
        }
      }
      if (failure !== undefined) throw failure.error
    },
  }
}
