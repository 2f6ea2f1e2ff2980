/**
 * The cap on a debit note (runtime/core/market/math.ts `maxNoteUnits`) in the simulated market: honest
 * providers size their notes by their bond and the job's price, so a market whose bonds answer for only a
 * few units a note still settles every job, no delivery refused as too large; and a refuted provider,
 * slashed to nothing, delivers nothing more on the jobs it still held.
 */
import { describe, expect, it } from "vitest"
import { maxNoteUnits } from "../../runtime/core/market/math.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import type { ConsensusWorld } from "./world.ts"

const scenario = (events: string, params: string) => parseScenario(`name: market-note-cap
seed: 5
network:
  validators: 4
  stake: 10000
  providers: 3
  providerPrice: [10, 9, 11]
  providerSpeed: [200ms, 150ms, 250ms]
  requesters: 2
  jobRate: 1/3s
  jobUnits: 12
  jobDeadline: 30s
params:
  market.disputeWindow: 5s
  market.noShowTimeout: 3s
${params}
until: { time: 60s }
${events}
expect:
  supplyConserved: true
  market: { lostJobs: 0 }
`, "market-note-cap.yaml")

const run = (events: string, params: string) => {
  let world: ConsensusWorld | undefined
  const lines: Record<string, unknown>[] = []
  const report = runScenario(scenario(events, params), {
    onWorld: (w) => void (world = w),
    sink: (line) => void (line.includes("market.") && lines.push(JSON.parse(line) as Record<string, unknown>)),
  })
  expect(report.errors).toEqual([])
  return { report, economy: world!.ledger.economy, lines }
}

describe("the cap on a debit note in the simulated market", () => {
  it("honest providers whose bonds answer for 2 units a note deliver in 2-unit notes, never refused, every job settled", () => {
    // A 20 % slash of 1,000 at p = 0.1: at most 22.2 tokens a note, 2 units at 9 to 11 tokens (the providers' chunk is 5).
    const { report, economy, lines } = run("", "  market.wrongResultSlash: 0.2\n  market.verificationRate: 0.1")
    expect(report.outcome).toBe("passed")
    const notes = economy.jobs().flatMap((j) => j.notes)
    expect(notes.length).toBeGreaterThan(20)
    for (const n of notes) expect(n.units <= maxNoteUnits(1_000n * TOKEN, n.pricePerUnit, economy.params)!, `a note of ${n.units} units at ${n.pricePerUnit}`).toBe(true)
    expect(Math.max(...notes.map((n) => Number(n.units)))).toBe(2)
    const refusals = lines.filter((l) => typeof l.reason === "string" && /MarketNoteTooLarge|MarketInsufficientBond/.test(l.reason))
    expect(refusals).toEqual([])
    expect(economy.jobs().filter((j) => j.state === "settled").length).toBeGreaterThan(5)
  })

  it("a provider slashed to nothing delivers nothing more on the jobs it still holds", () => {
    const { economy, lines } = run("events:\n  - at: { time: 0s }\n    byzantine: { nodes: [p1], behavior: wrong-result }", "  market.verificationRate: 0.5")
    expect(economy.provider("p1")!.bond).toBe(0n)
    const slashedAt = lines.find((l) => l.kind === "market.resolved" && l.provider === "p1" && l.slashed !== "0")?.t as number | undefined
    expect(slashedAt).toBeDefined()
    // The ledger took no note from p1 after the slash, and p1 tried none it was not refused.
    expect(economy.jobs().flatMap((j) => j.notes).filter((n) => n.provider === "p1" && n.deliveredAt > slashedAt!)).toEqual([])
    expect(lines.filter((l) => l.kind === "market.delivered" && l.node === "p1" && (l.t as number) > slashedAt!)).toEqual([])
  })
})
