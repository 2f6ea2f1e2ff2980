import { describe, expect, it } from "vitest"
import { ValidatorSet } from "../../runtime/core/consensus/validator-set.ts"
import { DEFAULT_PARAMS, type Params } from "../../runtime/core/params.ts"
import type { RunEnd } from "./expectation.ts"
import { membershipChecker, type MembershipView } from "./membership.ts"

const END: RunEnd = { time: 10_000, rounds: 0, accuracy: undefined, sybil: undefined }
const A = (i: number) => `0x${String(i).padStart(40, "0")}`
const withWindow = (w: number): Params => ({ ...DEFAULT_PARAMS, "slashing.downtimeWindow": w })

/** Replicas by id: their window, height and active operators (v0 signs with A(0), ...). */
const view = (replicas: Record<string, { window: number; height: number; set: number[] } | undefined>, ledgerWindow: number): MembershipView => ({
  ids: () => Object.keys(replicas),
  app: (id) => {
    const r = replicas[id]
    if (r === undefined) return undefined
    return {
      height: r.height,
      params: () => withWindow(r.window),
      validatorSet: () => ValidatorSet.from(r.set.map((i) => ({ address: A(i), power: 10n }))),
      operatorOf: (a) => `v${Number(BigInt(a))}`,
    }
  },
  ledgerParams: () => withWindow(ledgerWindow),
})

describe("membership checker", () => {
  it("holds when every running replica has the parameter, and the furthest replica's set includes and excludes as expected", () => {
    const c = membershipChecker({ params: { "slashing.downtimeWindow": 50 }, validators: { includes: ["v4"], excludes: ["v1"] } },
      view({ v0: { window: 50, height: 9, set: [0, 2, 3, 4] }, v1: undefined, v2: { window: 50, height: 8, set: [0, 1, 2, 3] } }, 50))
    expect(c.expectations(END)).toEqual([
      { name: "params", kind: "liveness", passed: true, detail: "slashing.downtimeWindow = 50 in force on every running node" },
      { name: "validators", kind: "liveness", passed: true, detail: "active set [v0, v2, v3, v4]" },
    ])
  })

  it("is a correctness failure when the ledger has the value and a replica does not, missing progress when neither has it", () => {
    const lost = membershipChecker({ params: { "slashing.downtimeWindow": 50 } }, view({ v0: { window: 100, height: 9, set: [0] } }, 50)).expectations(END)
    expect(lost).toEqual([{ name: "params", kind: "correctness", passed: false, detail: "slashing.downtimeWindow = 50 expected: v0 has slashing.downtimeWindow = 100 (the ledger has it)" }])
    const never = membershipChecker({ params: { "slashing.downtimeWindow": 50 } }, view({ v0: { window: 100, height: 9, set: [0] } }, 100)).expectations(END)
    expect(never[0]).toMatchObject({ kind: "liveness", passed: false })
  })

  it("names who is missing from the set and who is still in it", () => {
    const c = membershipChecker({ validators: { includes: ["v4"], excludes: ["v1"] } }, view({ v0: { window: 100, height: 3, set: [0, 1] } }, 100))
    expect(c.expectations(END)).toEqual([{ name: "validators", kind: "liveness", passed: false, detail: "active set [v0, v1]; missing v4; still in it: v1" }])
  })

  it("judges nothing the scenario does not expect", () => {
    expect(membershipChecker({}, view({ v0: { window: 100, height: 3, set: [0] } }, 100)).expectations(END)).toEqual([])
  })
})
