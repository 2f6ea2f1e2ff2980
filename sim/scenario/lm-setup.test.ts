import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { LM_MODEL, splitBlocks } from "./lm-setup.ts"
import { parseScenario } from "./load.ts"

const base = (network: string, rest = "") => `name: l
network:
  validators: 4
${network}
params:
  market.disputeWindow: 10s
until: { time: 2m }
${rest}`
const market = "  providers: 4\n  providerPrice: 2\n  requesters: 1\n  jobRate: 1/10s\n  jobDeadline: 30s"
const lm = `${market}\n  lmStages: 2`
const refusal = (text: string) => {
  try {
    parseScenario(text, "l.yaml")
  } catch (e) {
    return String((e as Error).message)
  }
  return "accepted"
}
const event = (nodes: string, behavior: string) => `events:\n  - at: { time: 1s }\n    byzantine: { nodes: [${nodes}], behavior: ${behavior} }`

describe("the language-model keys of a scenario", () => {
  it("is the committed checkpoint's shape", () => {
    const config = JSON.parse(readFileSync(new URL("../../runtime/adapters/tfjs/lm/checkpoint/config.json", import.meta.url), "utf8")) as { model: { blocks: number; contextLength: number } }
    expect(LM_MODEL).toEqual({ blocks: config.model.blocks, contextLength: config.model.contextLength })
  })

  it("splits the blocks into contiguous ranges covering them all", () => {
    for (let stages = 1; stages <= 4; stages++) {
      const r = splitBlocks(4, stages)
      expect(r).toHaveLength(stages)
      expect(r[0]!.from).toBe(0)
      expect(r.at(-1)!.to).toBe(3)
      r.forEach((x, i) => {
        expect(x.to).toBeGreaterThanOrEqual(x.from)
        if (i > 0) expect(x.from).toBe(r[i - 1]!.to + 1)
      })
    }
  })

  it("reads lmStages (and the extensions' defaults): p<i> serves stage i mod lmStages", () => {
    const s = parseScenario(base(lm, "expect:\n  minTokens: 100\n  lm: { minFailovers: 1, maxShare: { p1: 0.3 } }"), "l.yaml")
    expect(s.lm).toMatchObject({ stages: 2, ranges: [{ from: 0, to: 1 }, { from: 2, to: 3 }], serves: [0, 1, 0, 1], tokens: 32, prompt: 16, chunk: 8, timeout: 2_000 })
    expect(s.expect.minTokens).toBe(100)
    expect(parseScenario(base(market), "l.yaml").lm).toBeUndefined()
  })

  it("refuses bad language-model input naming the key", () => {
    expect(refusal(base("  lmStages: 2"))).toMatch(/network\.lmStages.*providers/)
    expect(refusal(base(`${market}\n  lmStages: 5`))).toMatch(/network\.lmStages.*at most 4/)
    expect(refusal(base(market.replace("providers: 4", "providers: 1") + "\n  lmStages: 2"))).toMatch(/network\.providers.*2 stages/)
    expect(refusal(base(`${lm}\n  lmTokens: 60`))).toMatch(/network\.lmTokens.*context of 64/)
    expect(refusal(base(`${market}\n  lmTokens: 10`))).toMatch(/network\.lmTokens.*need network\.lmStages/)
    expect(refusal(base(market, "expect:\n  minTokens: 10"))).toMatch(/expect\.minTokens.*network\.lmStages/)
    expect(refusal(base(lm, "expect:\n  lm: { maxShare: { r0: 0.5 } }"))).toMatch(/expect\.lm\.maxShare\.r0.*not a provider/)
    expect(refusal(base(lm, "expect:\n  lm: { minFailover: 1 }"))).toMatch(/expect\.lm/)
  })

  it("takes wrong-stage on a stage server of a pipeline only, and only the market behaviours that mean something there", () => {
    expect(parseScenario(base(lm, event("p1", "wrong-stage")), "l.yaml").events[0]!.action).toEqual({ type: "lm-fault", nodes: ["p1"], behavior: "wrong-stage" })
    expect(parseScenario(base(lm, event("p1", "slow")), "l.yaml").events[0]!.action).toEqual({ type: "lm-fault", nodes: ["p1"], behavior: "slow" })
    expect(parseScenario(base(lm, event("r0", "never-confirm")), "l.yaml").events[0]!.action).toEqual({ type: "lm-fault", nodes: ["r0"], behavior: "never-confirm" })
    expect(refusal(base(lm, event("r0", "wrong-stage")))).toMatch(/byzantine\.nodes\[0\].*not a provider/)
    expect(refusal(base(market, event("p1", "wrong-stage")))).toMatch(/byzantine\.behavior.*needs network\.lmStages/)
    expect(refusal(base(lm, event("p1", "wrong-result")))).toMatch(/byzantine\.behavior.*wrong-stage/)
    expect(refusal(base(lm, event("p1", "lazy")))).toMatch(/unknown behaviour "lazy".*wrong-stage/)
  })
})
