import { Clock, Effect, Fiber, Random } from "effect"
import { describe, expect, it } from "vitest"
import { Prng } from "../kernel/prng.ts"
import { Scheduler } from "../kernel/scheduler.ts"
import { layerSimTime } from "./effect-clock.ts"

describe("Effect clock and random on the simulator", () => {
  it("reads virtual time and sleeps on the scheduler", () => {
    const scheduler = new Scheduler()
    const program = Effect.gen(function* () {
      const t0 = yield* Clock.currentTimeMillis
      yield* Effect.sleep("1 hour")
      const t1 = yield* Clock.currentTimeMillis
      return [t0, t1]
    }).pipe(Effect.provide(layerSimTime(scheduler, Prng.fromSeed(1))))
    const fiber = Effect.runFork(program)
    // Nothing happens in wall time; the hour passes when the scheduler runs.
    scheduler.runUntil({})
    expect(scheduler.now).toBe(3_600_000)
    return Effect.runPromise(Fiber.join(fiber)).then((times) => expect(times).toEqual([0, 3_600_000]))
  })

  it("draws the same random numbers for the same seed", () => {
    const draw = (seed: number) =>
      Effect.runSync(
        Effect.all([Random.next, Random.nextInt, Random.nextIntBetween(1, 6)]).pipe(
          Effect.provide(layerSimTime(new Scheduler(), Prng.fromSeed(seed))),
        ),
      )
    expect(draw(5)).toEqual(draw(5))
    expect(draw(5)).not.toEqual(draw(6))
    const [u] = draw(9)
    expect(u).toBeGreaterThanOrEqual(0)
    expect(u).toBeLessThan(1)
  })
})
