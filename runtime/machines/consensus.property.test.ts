/**
 * Consensus under random fault schedules (fast-check; runs DAI_CONSENSUS_RUNS, CI default 20 or
 * DAI_PROPERTY_RUNS; a failure prints the seed and path that replay it: DAI_CONSENSUS_SEED=<seed>
 * DAI_CONSENSUS_PATH=<path>; scripts/property-env.ts). Each run draws a network of 4–7
 * validators with random powers, faulty validators holding less than 1/3 of the power (each either
 * equivocating or silent), random latencies, and until a random heal time random message loss and
 * possibly a partition. Then:
 *  - safety: no two honest nodes ever decide different blocks at one height;
 *  - liveness: after the heal every honest node decides at least 3 more heights than the highest
 *    height any node had reached at the heal;
 *  - accountability: every reported evidence is valid and names an equivocator, never an honest or
 *    a merely silent validator; every equivocation that reached an honest node able to prove it (both
 *    conflicting votes handed to the consensus of one honest node that speaks, at the height it works
 *    on: `SimNet.exposed`) is reported, within a minute of virtual time after the heal.
 * Not every equivocation can be proved: twin votes that reach only silent or byzantine nodes, or that
 * arrive after the honest nodes have decided that height (a lagging equivocator whose votes no
 * longer count), are dropped unseen, as a Tendermint node drops votes for past heights. Soak seed
 * 1796358205 found both kinds of schedule; an example below pins down that an equivocator voting in
 * step with the others is always reported.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { SimNet } from "../../sim/harness/consensus.ts"
import { expectHealedRun, faultSchedule } from "./testkit.ts"
import { propertyEnv } from "../../scripts/property-env.ts"

// One seed for the whole property, printed first, so that even a run that hangs can be replayed.
const CONSENSUS = propertyEnv("CONSENSUS", Number(process.env.DAI_PROPERTY_RUNS ?? 20))

/** A fault schedule within the fault model (faulty power < 1/3, partitions heal). */
const schedule = faultSchedule(["equivocate", "silent", "honest", "honest"])

describe("consensus under random faults", () => {
  it("is safe, live after the heal, and accountable", () => {
    fc.assert(
      fc.property(schedule, (s) => {
        const byzantine = s.kinds.flatMap((k, i) => (k === "equivocate" ? [i] : []))
        const silent = s.kinds.flatMap((k, i) => (k === "silent" ? [i] : []))
        const net = new SimNet({
          seed: s.seed,
          powers: s.powers.map(BigInt),
          byzantine,
          silent,
          healAt: s.healAt,
          drop: { num: s.drop, den: 100 },
          ...(s.partition === undefined ? {} : { partition: s.partition }),
          latency: { min: s.latencyMin, max: s.latencyMin + s.latencySpread },
        }).start()
        expectHealedRun(net, { healAt: s.healAt, byzantine, everyEquivocatorReported: true })
      }),
      CONSENSUS.params,
    )
  }, CONSENSUS.timeout(3_000)) // runs take about half a second each

  it("reports an equivocator that votes in step with the others (example)", () => {
    for (const seed of [1, 2, 3]) {
      const net = new SimNet({ seed, powers: [1n, 1n, 1n, 1n], byzantine: [0], latency: { min: 5, max: 20 } }).start()
      net.run(30_000, () => net.accused.size > 0)
      expect([...net.exposed], `seed ${seed}`).toEqual([net.nodes[0]!.address])
      expect([...net.accused], `seed ${seed}`).toEqual([net.nodes[0]!.address])
    }
  })
})
