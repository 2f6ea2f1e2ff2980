import { describe, expect, it } from "vitest"
import type { SupplyBreakdown } from "../../runtime/core/econ/state.ts"
import type { RunEnd } from "./expectation.ts"
import { conserved, supplyChecker } from "./supply.ts"

const END: RunEnd = { time: 10_000, rounds: 0, accuracy: undefined, sybil: undefined }
const whole: SupplyBreakdown = { minted: 1_000n, balances: 600n, bonded: 300n, unbonding: 40n, rewardPool: 30n, insurancePool: 20n, burnt: 10n }

describe("supply checker", () => {
  it("accounts for every minted token: balances + bonded + unbonding + pools + burnt", () => {
    expect(conserved(whole)).toBe(true)
    expect(conserved({ ...whole, burnt: 11n })).toBe(false)
    expect(conserved({ ...whole, minted: 999n })).toBe(false)
  })

  it("holds when the ledger conserves supply", () => {
    expect(supplyChecker(true, { supply: () => whole }).expectations(END)).toEqual([
      { name: "supplyConserved", kind: "correctness", passed: true, detail: "minted = balances + bonded + unbonding + pools + burnt on the ledger, to the wei" },
    ])
  })

  it("fails as correctness showing the ledger's breakdown when a token appeared or vanished", () => {
    const [x] = supplyChecker(true, { supply: () => ({ ...whole, balances: 601n }) }).expectations(END)
    expect(x).toMatchObject({ name: "supplyConserved", kind: "correctness", passed: false })
    expect(x!.detail).toMatch(/^broken on the ledger: .*"balances":"601"/)
  })

  it("judges nothing when the scenario does not expect it", () => {
    expect(supplyChecker(undefined, { supply: () => ({ ...whole, burnt: 0n }) }).expectations(END)).toEqual([])
  })
})
