/** `unpaid`: passes only when no byzantine round of the node was accepted, and says where each went. */
import { describe, expect, it } from "vitest"
import { checkUnpaid, type RoundLedgerView } from "./unpaid.ts"

const ledger = (rounds: Record<number, string>, forged: Array<[number, string]>): RoundLedgerView => ({
  rounds: () => new Map(Object.entries(rounds).map(([r, c]) => [Number(r), { coordinator: c }])),
  forged: () => forged.map(([round, coordinator]) => ({ round, coordinator })),
})

describe("unpaid", () => {
  const attempts = [{ round: 3, coordinator: "v0", behavior: "forge-round" }, { round: 5, coordinator: "v0", behavior: "forge-round" }]

  it("holds when each byzantine round was forged on chain or kept off it", () => {
    const x = checkUnpaid("v0", attempts, ledger({ 4: "v1", 5: "v2" }, [[3, "v0"]]))
    expect(x).toMatchObject({ name: "unpaid v0", kind: "correctness", passed: true })
    expect(x.detail).toBe("v0 submitted 2 byzantine round result(s) (forge-round): accepted none; on chain as forged 3; kept off the chain 5")
  })

  it("fails when a byzantine round of the node was accepted", () => {
    expect(checkUnpaid("v0", attempts, ledger({ 3: "v0" }, []))).toMatchObject({ kind: "correctness", passed: false })
  })

  it("has nothing to judge when the node never coordinated a byzantine round (liveness)", () => {
    expect(checkUnpaid("v1", attempts, ledger({}, []))).toMatchObject({ kind: "liveness", passed: false })
    expect(checkUnpaid("v0", attempts, undefined)).toMatchObject({ kind: "liveness", passed: false })
  })
})
