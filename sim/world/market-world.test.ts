/**
 * The market in the simulated world: what it guarantees whatever the timing — no job lost when a
 * provider stalls, cheats or dies mid-job; a refuted provider slashed and the requester paying nothing
 * for its result; honest providers never slashed; the books to the wei; the same seed, the same trace.
 */
import { describe, expect, it } from "vitest"
import { marketBooksProblem } from "../check/market.ts"
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import type { ConsensusWorld } from "./world.ts"

const scenario = (events: string, params = "") => parseScenario(`name: market-test
seed: 5
network:
  validators: 4
  stake: 10000
  providers: 3
  providerPrice: [10, 9, 11]
  providerSpeed: [200ms, 150ms, 250ms]
  requesters: 2
  jobRate: 1/3s
  jobDeadline: 20s
params:
  market.disputeWindow: 5s
  market.noShowTimeout: 3s
${params}
until: { time: 60s }
${events}
expect:
  supplyConserved: true
  market: { lostJobs: 0 }
`, "market-test.yaml")

const run = (events: string, params = "", seed?: number) => {
  let world: ConsensusWorld | undefined
  const report = runScenario(scenario(events, params), { onWorld: (w) => void (world = w), ...(seed === undefined ? {} : { seed }) })
  expect(report.errors).toEqual([])
  return { report, economy: world!.ledger.economy }
}

describe("the simulated compute market", () => {
  it("fails a job over when its provider dies mid-job: no job lost, none paid twice, the books to the wei", () => {
    // p1, cheaper and faster, wins every comparison while it has room: it holds jobs when it dies.
    let world: ConsensusWorld | undefined
    const report = runScenario(parseScenario(`name: market-crash
seed: 5
network:
  validators: 4
  stake: 10000
  providers: 2
  providerPrice: [10, 5]
  providerSpeed: [200ms, 100ms]
  requesters: 2
  jobRate: 1/2s
  jobUnits: 40
  jobDeadline: 30s
params:
  market.disputeWindow: 5s
  market.noShowTimeout: 3s
until: { time: 60s }
events:
  - at: { time: 7200ms }
    crash: p1
  - at: { time: 20s }
    restart: p1
expect:
  market: { lostJobs: 0 }
`, "market-crash.yaml"), { onWorld: (w) => void (world = w) })
    expect(report.errors).toEqual([])
    expect(report.outcome).toBe("passed")
    const economy = world!.ledger.economy
    const jobs = economy.jobs()
    expect(jobs.every((j) => j.state === "settled" || j.state === "expired")).toBe(true)
    // The jobs p1 held when it died were taken from it (a no-show) and finished by p0.
    const takenOver = jobs.filter((j) => j.assignedAt > 7_200 && j.provider === "p0" && j.postedAt < 7_200)
    expect(economy.provider("p1")!.penalized).toBeGreaterThan(0n)
    expect(takenOver.length).toBeGreaterThan(0)
    for (const j of takenOver) expect(j.state).toBe("settled")
    for (const j of jobs) {
      // Never paid twice: paid units never exceed the job's, and every paid unit was delivered.
      expect(j.paidUnits <= j.units && j.paidUnits <= j.delivered).toBe(true)
    }
    expect(marketBooksProblem(economy)).toBeUndefined()
  })

  it("resolves a dispute only with signatures of ≥ 2/3 of a snapshot's power: several referees sign, each dispute resolved once", () => {
    const lines: Array<Record<string, unknown>> = []
    let world: ConsensusWorld | undefined
    const report = runScenario(scenario("events:\n  - at: { time: 0s }\n    byzantine: { nodes: [p1], behavior: wrong-result }", "  market.verificationRate: 1"), {
      onWorld: (w) => void (world = w), sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    })
    expect(report.errors).toEqual([])
    expect(report.outcome).toBe("passed")
    const of = (kind: string) => lines.filter((e) => e.kind === kind)
    const resolved = of("market.resolved")
    expect(resolved.length).toBeGreaterThan(0)
    const economy = world!.ledger.economy
    for (const r of resolved) {
      const snap = economy.committeeSnapshot(Number(r.snapshot))!
      // 4 validators of equal stake: no verdict with fewer than 3 signers, none below the quorum.
      expect(BigInt(String(r.power)) >= snap.quorum && Number(r.signers) >= 3, JSON.stringify(r)).toBe(true)
    }
    // Each disputed job resolved once, by signatures of several validators.
    const jobs = resolved.map((r) => r.job)
    expect(new Set(jobs).size).toBe(jobs.length)
    const signers = new Set(of("market.verdict.signed").map((e) => e.node))
    expect(signers.size).toBeGreaterThanOrEqual(3)
    for (const e of of("market.resolve-refused")) expect(e).toBeUndefined()
  })

  it("refutes, disputes and slashes a provider delivering wrong results; the requester pays nothing for them", () => {
    const { report, economy } = run("events:\n  - at: { time: 0s }\n    byzantine: { nodes: [p1], behavior: wrong-result }", "  market.verificationRate: 1")
    expect(report.outcome).toBe("passed")
    const refutedJobs = economy.jobs().filter((j) => j.notes.some((n) => n.state === "refuted"))
    expect(refutedJobs.length).toBeGreaterThan(0)
    for (const j of refutedJobs) {
      expect(j.excluded).toContain("p1")
      expect(j.compensation).toBeGreaterThan(0n)
      expect(j.notes.filter((n) => n.provider === "p1" && n.state === "paid")).toEqual([])
    }
    expect(economy.provider("p1")!.penalized).toBeGreaterThan(0n)
    for (const p of ["p0", "p2"]) expect(economy.provider(p)!.penalized).toBe(0n)
    expect(report.metrics.marketWrongPaid).toBe(0)
  })

  it("never slashes an honest provider, whatever the referees are asked", () => {
    const { report, economy } = run("", "  market.verificationRate: 1")
    expect(report.outcome).toBe("passed")
    expect(economy.providers().every((p) => p.penalized === 0n)).toBe(true)
    expect(economy.jobs().some((j) => j.notes.some((n) => n.state === "refuted"))).toBe(false)
    expect(report.metrics.marketSettled).toBe(report.metrics.marketJobs)
  })

  it("gives the same trace for the same seed, another for another", () => {
    const a = run("events:\n  - at: { time: 5s }\n    byzantine: { nodes: [p0], behavior: no-show }").report
    expect(run("events:\n  - at: { time: 5s }\n    byzantine: { nodes: [p0], behavior: no-show }").report.traceHash).toBe(a.traceHash)
    expect(run("events:\n  - at: { time: 5s }\n    byzantine: { nodes: [p0], behavior: no-show }", "", 6).report.traceHash).not.toBe(a.traceHash)
  })
})
