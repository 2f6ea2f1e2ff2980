/** The market part of the view model: our node's snapshot is the view; malformed fields read as missing; lists stay bounded. */
import { describe, expect, it } from "vitest"
import { MARKET_LIMITS } from "./market-model.ts"
import { initialModel, reduce, reduceAll } from "./model.ts"
import { sampleMarketEvent } from "./testkit.ts"

describe("market view model", () => {
  it("takes our node's snapshot, not another node's", () => {
    const m = reduceAll(initialModel("v0"), [sampleMarketEvent(1, "v0"), { ...sampleMarketEvent(2, "v1"), data: { totals: { activeProviders: 7 } } }])
    expect(m.market).toMatchObject({ at: 1, activeProviders: 2, jobs: { open: 1, assigned: 1, disputed: 1, settled: 4, expired: 0 }, escrow: 12n * 10n ** 18n })
    expect(m.market!.providers.map((p) => [p.address, p.openJobs, p.capacity])).toEqual([["v0", 1, 2], ["d1", 1, 4]])
    expect(m.market!.recent.map((j) => [j.id, j.state, j.provider])).toEqual([[5, "assigned", "v0"], [6, "disputed", "d1"], [7, "open", undefined]])
  })

  it("reads malformed fields as missing and never throws; keeps at most the limits", () => {
    const m = reduce(initialModel("v0"), { at: 3, node: "v0", kind: "market", data: { totals: "x", providers: [null, { address: 5, bond: "abc" }, 7], jobs: [{ id: -1 }, { id: 2, units: {} }] } })
    expect(m.market).toMatchObject({ activeProviders: undefined, escrow: undefined, jobs: { open: 0 } })
    expect(m.market!.providers).toEqual([expect.objectContaining({ address: "5", bond: undefined, kinds: [] })])
    expect(m.market!.recent).toEqual([expect.objectContaining({ id: 2, units: undefined, kind: "?" })])
    const many = reduce(initialModel("v0"), {
      at: 4, node: "v0", kind: "market",
      data: { providers: Array.from({ length: 500 }, (_, i) => ({ address: `p${i}` })), jobs: Array.from({ length: 500 }, (_, i) => ({ id: i + 1 })) },
    })
    expect(many.market!.providers).toHaveLength(MARKET_LIMITS.providers)
    expect(many.market!.recent).toHaveLength(MARKET_LIMITS.jobs)
    expect(many.market!.recent.at(-1)!.id).toBe(500)
  })
})
