import { describe, expect, it } from "vitest"
import * as errors from "./errors.ts"
import { MARKET_ERROR_TAGS } from "./errors.ts"
import { TOKEN } from "../units.ts"

describe("market errors", () => {
  it("are exported under their tag, one class per tag of MARKET_ERROR_TAGS (the contract's custom error names)", () => {
    const classes = Object.entries(errors).filter(([name]) => name.startsWith("Market") && name !== "MARKET_ERROR_TAGS")
    expect(classes.map(([name]) => name).sort()).toEqual([...MARKET_ERROR_TAGS].sort())
  })

  it("say what was wrong, with the numbers, and what to do", () => {
    expect(new errors.MarketInsufficientBond({ provider: "p0", bond: 950n * TOKEN, minimum: 1_000n * TOKEN }).message)
      .toBe("provider p0's bond of 950 tokens is below market.minProviderBond (1,000 tokens): it cannot register, take a job or deliver with it")
    expect(new errors.MarketOverDelivery({ job: 3, units: 4n, delivered: 7n, total: 10n }).message).toBe("job 3 has 10 units of which 7 are delivered; 4 more is too many")
    expect(new errors.MarketNoShowNotDue({ job: 1, dueAt: 30_000, now: 10_000 }).message).toMatch(/from t=30000ms \(in 20s\) if nothing is delivered/)
    expect(new errors.MarketNotProvider({ job: 2, caller: "x", provider: undefined }).message).toMatch(/has no provider assigned/)
    const e = new errors.MarketUnknownJob({ job: 9 })
    expect(e._tag).toBe("MarketUnknownJob")
    expect(e).toBeInstanceOf(Error)
  })
})
