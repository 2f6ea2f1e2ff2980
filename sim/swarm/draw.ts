/**
 * Swarm testing (Groce et al. 2012): each seed draws a whole configuration — network size, stakes,
 * latency and loss, a fault schedule and byzantine behaviours — within the fault model the protocol
 * promises to survive: the faulty nodes (byzantine or crashing) hold less than a third of the voting
 * power, and every partition heals. The draw is a scenario file (as YAML text), so a failure is
 * written out as a file that `dai sim run` replays as is.
 */
import { stringify } from "yaml"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { powerParams, votingPowers } from "../../runtime/core/consensus/power.ts"
import { TOKEN, WAD } from "../../runtime/core/units.ts"
import { Prng } from "../kernel/index.ts"

/** How big the drawn networks and runs are: `small` for npm test, `large` for long swarms. */
export type SwarmSize = "small" | "large"

const BEHAVIORS = ["equivocate", "silent", "withhold", "delay"] as const

/** The scenario file of seed `seed`, as a plain object (what the YAML holds). */
export const drawScenario = (seed: number, size: SwarmSize = "small"): Record<string, unknown> => {
  const prng = Prng.fromSeed(`dai/swarm/${seed}`)
  const n = size === "small" ? prng.range(4, 5) : prng.range(4, 10)
  const ids = Array.from({ length: n }, (_, i) => `v${i}`)
  const stake = ids.map(() => prng.range(1, 5) * 1000)
  const latencyMin = prng.range(1, 40)
  const latency = { min: `${latencyMin}ms`, max: `${latencyMin + prng.range(0, 150)}ms` }
  const drop = prng.chance(1, 2) ? 0 : prng.range(1, 10) / 100
  const height = size === "small" ? prng.range(4, 6) : prng.range(10, 30)

  // Faulty nodes, in random order, while their voting power stays strictly below a third.
  const powers = votingPowers(
    ids.map((_, i) => ({ address: `0x${(i + 1).toString(16).padStart(40, "0")}`, stake: BigInt(stake[i]!) * TOKEN, multiplierWad: WAD, contribution: 0n })),
    powerParams(DEFAULT_PARAMS),
  )
  const powerOf = (i: number) => powers.find((v) => v.address === `0x${(i + 1).toString(16).padStart(40, "0")}`)?.power ?? 0n
  const total = powers.reduce((s, v) => s + v.power, 0n)
  const wanted = prng.range(0, Math.floor((n - 1) / 3))
  const faulty: number[] = []
  let faultyPower = 0n
  for (const i of prng.shuffle([...ids.keys()])) {
    if (faulty.length >= wanted) break
    if ((faultyPower + powerOf(i)) * 3n < total) {
      faulty.push(i)
      faultyPower += powerOf(i)
    }
  }

  const events: Array<Record<string, unknown>> = []
  for (const i of faulty) {
    if (prng.chance(1, 4)) {
      const at = prng.range(0, 20)
      events.push({ at: { time: `${at}s` }, crash: ids[i] })
      if (prng.chance(2, 3)) events.push({ at: { time: `${at + prng.range(1, 40)}s` }, restart: ids[i] })
    } else {
      const behavior = prng.pick(BEHAVIORS)
      events.push({
        at: prng.chance(1, 2) ? { time: `${prng.range(0, 15)}s` } : { height: prng.range(0, height - 1) },
        byzantine: { nodes: [ids[i]], behavior, ...(behavior === "delay" ? { delay: `${prng.range(100, 3000)}ms` } : {}) },
      })
    }
  }
  if (prng.chance(1, 3)) {
    const order = prng.shuffle([...ids])
    const cut = prng.range(1, n - 1)
    const at = prng.range(1, 30)
    events.push({ at: { time: `${at}s` }, partition: [order.slice(0, cut), order.slice(cut)] })
    events.push({ at: { time: `${at + prng.range(1, 60)}s` }, heal: true })
  }

  return {
    name: `swarm-${seed}`,
    description: `drawn by dai sim swarm from seed ${seed} (${size}): ${n} validators, ${faulty.length} faulty holding ${faultyPower} of ${total} power`,
    seed,
    network: { validators: n, stake, latency, drop },
    until: { height, maxTime: "20m" },
    events,
    expect: { safety: true, minHeight: height, honestNotSlashed: true, supplyConserved: true },
  }
}

/** The drawn scenario as a YAML file. */
export const scenarioYaml = (scenario: Record<string, unknown>): string =>
  `# ${String(scenario.description)}\n# replay: dai sim run <this file>\n${stringify(scenario, { lineWidth: 0 })}`
