/**
 * Effect's Clock and Random, backed by the simulator: time is the scheduler's virtual time and
 * `sleep` is a scheduler event; randomness is a stream of our seeded PRNG. Code that asks Effect for
 * the time or a random number therefore replays bit for bit under the same seed.
 */
import { Clock, Duration, Effect, Layer, Random } from "effect"
import type { Prng } from "../kernel/prng.ts"
import type { Scheduler } from "../kernel/scheduler.ts"

/** Virtual milliseconds since the start of the run. */
export const simClock = (scheduler: Scheduler): Clock.Clock => ({
  currentTimeMillisUnsafe: () => scheduler.now,
  currentTimeMillis: Effect.sync(() => scheduler.now),
  currentTimeNanosUnsafe: () => BigInt(scheduler.now) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => BigInt(scheduler.now) * 1_000_000n),
  monotonicTimeNanosUnsafe: () => BigInt(scheduler.now) * 1_000_000n,
  monotonicTimeNanos: Effect.sync(() => BigInt(scheduler.now) * 1_000_000n),
  sleep: (duration) =>
    Effect.callback<void>((resume) => {
      const id = scheduler.after(Math.max(0, Math.ceil(Duration.toMillis(duration))), () => resume(Effect.void), "effect.sleep")
      return Effect.sync(() => void scheduler.cancel(id))
    }),
})

/** Effect's Random over a PRNG stream (53-bit doubles and safe integers built from 32-bit draws). */
export const simRandom = (prng: Prng): Random.Random => ({
  nextIntUnsafe: () => (prng.u32() & 0x1f_ffff) * 2 ** 32 + prng.u32(),
  nextDoubleUnsafe: () => ((prng.u32() >>> 5) * 67_108_864 + (prng.u32() >>> 6)) / 9_007_199_254_740_992,
})

/** Both, as a layer. */
export const layerSimTime = (scheduler: Scheduler, prng: Prng) =>
  Layer.mergeAll(Layer.succeed(Clock.Clock, simClock(scheduler)), Layer.succeed(Random.Random, simRandom(prng)))
