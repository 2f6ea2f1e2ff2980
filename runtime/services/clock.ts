/**
 * Time as a node sees it: timers for XState's `clock` and the node's own waits, the current time,
 * and the way an effect is run. The real node takes them from the wall clock and runs effects as
 * fibers (runtime/adapters/clock.ts); the simulator passes its virtual clock and runs effects
 * synchronously (sim/kernel/clock.ts). Actors never know which.
 */
import type { Effect } from "effect"

/** The timer XState and the node use: the wall clock or the simulator's. */
export interface TimerClock {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
}

/** Current time in ms (Unix time on a real node, virtual time in the simulator). */
export type Now = () => number

/** Runs an effect in a world: synchronously in the simulator, as its own fiber on a real node. */
export type EffectRunner = (effect: Effect.Effect<void>) => void
