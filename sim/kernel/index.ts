/** The deterministic simulator kernel: virtual time, seeded randomness, and the trace of a run. */
export { Prng, toRatio, chanceOf, PROBABILITY_SCALE, type Ratio, type PrngState } from "./prng.ts"
export { Scheduler, type RunOptions, type RunResult, type StopReason, type PendingEvent } from "./scheduler.ts"
export { SimClock, type XStateClock } from "./clock.ts"
export { Trace } from "./trace.ts"
export { traceLine, canonicalJson, parseTraceLine, parseTrace, type TraceEvent, type TraceValue } from "../../runtime/services/trace.ts"
export { seedBanner, parseSeed, SeedError } from "./seed.ts"
