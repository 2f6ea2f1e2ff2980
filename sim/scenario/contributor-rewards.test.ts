/**
 * Contribution scores feed rewards: `rewards.contributorShare` of every block's emission is set
 * aside and paid by revealed round scores, through consensus, on every replica.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { mulWad } from "../../runtime/core/units.ts"
import { parseScenario } from "./load.ts"
import { runScenario } from "./run.ts"
import { ConsensusWorld, REWARD_RESERVE } from "../world/world.ts"

const scenario = (file: string) => parseScenario(readFileSync(new URL(`../../scenarios/${file}`, import.meta.url), "utf8"), file)

describe("contributor rewards", () => {
  it("pays the contributors' share by revealed score: poisoners get ~nothing, supply is conserved", () => {
    const s = scenario("econ-poisoning.yaml")
    const report = runScenario(s)
    expect(report.outcome).toBe("passed")
    const m = report.metrics
    // Honest trainers earn more per token than the poisoners; their stake-weighted rewards are the same.
    expect(m.attackerExcessRoi).toBeLessThan(0)
    for (const a of m.attackers) {
      expect(a.peerReturn).toBeGreaterThan(a.roi)
      expect(a.stakeAtRisk).toBe(2_000_000)
    }
    expect(m.contributorApr).toBeGreaterThan(m.honestApr!)
  })

  it("accounts for every token: set aside = paid + pot, ≈ contributorShare of what the reserve released", () => {
    const s = scenario("econ-poisoning.yaml")
    const again = runScenarioWithApp(s)
    const app = again.app
    const paid = app.economy.snapshot().owed
    const payouts = s.trainers.map((t) => paid[t]?.rewards ?? 0n)
    const poisoners = new Set(["t0", "t3", "t7"])
    const honest = payouts.filter((_, i) => !poisoners.has(s.trainers[i]!))
    const bad = payouts.filter((_, i) => poisoners.has(s.trainers[i]!))
    const meanHonest = honest.reduce((a, b) => a + b, 0n) / BigInt(honest.length)
    expect(meanHonest).toBeGreaterThan(0n)
    for (const x of bad) expect(x * 100n).toBeLessThan(meanHonest) // < 1 % of an honest trainer's
    const totalPaid = payouts.reduce((a, b) => a + b, 0n)
    const released = again.reserveAtGenesis - app.economy.balanceOf(REWARD_RESERVE)
    expect(released).toBe(app.economy.rewardTotals().funded)
    const setAside = totalPaid + app.contributorPot
    const emitted = released + app.contributorPot
    const expected = mulWad(emitted, 250_000_000_000_000_000n)
    // One floor per block (and the pot's remainder is part of the pot).
    expect(expected - setAside).toBeGreaterThanOrEqual(0n)
    expect(expected - setAside).toBeLessThanOrEqual(BigInt(app.height))
    const sup = app.economy.supply()
    expect(sup.balances + sup.bonded + sup.unbonding + sup.rewardPool + sup.insurancePool + sup.burnt).toBe(sup.minted)
  })

  it("without training the share stays in the reserve, and with contributorShare 0 nothing is set aside", () => {
    for (const share of [0.25, 0]) {
      const s = parseScenario(`name: plain\nnetwork: { validators: 4, stake: 20000000 }\nparams: { rewards.contributorShare: ${share} }\nuntil: { height: 15 }\n`, "plain.yaml")
      const { app } = runScenarioWithApp(s)
      if (share === 0) expect(app.contributorPot).toBe(0n)
      else {
        const funded = app.economy.rewardTotals().funded
        expect(app.contributorPot).toBeGreaterThan(0n)
        // funded = 3/4 and the pot 1/4 of the emission, to a base unit per block.
        const diff = app.contributorPot * 3n - funded
        expect(diff <= 0n && diff >= -3n * BigInt(app.height)).toBe(true)
      }
    }
  })
})

/** Run a scenario in a world this test holds, to read a replica's App at the end. */
const runScenarioWithApp = (s: ReturnType<typeof parseScenario>) => {
  let held: ConsensusWorld | undefined
  const report = runScenario(s, { onWorld: (w) => { held = w } })
  expect(report.outcome).toBe("passed")
  const app = s.validators.map((v) => held!.app(v)).find((a) => a !== undefined)!
  const reserveAtGenesis = held!.genesis.allocations.find((a) => a.address === REWARD_RESERVE)!.amount
  return { report, app, reserveAtGenesis }
}
