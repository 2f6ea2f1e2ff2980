/**
 * The language-model pipeline in the simulated world: what it guarantees whatever the timing — a
 * generation that loses a stage mid-way is finished on another server of the range with exactly the
 * text an unbroken pipeline gives (the inputs replayed); a wrong stage is refuted by re-executing that
 * stage alone, slashed, and never paid for a refuted note, while honest stages never are; every job's
 * budget to the wei; the same seed, the same trace.
 */
import { describe, expect, it } from "vitest"
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import type { GenerationRecord } from "./lm-client.ts"
import { noteHash, stageOutput, tokenOf, tokensDigest, wrongOutput } from "./lm-model.ts"
import { lmReexecute } from "./lm-world.ts"
import type { ConsensusWorld } from "./world.ts"

const scenario = (events: string, params = "", expectations = "") => parseScenario(`name: lm-test
seed: 3
network:
  validators: 4
  stake: 10000
  latency: { min: 5ms, max: 30ms }
  providers: 4
  providerPrice: 2
  requesters: 2
  jobRate: 1/3s
  jobDeadline: 20s
  lmStages: 2
params:
  market.disputeWindow: 5s
${params}
until: { time: 60s }
${events}
expect:
  supplyConserved: true
  market: { lostJobs: 0 }
${expectations}
`, "lm-test.yaml")

const run = (events: string, params = "", expectations = "", seed?: number) => {
  let world: ConsensusWorld | undefined
  const report = runScenario(scenario(events, params, expectations), { onWorld: (w) => void (world = w), ...(seed === undefined ? {} : { seed }) })
  expect(report.errors).toEqual([])
  return { report, economy: world!.ledger.economy }
}

/** The text an unbroken honest pipeline gives for `g`'s prompt (blocks 0-1 then 2-3). */
const honestText = (g: GenerationRecord, n: number): number[] => {
  const base = g.id.split("/")[0]!
  const out: number[] = []
  let x = tokensDigest(base, 0, g.prompt)
  for (let k = 0; k < n; k++) {
    const t = tokenOf(stageOutput(2, 3, stageOutput(0, 1, x)))
    out.push(t)
    x = tokensDigest(base, g.prompt.length + k, [t])
  }
  return out
}

describe("the language-model pipeline in the simulated world", () => {
  it("a stage that dies mid-generation is replaced, its inputs replayed; tokens keep being paid for and no job is lost", () => {
    const { report } = run("events:\n  - at: { time: 8s }\n    crash: p1", "", "  minTokens: 300\n  lm: { minFailovers: 1 }")
    for (const x of report.expectations) expect(x.passed, `${x.name}: ${x.detail}`).toBe(true)
    expect(report.metrics.lmFailovers).toBeGreaterThanOrEqual(1)
    expect(report.metrics.lmWrongTokens).toBe(0)
  })

  it("every finished generation's text equals an unbroken honest pipeline's, across failovers", () => {
    // p1 answers nothing from 6 s on (every session through it fails over), p2 dies at 12 s.
    const s = scenario("events:\n  - at: { time: 6s }\n    byzantine: { nodes: [p1], behavior: no-show }\n  - at: { time: 12s }\n    crash: p2")
    let books: { generations: GenerationRecord[] } | undefined
    const report = runScenario(s, { onLm: (lm) => void (books = lm.books) })
    expect(report.errors).toEqual([])
    const done = books!.generations.filter((g) => g.state === "done")
    expect(done.length).toBeGreaterThan(10)
    expect(done.filter((g) => g.failovers > 0).length).toBeGreaterThanOrEqual(2)
    for (const g of done) expect(g.text, g.id).toEqual(honestText(g, g.tokens))
  })

  it("a referee re-executes one stage from the inputs its client sent: an honest note reproduces, a wrong one does not", () => {
    const inputs = ["a", "b", "c"].map((s) => tokensDigest("g", 0, [s.charCodeAt(0)]))
    const books = { jobs: new Map([[7, { from: 2, to: 3, inputs }]]), generations: [] }
    const reexecute = lmReexecute(books)
    expect(reexecute({ job: 7, kind: "infer:lm/2-3", from: 1, units: 2 })).toBe(noteHash(inputs.slice(1).map((x) => stageOutput(2, 3, x))))
    expect(reexecute({ job: 7, kind: "infer:lm/2-3", from: 0, units: 2 })).not.toBe(noteHash(inputs.slice(0, 2).map((x) => wrongOutput(2, 3, x))))
    // Inputs it was not given, or a job that is not a pipeline's: it cannot re-execute, so it refutes nothing.
    expect(reexecute({ job: 7, kind: "infer:lm/2-3", from: 2, units: 2 })).toBeUndefined()
    expect(reexecute({ job: 8, kind: "infer:mnist", from: 0, units: 1 })).toBeUndefined()
  })

  it("a wrong stage is refuted, slashed and never paid for a refuted note; no honest stage loses bond", () => {
    const { report, economy } = run("events:\n  - at: { time: 5s }\n    byzantine: { nodes: [p1], behavior: wrong-stage }", "  market.verificationRate: 1", "  minTokens: 200")
    for (const x of report.expectations) expect(x.passed, `${x.name}: ${x.detail}`).toBe(true)
    expect(report.metrics.marketSlashed).toEqual(["p1"])
    const refuted = economy.jobs().flatMap((j) => j.notes.filter((n) => n.state === "refuted"))
    expect(refuted.length).toBeGreaterThan(0)
    expect(refuted.every((n) => n.provider === "p1")).toBe(true)
    expect(report.metrics.marketWrongPaid).toBe(0)
  })

  it("a stage that takes sessions and never answers is failed over by the client's timeout, and only the honest servers are paid after it", () => {
    const { report, economy } = run("events:\n  - at: { time: 6s }\n    byzantine: { nodes: [p1, p2], behavior: no-show }", "", "  minTokens: 300\n  lm: { minFailovers: 1 }")
    for (const x of report.expectations) expect(x.passed, `${x.name}: ${x.detail}`).toBe(true)
    const late = economy.jobs().flatMap((j) => j.notes.filter((n) => (n.provider === "p1" || n.provider === "p2") && n.deliveredAt > 6_000 + 5_000))
    expect(late).toEqual([])
  })

  it("a client that never confirms still pays: the stages settle their notes after the dispute window", () => {
    const { report, economy } = run("events:\n  - at: { time: 0s }\n    byzantine: { nodes: [r0], behavior: never-confirm }", "", "  minTokens: 300")
    for (const x of report.expectations) expect(x.passed, `${x.name}: ${x.detail}`).toBe(true)
    const r0 = economy.jobs().filter((j) => j.requester === "r0")
    expect(r0.length).toBeGreaterThan(0)
    expect(r0.every((j) => j.state === "settled")).toBe(true)
  })

  it("gives the same trace hash for the same seed and another for another seed", () => {
    const events = "events:\n  - at: { time: 8s }\n    crash: p1"
    const a = run(events).report
    expect(run(events).report.traceHash).toBe(a.traceHash)
    expect(run(events, "", "", 4).report.traceHash).not.toBe(a.traceHash)
  })
})
