/**
 * Byzantine behaviours of the compute market (scenarios/README.md), as what the simulator hands the
 * market actors in place of an honest provider's work or an honest requester's habits:
 *  - `no-show` (provider): takes the jobs the ledger assigns to it and never delivers (its work never
 *    finishes): the requester reclaims the job after market.noShowTimeout, the provider pays the
 *    no-show penalty, and another provider finishes the job;
 *  - `slow` (provider): computes SLOW_FACTOR times slower than its speed: the requesters' measured
 *    latency routes around it, and a chunk slower than the no-show timeout loses the job;
 *  - `wrong-result` (provider): skips the work and delivers a made-up result hash at once: a referee's
 *    re-execution refutes it, the requester disputes, the provider is slashed and the job fails over;
 *  - `overcharge` (provider): raises its price on the ledger to OVERCHARGE_FACTOR times the price it
 *    keeps announcing in the DHT (a bait): requesters check the ledger's price before they assign;
 *  - `never-confirm` (requester): never confirms, disputes or settles a delivery: providers collect
 *    their pay themselves with `settle` once each note's dispute window is over.
 */
import { keccak256, toHex } from "../../runtime/core/crypto.ts"
import { unitResultHash, type MarketWork } from "../../runtime/actors/market/work.ts"

export const MARKET_PROVIDER_BEHAVIORS = ["no-show", "slow", "wrong-result", "overcharge"] as const
export const MARKET_REQUESTER_BEHAVIORS = ["never-confirm"] as const
export type MarketProviderBehavior = (typeof MARKET_PROVIDER_BEHAVIORS)[number]
export type MarketRequesterBehavior = (typeof MARKET_REQUESTER_BEHAVIORS)[number]
export type MarketBehavior = MarketProviderBehavior | MarketRequesterBehavior

/** How much slower a `slow` provider computes. */
export const SLOW_FACTOR = 10
/** A cheat's time per unit: it does not compute (ms). */
export const CHEAT_MS_PER_UNIT = 1
/** A `overcharge` provider's price on the ledger, as a multiple of the price it announces. */
export const OVERCHARGE_FACTOR = 3n

const utf8 = new TextEncoder()

/**
 * The simulator's statistical model of a provider's inference work: `msPerUnit` per unit, each of
 * its `capacity` jobs on its own slot (a GPU each: jobs do not slow each other; load shows in the
 * queue a requester waits behind); the honest result is `unitResultHash`, which a referee recomputes.
 * `behavior()` is read at every chunk, so a provider may turn byzantine mid-run.
 */
export const simWork = (msPerUnit: number, behavior: () => MarketBehavior | undefined): MarketWork => (task) => {
  const b = behavior()
  if (b === "no-show") return undefined
  if (b === "wrong-result") {
    return { ms: CHEAT_MS_PER_UNIT * task.units, resultHash: toHex(keccak256(utf8.encode(`wrong|${task.job}|${task.from}|${task.units}`))) }
  }
  const ms = Math.round(task.units * msPerUnit * (b === "slow" ? SLOW_FACTOR : 1))
  return { ms, resultHash: unitResultHash(task) }
}
