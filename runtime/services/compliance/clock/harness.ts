/**
 * What the clock suite's topics share. A setup returns a world's timers and its `now` (the shapes of
 * runtime/services/clock.ts) and a way to let that world's time pass: the simulator runs the events
 * due by then, the wall clock waits. The suite asserts what every clock guarantees — order, cancel,
 * never early by its own `now` — and never how long anything took.
 */
import { expect } from "vitest"
import type { Now, TimerClock } from "../../clock.ts"
import type { TestSetup } from "../test-setup.ts"

export interface ClockHarness {
  readonly clock: TimerClock
  readonly now: Now
  /** Lets `ms` of this world's time pass, running what falls due. */
  advance(ms: number): Promise<void>
}

/** How the clock suite gets a fresh clock. */
export type ClockSetup = TestSetup<ClockHarness>

export interface ClockSuiteOptions {
  /**
   * How many ms before its deadline, read on `now`, a timer may fire. The host's timers run on a
   * monotonic clock and `Date.now()` on the wall clock, each rounded to a whole ms, so they may
   * disagree by one. Default 0 (a virtual clock is exact).
   */
  readonly earlyMs?: number
  /** Most `advance` steps to wait for an expected firing before failing. Default 400. */
  readonly maxRounds?: number
  /**
   * Timers of different delays that fall due together fire in order of deadline. A virtual clock
   * promises it. The host's timers do not: Node documents no ordering guarantee, and when its event
   * loop is late, one delay's whole list of due timers runs before another's, whatever their
   * deadlines. Default false; timers of the same delay fire in the order set on every clock.
   */
  readonly deadlineOrder?: boolean
}

/** The ms one `advance` step lets pass while waiting. */
export const STEP_MS = 5

/** What every topic file gets: the setup, the suite's options with defaults, and a bounded wait. */
export interface ClockTopic {
  readonly common: ClockSetup
  readonly earlyMs: number
  readonly deadlineOrder: boolean
  /** Advances in small steps until `done()` holds; fails after `maxRounds` steps with `what` and the state `show()` reports. */
  eventually(h: ClockHarness, done: () => boolean, what: string, show?: () => unknown): Promise<void>
}

/** The topic context for the suite `name` over `common`. */
export const clockTopic = (name: string, common: ClockSetup, options: ClockSuiteOptions = {}): ClockTopic => {
  const maxRounds = options.maxRounds ?? 400
  return {
    common,
    earlyMs: options.earlyMs ?? 0,
    deadlineOrder: options.deadlineOrder ?? false,
    eventually: async (h, done, what, show = () => "") => {
      for (let round = 0; round < maxRounds && !done(); round++) await h.advance(STEP_MS)
      if (!done()) throw new Error(`${name}: ${what} did not happen within ${maxRounds} steps of ${STEP_MS} ms; state: ${JSON.stringify(show())}`)
    },
  }
}

/** A log of which timers fired, and `now` when each did. */
export const firings = (h: ClockHarness) => {
  const fired: string[] = []
  const at = new Map<string, number>()
  const set = (label: string, ms: number, then?: () => void) =>
    h.clock.setTimeout(() => {
      fired.push(label)
      at.set(label, h.now())
      then?.()
    }, ms)
  return { fired, at, set }
}

/** `n` is a whole, non-negative number of ms. */
export const expectWholeMs = (n: number, what: string): void => {
  expect(Number.isSafeInteger(n) && n >= 0, `${what}: ${n}`).toBe(true)
}
