/** The ROI of cheating in the market (docs/market.md): what counts as unearned, what as lost, over what capital. */
import { describe, expect, it } from "vitest"
import { testEconomy, ok, SETUP } from "../../runtime/core/econ/testkit.ts"
import type { Economy } from "../../runtime/core/econ/index.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { unitResultHash } from "../../runtime/actors/market/work.ts"
import { cheatBooks, cheatRoi } from "./market.ts"

const T = TOKEN
const KIND = "infer:mnist"
const WRONG = `0x${"ee".repeat(32)}`

/** Provider c0 (bond 1,000, 10 tokens a unit) and a job of d0's: 10 units at ≤ 20, assigned to c0. */
const world = (): { e: Economy; job: number } => {
  const e = testEconomy()
  for (const op of SETUP) ok(e.apply(op, 0))
  ok(e.marketOp({ type: "registerProvider", provider: "c0", bond: 1_000n * T, kinds: [KIND], pricePerUnit: 10n * T, capacity: 2 }, 0))
  const job = ok(e.marketOp({ type: "postJob", requester: "d0", kind: KIND, units: 10n, maxPricePerUnit: 20n * T, deadline: 100_000 }, 0)).job
  ok(e.marketOp({ type: "assignJob", job, provider: "c0", by: "d0" }, 0))
  return { e, job }
}

/** c0 delivers units [from, from + 5) of `job`, with the honest hash or a made-up one. */
const deliver = (e: Economy, job: number, from: number, honest: boolean, now: number) =>
  ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 5n, resultHash: honest ? unitResultHash({ job, kind: KIND, from, units: 5 }) : WRONG }, now))

// A 50-token note pays the provider 47.5 after the 5 % fee.
const NET = 475n * T / 10n

describe("cheatBooks", () => {
  it("counts what a provider was paid for refuted results as unearned, and an honest one's ROI is 0", () => {
    const { e, job } = world()
    deliver(e, job, 0, true, 1_000)
    deliver(e, job, 5, false, 2_000)
    ok(e.marketOp({ type: "confirm", job, by: "d0" }, 3_000))
    const books = cheatBooks(e, "c0", unitResultHash)
    expect(books).toEqual({ unearned: NET, lost: 0n, capital: 1_000n * T })
    expect(cheatRoi(books)).toBe(0.0475)
    const { e: honest, job: j2 } = world()
    deliver(honest, j2, 0, true, 1_000)
    deliver(honest, j2, 5, true, 2_000)
    ok(honest.marketOp({ type: "confirm", job: j2, by: "d0" }, 3_000))
    expect(cheatRoi(cheatBooks(honest, "c0", unitResultHash))).toBe(0)
  })

  it("counts pay above the announced price as unearned (an overcharge), in proportion", () => {
    const { e, job } = world()
    deliver(e, job, 0, true, 1_000)
    ok(e.marketOp({ type: "confirm", job, by: "d0" }, 2_000))
    // Announced 4 tokens a unit, charged 10: 6/10 of the pay was not earned.
    expect(cheatBooks(e, "c0", unitResultHash, new Map([["c0", 4n * T]])).unearned).toBe((NET * 6n) / 10n)
    expect(cheatBooks(e, "c0", unitResultHash, new Map([["c0", 10n * T]])).unearned).toBe(0n)
  })

  it("counts no-show penalties as lost, over the bond before them", () => {
    const { e, job } = world()
    const timeout = e.params["market.noShowTimeout"]
    ok(e.marketOp({ type: "reclaimNoShow", job, by: "d0" }, timeout))
    const books = cheatBooks(e, "c0", unitResultHash)
    expect(books).toEqual({ unearned: 0n, lost: 50n * T, capital: 1_000n * T })
    expect(cheatRoi(books)).toBe(-0.05)
  })

  it("gives a requester its budgets as capital and nothing unearned once every delivered unit was paid", () => {
    const { e, job } = world()
    deliver(e, job, 0, true, 1_000)
    deliver(e, job, 5, true, 2_000)
    // It never confirms: the provider settles once the window is over, and the job is settled.
    ok(e.marketOp({ type: "settle", job }, 2_000 + e.params["market.disputeWindow"]))
    expect(e.job(job)?.state).toBe("settled")
    expect(cheatBooks(e, "d0", unitResultHash)).toEqual({ unearned: 0n, lost: 0n, capital: 200n * T })
    expect(cheatBooks(e, "nobody", unitResultHash)).toEqual({ unearned: 0n, lost: 0n, capital: 0n })
    expect(cheatRoi({ unearned: 0n, lost: 0n, capital: 0n })).toBe(0)
  })
})
