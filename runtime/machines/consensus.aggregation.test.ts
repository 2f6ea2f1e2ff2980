/**
 * Consensus with aggregated votes (core/consensus/aggregation.ts) under random fault schedules
 * (fast-check; runs DAI_AGGREGATION_RUNS, CI default 6 or 0.3 × DAI_PROPERTY_RUNS; `npm run soak` runs 1,000; a failure prints
 * the seed and path: DAI_AGGREGATION_SEED=<seed> DAI_AGGREGATION_PATH=<path>). The same schedules as
 * consensus.property.test.ts, with one more kind of faulty validator, and every vote sent to the
 * round's aggregator (its proposer), which publishes certificates:
 *  - equivocating validators send both twin votes to the aggregator and, as aggregators, send their
 *    certificates to one half of the network only;
 *  - silent validators send nothing (as proposers, nobody knows where to send: votes go to all);
 *  - withholding validators are honest, but never publish the certificates they aggregate (a silent
 *    aggregator whose proposals arrive: the voters' fallback to all-to-all is what carries the round).
 * Checked as there: safety (no two nodes decide differently), liveness after the heal (3 more
 * heights), accountability (every evidence valid and against an equivocator; every equivocation that
 * reached an honest node that speaks — the aggregator, here — reported).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { verifyEvidence } from "../core/consensus/evidence.ts"
import { CHAIN_ID, SimNet } from "../../sim/harness/consensus.ts"
import { expectHealedRun, faultSchedule } from "./testkit.ts"
import { propertyEnv } from "../../scripts/property-env.ts"

const AGGREGATION = propertyEnv("AGGREGATION", Math.max(1, Math.round(Number(process.env.DAI_PROPERTY_RUNS ?? 20) * 0.3)))

type Kind = "equivocate" | "silent" | "withhold" | "honest"

const schedule = faultSchedule<Kind>(["equivocate", "silent", "withhold", "withhold", "honest", "honest"])

const indices = (kinds: readonly Kind[], kind: Kind) => kinds.flatMap((k, i) => (k === kind ? [i] : []))

describe("consensus with aggregated votes under random faults", () => {
  it("is safe, live after the heal, and accountable, with silent, withholding and byzantine aggregators", () => {
    fc.assert(
      fc.property(schedule, (s) => {
        AGGREGATION.tick()
        const byzantine = indices(s.kinds, "equivocate")
        const net = new SimNet({
          seed: s.seed,
          powers: s.powers.map(BigInt),
          byzantine,
          silent: indices(s.kinds, "silent"),
          withholding: indices(s.kinds, "withhold"),
          votes: "aggregated",
          healAt: s.healAt,
          drop: { num: s.drop, den: 100 },
          ...(s.partition === undefined ? {} : { partition: s.partition }),
          latency: { min: s.latencyMin, max: s.latencyMin + s.latencySpread },
        }).start()
        expectHealedRun(net, { healAt: s.healAt, byzantine, everyEquivocatorReported: false })
      }),
      AGGREGATION.params,
    )
  }, AGGREGATION.timeout(4_000))

  it("an equivocator's twin votes reach its round's aggregator, which reports it (example)", () => {
    for (const seed of [1, 2, 3]) {
      const net = new SimNet({ seed, powers: [1n, 1n, 1n, 1n], byzantine: [0], votes: "aggregated", latency: { min: 5, max: 20 } }).start()
      net.run(30_000, () => net.accused.size > 0)
      expect([...net.accused], `seed ${seed}`).toEqual([net.nodes[0]!.address])
      for (const n of net.honestNodes()) for (const e of n.evidence) expect(verifyEvidence(e, CHAIN_ID, net.validatorsAt(1))).toEqual({ valid: true })
    }
  })

  it("the fallback alone keeps a chain live when an aggregator withholds every certificate (no periodic gossip)", () => {
    // Gossip every 10⁹ ms: nothing but the aggregated path and its fallback carries votes.
    const net = new SimNet({ seed: 9, powers: [1n, 1n, 1n, 1n], withholding: [1], votes: "aggregated", gossipInterval: 1e9, latency: { min: 5, max: 30 } }).start()
    net.run(120_000, () => net.nodes.every((n) => n.decidedHeight >= 12))
    expect(net.safetyViolations).toEqual([])
    for (const n of net.nodes) expect(n.decidedHeight, n.name).toBeGreaterThanOrEqual(12)
  })

  it("sends far fewer messages per height than gossip (10 honest validators)", () => {
    const count = (votes: "aggregated" | "gossip") => {
      const net = new SimNet({ seed: 4, powers: Array.from({ length: 10 }, () => 1n), votes, gossipInterval: 1e9, latency: { min: 10, max: 80 } }).start()
      net.run(120_000, () => net.nodes.every((n) => n.decidedHeight >= 5))
      expect(net.safetyViolations).toEqual([])
      return net.messages / Math.min(...net.nodes.map((n) => n.decidedHeight))
    }
    const aggregated = count("aggregated")
    const gossip = count("gossip")
    // This harness's gossip floods (every receiver relays every new message: ≈ 2n³); aggregated: the proposal
    // (flooded too), 2 × (n − 1) votes to the aggregator, ≈ 2 certificate batches × (n − 1) back, and the
    // status pings (n² per height here). The node's own count (bench/consensus.bench.ts) has neither flood.
    expect(aggregated, `aggregated ${aggregated.toFixed(0)} vs gossip ${gossip.toFixed(0)} per height`).toBeLessThan(gossip / 5)
  })
})
