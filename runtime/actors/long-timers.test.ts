/** Long delays wait in steps a host timer can hold, fire exactly on time, and can be cancelled at any step. */
import { describe, expect, it } from "vitest"
import { Scheduler, SimClock } from "../../sim/kernel/index.ts"
import type { TimerClock } from "../services/clock.ts"
import { longTimers, MAX_TIMER_MS } from "./long-timers.ts"

const DAY = 86_400_000

const recording = (scheduler: Scheduler) => {
  const sim = new SimClock(scheduler)
  const delays: number[] = []
  const clock: TimerClock = { setTimeout: (fn, ms) => (delays.push(ms), sim.setTimeout(fn, ms)), clearTimeout: (id) => sim.clearTimeout(id as number) }
  return { clock: longTimers(clock), delays }
}

describe("long timers", () => {
  it("fire a 365-day delay exactly on time, never asking the clock for more than a host timer holds", () => {
    const scheduler = new Scheduler(0)
    const { clock, delays } = recording(scheduler)
    let firedAt: number | undefined
    clock.setTimeout(() => (firedAt = scheduler.now), 365 * DAY)
    scheduler.runUntil({ time: 400 * DAY })
    expect(firedAt).toBe(365 * DAY)
    expect(Math.max(...delays)).toBe(MAX_TIMER_MS)
    expect(delays.length).toBe(Math.ceil((365 * DAY) / MAX_TIMER_MS))
  })

  it("a short delay is one timer; a long one cancelled after some steps never fires", () => {
    const scheduler = new Scheduler(0)
    const { clock, delays } = recording(scheduler)
    let fired = 0
    clock.setTimeout(() => fired++, 1_000)
    expect(delays).toEqual([1_000])
    const long = clock.setTimeout(() => fired++, 60 * DAY)
    scheduler.runUntil({ time: 30 * DAY })
    clock.clearTimeout(long)
    scheduler.runUntil({ time: 90 * DAY })
    expect(fired).toBe(1)
  })
})
