/**
 * Timers longer than a host timer can hold. Node's setTimeout keeps at most 2^31 − 1 ms (about 24.8
 * days) and fires a longer one at once (TimeoutOverflowWarning); a year's lock or a 30-day vote
 * would then end immediately. This clock waits in steps of at most that, so a machine's delay means
 * what it says on any clock it is given.
 */
import type { TimerClock } from "../services/clock.ts"

/** The longest delay a host timer holds (ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** `clock`, with delays of any length. */
export const longTimers = (clock: TimerClock, max: number = MAX_TIMER_MS): TimerClock => ({
  setTimeout: (fn, ms) => {
    const timer: { id: unknown } = { id: undefined }
    const arm = (left: number) => {
      timer.id = clock.setTimeout(() => (left > max ? arm(left - max) : fn()), Math.min(left, max))
    }
    arm(ms)
    return timer
  },
  clearTimeout: (timer) => clock.clearTimeout((timer as { id: unknown }).id),
})
