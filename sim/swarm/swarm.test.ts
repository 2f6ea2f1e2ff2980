/**
 * Swarm testing in npm test: DAI_SWARM_SEEDS seeds (default 200) from DAI_SWARM_FROM (default 0) drawn
 * within the fault model must all pass. `npm run soak` runs 10,000 through `dai sim swarm` instead.
 */
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { powerParams, votingPowers } from "../../runtime/core/consensus/power.ts"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN, WAD } from "../../runtime/core/units.ts"
import { parseScenario } from "../scenario/load.ts"
import { drawScenario, scenarioYaml } from "./draw.ts"
import { runSwarm } from "./run.ts"

const SEEDS = Number(process.env.DAI_SWARM_SEEDS ?? 200)
const FROM = Number(process.env.DAI_SWARM_FROM ?? 0)
/** A seed takes about 0.1–1 s on one worker; 3 s a seed leaves room for a loaded machine. */
const TIMEOUT = 120_000 + SEEDS * 3_000

describe("swarm", () => {
  it("draws valid scenario files within the fault model (faulty power < 1/3, partitions heal), the same for the same seed", () => {
    for (let seed = 0; seed < 300; seed++) {
      const raw = drawScenario(seed)
      expect(scenarioYaml(drawScenario(seed))).toBe(scenarioYaml(raw))
      const s = parseScenario(scenarioYaml(raw), `swarm-${seed}.yaml`)
      const faulty = new Set<string>()
      let partitions = 0
      for (const e of s.events) {
        if (e.action.type === "byzantine") e.action.nodes.forEach((n) => faulty.add(n))
        if (e.action.type === "crash") faulty.add(e.action.node)
        if (e.action.type === "partition") partitions++
        if (e.action.type === "heal") partitions--
      }
      expect(partitions).toBe(0)
      const address = (i: number) => `0x${(i + 1).toString(16).padStart(40, "0")}`
      const powers = votingPowers(s.validators.map((_, i) => ({ address: address(i), stake: BigInt(s.stake[i]!) * TOKEN, multiplierWad: WAD, contribution: 0n })), powerParams(DEFAULT_PARAMS))
      const total = powers.reduce((a, v) => a + v.power, 0n)
      const bad = powers.filter((v) => faulty.has(s.validators[Number.parseInt(v.address, 16) - 1]!)).reduce((a, v) => a + v.power, 0n)
      expect(bad * 3n < total).toBe(true)
    }
  })

  it(`${SEEDS} seeds from ${FROM} pass the safety, liveness, slashing and supply checkers`, { timeout: TIMEOUT }, async () => {
    const out = mkdtempSync(join(tmpdir(), "dai-swarm-"))
    const summary = await runSwarm({ seeds: SEEDS, from: FROM, size: "small", workers: 2, out })
    const detail = summary.failures.map((f) => `seed ${f.seed}: ${f.problems.join("; ")} (${f.path})`).join("\n")
    expect(summary.failures, detail).toEqual([])
    expect(summary.outcomes).toEqual({ passed: SEEDS, correctness: 0, liveness: 0, crash: 0 })
    expect(readdirSync(out)).toEqual([])
  })
})
