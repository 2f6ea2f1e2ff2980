/**
 * Byzantine behaviours of a language-model stage in the simulator (scenarios/README.md), as what the
 * statistical stage server (sim/world/lm-server.ts) does in place of an honest stage:
 *  - `wrong-stage`: returns wrong activations (an output digest no honest execution of its inputs gives)
 *    at once, without computing; the notes it delivers carry their hash. A referee's re-execution of
 *    that stage alone (its inputs, as the client sent them) refutes a checked note: the stage is slashed
 *    (market.wrongResultSlash), its refuted notes are never paid, and the client abandons the
 *    generation it spoiled and generates it again on a route without it;
 *  - the market's `slow` (LM_SLOW_FACTOR times its benchmarked time: the client's measured latency
 *    routes around it) and `no-show` (takes sessions, never answers a forward: the client's timeout
 *    fails it over, replaying the session's inputs to another server of the range);
 *  - the market's requester behaviour `never-confirm`: the client never confirms, checks or disputes;
 *    the stages settle their notes themselves once each note's dispute window is over.
 */
import type { MarketBehavior } from "./market.ts"

export const LM_STAGE_BEHAVIORS = ["wrong-stage"] as const
export type LmStageBehavior = (typeof LM_STAGE_BEHAVIORS)[number]
/** The market behaviours that mean something for a pipeline stage or its client. */
export const LM_MARKET_BEHAVIORS = ["slow", "no-show", "never-confirm"] as const satisfies readonly MarketBehavior[]
export type LmBehavior = LmStageBehavior | (typeof LM_MARKET_BEHAVIORS)[number]

/** How much slower a `slow` stage computes than the bench's figure: an overloaded CPU shared with other work. */
export const LM_SLOW_FACTOR = 50
