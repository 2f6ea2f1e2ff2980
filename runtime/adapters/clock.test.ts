/** The wall clock: the clock's compliance suite on the host's timers and Date.now(). */
import { clockSuite } from "../services/compliance/clock/index.ts"
import { testSetup } from "../services/compliance/test-setup.ts"
import { wallClock, wallNow } from "./clock.ts"

/** Waits `ms` on the host's own timers (the world's time passing is real time here). */
const sleep = (ms: number) => new Promise<void>((resolve) => globalThis.setTimeout(resolve, ms))

// Timers still pending when a test ends are cleared, so none fires into the next test.
clockSuite("wall clock", testSetup(async (_, cleanup) => {
  const pending = new Set<unknown>()
  cleanup(() => pending.forEach((id) => wallClock.clearTimeout(id)))
  return {
    clock: {
      setTimeout: (fn: () => void, ms: number) => {
        const id = wallClock.setTimeout(() => {
          pending.delete(id)
          fn()
        }, ms)
        pending.add(id)
        return id
      },
      clearTimeout: (id: unknown) => {
        pending.delete(id)
        wallClock.clearTimeout(id)
      },
    },
    now: wallNow,
    advance: sleep,
  }
}), { earlyMs: 1 })
