/**
 * An XState v5 clock on virtual time: `createActor(machine, { clock: new SimClock(scheduler) })`
 * makes the machine's `after` transitions and delayed `raise`/`sendTo` run as scheduler events, so a
 * one-hour timeout completes instantly and at exactly the right virtual millisecond.
 *
 * Give every delayed event an explicit `id`: without one XState names it with `Math.random`, which
 * does not change when it fires, but it puts a random name in the actor's snapshot, so persisted
 * snapshots differ between runs of the same seed. (XState also stamps each scheduled event in the
 * snapshot with a wall-clock `startedAt`; it never affects when the event fires, but it means a
 * persisted snapshot is not part of what a trace may compare.)
 */
import type { Scheduler } from "./scheduler.ts"

/** The shape XState's `clock` actor option requires (XState does not export its `Clock` type). */
export interface XStateClock {
  setTimeout(fn: (...args: any[]) => void, timeout: number): number
  clearTimeout(id: number): void
}

export class SimClock implements XStateClock {
  readonly #scheduler: Scheduler
  readonly #label: string

  /** A clock whose timers are events of `scheduler`, labelled `label` (for debugging). */
  constructor(scheduler: Scheduler, label = "xstate.timer") {
    this.#scheduler = scheduler
    this.#label = label
  }

  /**
   * Schedules `fn` after `timeout` ms of virtual time. Like the host's setTimeout, a negative or NaN
   * timeout means 0; a fractional one is rounded up, so a timer never fires early. An infinite or
   * unsafe one is rejected by the scheduler (RangeError) rather than silently fired at once.
   */
  setTimeout(fn: (...args: any[]) => void, timeout: number): number {
    const delay = timeout > 0 ? Math.ceil(timeout) : 0
    return this.#scheduler.after(delay, () => fn(), this.#label)
  }

  /** Cancels a timer; unknown or already-fired ids are ignored, as the host's clearTimeout does. */
  clearTimeout(id: number): void {
    this.#scheduler.cancel(id)
  }
}
