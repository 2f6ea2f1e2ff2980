import { Clock, Effect, Fiber, Random } from "effect"
import { describe, expect, it } from "vitest"
import { clockSuite } from "../../runtime/services/compliance/clock/index.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { Prng } from "../kernel/prng.ts"
import { Scheduler } from "../kernel/scheduler.ts"
import { layerSimTime, simClock } from "./effect-clock.ts"

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

/** Lets forked fibers start, resume or stop: Effect runs them from its own queue, not inside our call. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

// The clock's suite on Effect's Clock over the scheduler, as code that sleeps through Effect sees it:
// a timer is a fiber that sleeps and then calls back; clearing it interrupts the fiber.
clockSuite("simulator (Effect's Clock on the scheduler)", testSetup(async (_, cleanup) => {
  const scheduler = new Scheduler()
  const clock = simClock(scheduler)
  const fibers = new Set<Fiber.Fiber<void>>()
  cleanup(() => Effect.runPromise(Fiber.interruptAll([...fibers])))
  return {
    clock: {
      setTimeout: (fn: () => void, ms: number) => {
        const fiber = Effect.runFork(Effect.sleep(Math.max(0, ms)).pipe(Effect.andThen(Effect.sync(fn)), Effect.provideService(Clock.Clock, clock)))
        fibers.add(fiber)
        return fiber
      },
      clearTimeout: (fiber: unknown) => void Effect.runFork(Fiber.interrupt(fiber as Fiber.Fiber<void>)),
    },
    now: () => clock.currentTimeMillisUnsafe(),
    advance: async (ms: number) => {
      await turn()
      scheduler.runUntil({ time: scheduler.now + ms })
      await turn()
    },
  }
}), { deadlineOrder: true })
