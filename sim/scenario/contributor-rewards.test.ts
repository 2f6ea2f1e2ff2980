/**
 * Contribution scores feed rewards: each epoch's report, settled on the one ledger, releases the
 * epoch's emission from the reserve: `rewards.contributorShare` of it to the accounts its revealed
 * round scores name, pro rata, the rest to the stakers; a share nobody earned stays in the reserve.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { mulWad, toWad } from "../../runtime/core/units.ts"
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
    let toStakers = 0n
    let scored = 0
    expect(ledger.settlements.length).toBeGreaterThan(0)
    for (const { epoch, settlement: { emission: e } } of ledger.settlements) {
      const r = ledger.economy.epochReport(epoch)!.report
      // The pot is the contributors' share of what was due; paid pro rata with one floor per scored account; nothing when nobody scored.
      expect(e.pot).toBe(mulWad(e.capped, share))
      expect(e.toContributors <= e.pot && e.toContributors >= e.pot - BigInt(r.scored.length)).toBe(r.scored.length > 0 || e.toContributors === 0n)
      expect(paid.get(epoch)).toBe(e.toContributors)
      if (r.scored.length > 0) scored++
      released += e.released
      toStakers += e.toStakers
    }
    expect(scored).toBeGreaterThan(0)
    expect(reserveAtGenesis - ledger.economy.balanceOf(REWARD_RESERVE)).toBe(released)
    // Every signed transaction (round results, reveals) cost its validator fees.txFee, paid from its fee deposit: some burnt.
    const feesPaid = [...fees.values()].reduce((a, b) => a + b, 0n)
    expect(feesPaid).toBeGreaterThan(0n)
    expect(ledger.economy.supply().burnt).toBeGreaterThan(0n)
    // Funded to the stakers: the emission's stakers' part, and the fees' share that was not burnt.
    expect(ledger.economy.rewardTotals().funded).toBe(toStakers + feesPaid - ledger.economy.supply().burnt)
    const poisoners = new Set(["t0", "t3", "t7"])
    const honest = s.trainers.filter((t) => !poisoners.has(t)).map((t) => ledger.contributorPaid(t))
    const bad = s.trainers.filter((t) => poisoners.has(t)).map((t) => ledger.contributorPaid(t))
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
      let capped = 0n
      for (const { settlement: { emission: e } } of world.ledger.settlements) {
        capped += e.capped
        expect(e.toContributors).toBe(0n)
        expect(e.toStakers).toBe(e.capped - mulWad(e.capped, toWad(share)))
      }
      expect(capped).toBeGreaterThan(0n)
      const released = reserveAtGenesis - world.ledger.economy.balanceOf(REWARD_RESERVE)
      expect(world.ledger.economy.rewardTotals().funded - feesToStakers(world)).toBe(released)
      if (share === 0) expect(released).toBe(capped)
      else expect(released).toBeLessThan(capped)
    }
  })
})

/** What the fees settled so far paid the stakers (the part not burnt). */
const feesToStakers = (w: ConsensusWorld): bigint => w.ledger.settlements.reduce((t, r) => t + r.settlement.fees.toStakers, 0n)

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
