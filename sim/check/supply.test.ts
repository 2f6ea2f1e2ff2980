import { describe, expect, it } from "vitest"
import type { SupplyBreakdown } from "../../runtime/core/econ/state.ts"
import type { RunEnd } from "./expectation.ts"
import { conserved, supplyChecker, type SupplyView } from "./supply.ts"

const END: RunEnd = { time: 10_000, rounds: 0, accuracy: undefined, sybil: undefined }
const whole: SupplyBreakdown = { minted: 1_000n, balances: 600n, bonded: 300n, unbonding: 40n, rewardPool: 30n, insurancePool: 20n, burnt: 10n }
const view = (replicas: Record<string, SupplyBreakdown | undefined>): SupplyView => ({
  ids: Object.keys(replicas),
  app: (id) => {
    const s = replicas[id]
    return s === undefined ? undefined : { economy: { supply: () => s } }
  },
})

describe("supply checker", () => {
  it("accounts for every minted token: balances + bonded + unbonding + pools + burnt", () => {
    expect(conserved(whole)).toBe(true)
    expect(conserved({ ...whole, burnt: 11n })).toBe(false)
    expect(conserved({ ...whole, minted: 999n })).toBe(false)
  })

  it("holds when every running replica conserves supply; a crashed node (no replica) is skipped", () => {
    const c = supplyChecker(true, view({ v0: whole, v1: undefined, v2: whole }))
    expect(c.expectations(END)).toEqual([{ name: "supplyConserved", kind: "correctness", passed: true, detail: "minted = balances + bonded + unbonding + pools + burnt on every running node" }])
  })

  it("fails as correctness naming the replicas where a token appeared or vanished", () => {
    const c = supplyChecker(true, view({ v0: whole, v1: { ...whole, balances: 601n }, v2: { ...whole, rewardPool: 0n } }))
    expect(c.expectations(END)).toEqual([{ name: "supplyConserved", kind: "correctness", passed: false, detail: "broken on v1, v2" }])
  })

  it("judges nothing when the scenario does not expect it", () => {
    expect(supplyChecker(undefined, view({ v0: { ...whole, burnt: 0n } })).expectations(END)).toEqual([])
  })
})
