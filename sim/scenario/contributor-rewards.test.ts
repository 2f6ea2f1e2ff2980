/**
 * Contribution scores feed rewards: each epoch's report, settled on the one ledger, releases the
 * epoch's emission from the reserve: `rewards.contributorShare` of it to the accounts its revealed
 * round scores name, pro rata, the rest to the stakers; a share nobody earned stays in the reserve.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { emissionFor } from "../../runtime/core/econ/index.ts"
import { mulWad, toWad, WAD } from "../../runtime/core/units.ts"
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

  it("accounts for every token: what the reserve released = the stakers' part + what scores were paid, epoch by epoch", () => {
    const s = scenario("econ-poisoning.yaml")
    const { world, paid, fees, reserveAtGenesis } = runScenarioWithWorld(s)
    const ledger = world.ledger
    const share = toWad(s.params["rewards.contributorShare"])
    let released = 0n
    let scored = 0
    for (let e = 0; ledger.epochReport(e) !== undefined; e++) {
      const r = ledger.epochReport(e)!
      const due = emissionFor(s.params, r.fromTime, r.toTime)
      const toScores = mulWad(due, share)
      const got = paid.get(e) ?? 0n
      // Paid pro rata with one floor per scored account; nothing when nobody scored.
      expect(got <= toScores && got >= toScores - BigInt(r.scored.length)).toBe(r.scored.length > 0 || got === 0n)
      if (r.scored.length > 0) scored++
      released += due - toScores + got
    }
    expect(scored).toBeGreaterThan(0)
    expect(reserveAtGenesis - ledger.economy.balanceOf(REWARD_RESERVE)).toBe(released)
    // Every signed transaction (round results, reveals) cost its validator fees.txFee: some burnt.
    expect([...fees.values()].reduce((a, b) => a + b, 0n)).toBeGreaterThan(0n)
    expect(ledger.economy.supply().burnt).toBeGreaterThan(0n)
    // Funded: what the reserve released, and the fees' share that went to the stakers.
    const feesToStakers = [...fees.values()].reduce((a, b) => a + b, 0n) - ledger.economy.supply().burnt
    expect(ledger.economy.rewardTotals().funded).toBe(released + feesToStakers)
    const owed = ledger.economy.snapshot().owed
    const poisoners = new Set(["t0", "t3", "t7"])
    const honest = s.trainers.filter((t) => !poisoners.has(t)).map((t) => owed[t]?.rewards ?? 0n)
    const bad = s.trainers.filter((t) => poisoners.has(t)).map((t) => owed[t]?.rewards ?? 0n)
    const meanHonest = honest.reduce((a, b) => a + b, 0n) / BigInt(honest.length)
    expect(meanHonest).toBeGreaterThan(0n)
    for (const x of bad) expect(x * 100n).toBeLessThan(meanHonest) // < 1 % of an honest trainer's
    const sup = ledger.economy.supply()
    expect(sup.balances + sup.bonded + sup.unbonding + sup.rewardPool + sup.insurancePool + sup.burnt).toBe(sup.minted)
  })

  it("without training the share stays in the reserve, and with contributorShare 0 the stakers get it all", () => {
    for (const share of [0.25, 0]) {
      const s = parseScenario(`name: plain\nnetwork: { validators: 4, stake: 20000000 }\nparams: { rewards.contributorShare: ${share}, consensus.epochLength: 5 }\nuntil: { height: 15 }\n`, "plain.yaml")
      const { world, reserveAtGenesis } = runScenarioWithWorld(s)
      let emitted = 0n
      for (let e = 0; world.ledger.epochReport(e) !== undefined; e++) {
        const r = world.ledger.epochReport(e)!
        emitted += emissionFor(s.params, r.fromTime, r.toTime)
      }
      expect(emitted).toBeGreaterThan(0n)
      const released = reserveAtGenesis - world.ledger.economy.balanceOf(REWARD_RESERVE)
      expect(world.ledger.economy.rewardTotals().funded).toBe(released)
      // Per epoch the stakers get the emission less the share, rounded down once per epoch.
      if (share === 0) expect(released).toBe(emitted)
      else expect(emitted - (emitted * toWad(share)) / WAD - released >= 0n && emitted - (emitted * toWad(share)) / WAD - released <= 3n).toBe(true)
    }
  })
})

/** Run a scenario in a world this test holds, to read the ledger at the end, with what each epoch's report paid to scores. */
const runScenarioWithWorld = (s: ReturnType<typeof parseScenario>) => {
  let held: ConsensusWorld | undefined
  const paid = new Map<number, bigint>()
  const fees = new Map<number, bigint>()
  const report = runScenario(s, {
    onWorld: (w) => { held = w },
    sink: (line) => {
      if (!line.includes('"committee.report"')) return
      const x = JSON.parse(line) as { kind: string; epoch: number; toContributors: string; fees: string }
      if (x.kind !== "committee.report") return
      paid.set(x.epoch, BigInt(x.toContributors))
      fees.set(x.epoch, BigInt(x.fees))
    },
  })
  expect(report.outcome).toBe("passed")
  const reserveAtGenesis = held!.genesis.allocations.find((a) => a.address === REWARD_RESERVE)!.amount
  return { report, world: held!, paid, fees, reserveAtGenesis }
}
