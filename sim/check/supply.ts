/**
 * Supply conservation on the one ledger: every minted token is somewhere, exactly, to the wei:
 * minted = balances + bonded + unbonding + reward pool + insurance pool + burnt. The committee (the
 * replicas) holds no value, so the ledger is the whole supply. Judged on the world at the end.
 */
import type { SupplyBreakdown } from "../../runtime/core/econ/state.ts"
import type { Checker } from "./expectation.ts"

/** Where the checker reads the supply: the world's ledger. */
export interface SupplyView {
  supply(): SupplyBreakdown
}

/** Whether a supply breakdown accounts for every minted token. */
export const conserved = (s: SupplyBreakdown): boolean =>
  s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt === s.minted

/** The supply checker; `expected` is the scenario's `expect.supplyConserved` (nothing is judged when absent). */
export const supplyChecker = (expected: boolean | undefined, view: SupplyView): Checker => ({
  expectations: () => {
    if (expected === undefined) return []
    const s = view.supply()
    const ok = conserved(s)
    return [{
      name: "supplyConserved", kind: "correctness", passed: ok === expected,
      detail: ok ? "minted = balances + bonded + unbonding + pools + burnt on the ledger, to the wei" : `broken on the ledger: ${JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`,
    }]
  },
})
