import { describe, expect, it } from "vitest"
import type { RunEnd } from "./expectation.ts"
import { accuracyChecker } from "./accuracy.ts"

const end = (accuracy: number | undefined, rounds: number): RunEnd => ({ time: 60_000, rounds, accuracy, sybil: undefined })

describe("accuracy checker", () => {
  it("holds minAccuracy (at least) and maxAccuracy (at most) against the final accuracy", () => {
    expect(accuracyChecker({ minAccuracy: 0.9, maxAccuracy: 0.95 }).expectations(end(0.9, 5))).toEqual([
      { name: "minAccuracy", kind: "correctness", passed: true, detail: "final accuracy 0.9000 after 5 round(s), expected at least 0.9" },
      { name: "maxAccuracy", kind: "correctness", passed: true, detail: "final accuracy 0.9000 after 5 round(s), expected at most 0.95" },
    ])
  })

  it("fails as correctness when the model is worse (or, for maxAccuracy, better) than expected", () => {
    const xs = accuracyChecker({ minAccuracy: 0.9, maxAccuracy: 0.5 }).expectations(end(0.8, 5))
    expect(xs.map((x) => [x.name, x.kind, x.passed])).toEqual([["minAccuracy", "correctness", false], ["maxAccuracy", "correctness", false]])
  })

  it("fails as liveness when no round was committed: there is no trained model to judge", () => {
    for (const e of [end(undefined, 0), end(0.1, 0)]) {
      expect(accuracyChecker({ minAccuracy: 0.1 }).expectations(e)).toEqual([
        { name: "minAccuracy", kind: "liveness", passed: false, detail: "no training round was committed (expected accuracy at least 0.1)" },
      ])
    }
  })

  it("judges nothing when the scenario expects no accuracy", () => {
    expect(accuracyChecker({}).expectations(end(0.5, 3))).toEqual([])
  })
})
