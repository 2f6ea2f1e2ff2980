/**
 * Supply conservation: on every running replica, every minted token is somewhere, exactly:
 * minted = balances + bonded + unbonding + reward pool + insurance pool + burnt. Judged on the world
 * at the end (a crashed node has no replica to read).
 */
import type { SupplyBreakdown } from "../../runtime/core/econ/state.ts"
import type { Checker } from "./expectation.ts"

/** Where the checker reads the replicas: the node ids and each one's economy, if it runs. */
export interface SupplyView {
  readonly ids: readonly string[]
  app(id: string): { readonly economy: { supply(): SupplyBreakdown } } | undefined
}

/** Whether a supply breakdown accounts for every minted token. */
export const conserved = (s: SupplyBreakdown): boolean =>
  s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt === s.minted

/** The supply checker; `expected` is the scenario's `expect.supplyConserved` (nothing is judged when absent). */
export const supplyChecker = (expected: boolean | undefined, view: SupplyView): Checker => ({
  expectations: () => {
    if (expected === undefined) return []
    const broken = view.ids.filter((id) => {
      const app = view.app(id)
      return app !== undefined && !conserved(app.economy.supply())
    })
    return [{
      name: "supplyConserved", kind: "correctness", passed: (broken.length === 0) === expected,
      detail: broken.length === 0 ? "minted = balances + bonded + unbonding + pools + burnt on every running node" : `broken on ${broken.join(", ")}`,
    }]
  },
})
