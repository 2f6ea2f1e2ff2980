/**
 * The wall clock and the way effects run in a real node. Adapters are the only code that touches
 * host timers and time; the node runner and the machines get them from here (the simulator passes
 * its virtual clock and a synchronous `run` instead).
 */
import { Cause, Effect, Fiber } from "effect"
import type { TimerClock } from "../services/clock.ts"

/**
 * Host timers, for XState's `clock` and the node's own timers. A deadline already past (a negative
 * delay: the time left until a moment that went by) fires at once, as the simulator's clock does,
 * without Node's TimeoutNegativeWarning.
 */
export const wallClock: TimerClock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof globalThis.setTimeout>),
}

/** Unix time in ms. */
export const wallNow = (): number => Date.now()

/** How a real node runs an effect: as its own fiber, so asynchronous work (a libp2p publish) does not block the caller. */
export interface FiberRunner {
  /** Start `effect` now: it runs synchronously up to its first asynchronous step, then in the background. */
  readonly run: (effect: Effect.Effect<void>) => void
  /** Effects still running. */
  readonly running: number
  /** Interrupt every effect still running (at shutdown, before the resources they use are closed). */
  readonly interruptAll: Effect.Effect<void>
}

/** Default failure report: the effect's cause on Effect's logger. */
export const logFailure = (cause: Cause.Cause<unknown>): void => {
  Effect.runFork(Effect.logError("a node effect failed", Cause.pretty(cause)))
}

/**
 * A runner whose effects run as fibers. A failure or defect is not lost: it goes to `onFailure`
 * (default: logged); an interruption (shutdown) is not a failure.
 */
export const makeFiberRunner = (onFailure: (cause: Cause.Cause<unknown>) => void = logFailure): FiberRunner => {
  const fibers = new Set<Fiber.Fiber<void, unknown>>()
  const report = (cause: Cause.Cause<unknown>): void => {
    if (Cause.hasInterruptsOnly(cause)) return
    try {
      onFailure(cause)
    } catch {
      // A reporter must not be able to break the node.
    }
  }
  return {
    run: (effect) => {
      const fiber = Effect.runFork(effect.pipe(Effect.catchCause((cause) => Effect.sync(() => report(cause)))))
      if (fiber.pollUnsafe() !== undefined) return // finished synchronously: nothing to track
      fibers.add(fiber)
      fiber.addObserver(() => fibers.delete(fiber))
    },
    get running() {
      return fibers.size
    },
    interruptAll: Effect.suspend(() => Fiber.interruptAll([...fibers])),
  }
}
