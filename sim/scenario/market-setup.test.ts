import { describe, expect, it } from "vitest"
import { parseScenario } from "./load.ts"

const base = (network: string, rest = "") => `name: m
network:
  validators: 4
${network}
params:
  market.disputeWindow: 10s
until: { time: 2m }
${rest}`
const market = "  providers: 2\n  providerPrice: 10\n  requesters: 1\n  jobRate: 1/10s"
const refusal = (text: string) => {
  try {
    parseScenario(text, "m.yaml")
  } catch (e) {
    return String((e as Error).message)
  }
  return "accepted"
}

describe("the market keys of a scenario", () => {
  it("reads providers, prices, requesters and the job rate (and the extensions' defaults)", () => {
    const s = parseScenario(base(`${market}\n  providerSpeed: [100ms, 300ms]`), "m.yaml")
    expect(s.market).toMatchObject({ providers: ["p0", "p1"], requesters: ["r0"], prices: [10, 10], speeds: [100, 300], jobInterval: 10_000, jobUnits: 10, jobDeadline: 60_000, maxPrice: 20, capacity: 4 })
    expect(parseScenario(base("  providers: 1\n  requesters: 1\n  jobRate: 3/1m"), "m.yaml").market?.jobInterval).toBe(20_000)
    expect(parseScenario(base(""), "m.yaml").market).toBeUndefined()
  })

  it("refuses bad market input naming the key", () => {
    expect(refusal(base("  providers: 2"))).toMatch(/network\.requesters/)
    expect(refusal(base("  requesters: 2\n  jobRate: 1/10s"))).toMatch(/network\.providers/)
    expect(refusal(base("  providers: 1\n  requesters: 1"))).toMatch(/network\.jobRate/)
    expect(refusal(base("  providers: 1\n  requesters: 1\n  jobRate: often"))).toMatch(/network\.jobRate.*1\/10s/)
    expect(refusal(base(`${market.replace("providerPrice: 10", "providerPrice: [10, 11, 12]")}`))).toMatch(/network\.providerPrice.*one value per provider \(2\)/)
    expect(refusal(base(`${market}\n  jobMaxPrice: 5`))).toMatch(/network\.jobMaxPrice/)
    expect(refusal(base(`${market}\n  providerBond: 10`))).toMatch(/network\.providerBond.*market\.minProviderBond/)
    expect(refusal(base(`${market}\n  jobDeadline: 2m`))).toMatch(/until.*too short/)
    expect(refusal(base(market, "expect:\n  market: { slashed: [r0] }"))).toMatch(/expect\.market\.slashed\[0\].*not a provider/)
    expect(refusal(base(market, "expect:\n  market: { slashed: [p7] }"))).toMatch(/unknown node "p7"/)
    expect(refusal(base("", "expect:\n  market: { minSettled: 1 }"))).toMatch(/expect\.market.*needs a market/)
    expect(refusal(base(market, "expect:\n  market: { settled: 1 }"))).toMatch(/expect\.market/)
  })

  it("takes the market behaviours on the right kind of node only", () => {
    const event = (nodes: string, behavior: string) => `events:\n  - at: { time: 1s }\n    byzantine: { nodes: [${nodes}], behavior: ${behavior} }`
    expect(parseScenario(base(market, event("p1", "no-show")), "m.yaml").events[0]!.action).toEqual({ type: "market-fault", nodes: ["p1"], behavior: "no-show" })
    expect(parseScenario(base(market, event("r0", "never-confirm")), "m.yaml").events[0]!.action).toEqual({ type: "market-fault", nodes: ["r0"], behavior: "never-confirm" })
    expect(refusal(base(market, event("r0", "wrong-result")))).toMatch(/byzantine\.nodes\[0\].*not a provider/)
    expect(refusal(base(market, event("p0", "never-confirm")))).toMatch(/byzantine\.nodes\[0\].*not a requester/)
    expect(refusal(base(market, event("v0", "overcharge")))).toMatch(/not a provider/)
    expect(refusal(base(market, event("p0", "lazy")))).toMatch(/unknown behaviour "lazy".*no-show/)
  })
})
