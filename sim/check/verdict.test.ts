import { describe, expect, it } from "vitest"
import type { Expectation, ExpectationKind } from "./expectation.ts"
import { countOutcomes, EXIT_CODES, formatOutcomes, verdictOf } from "./verdict.ts"

const x = (kind: ExpectationKind, passed: boolean): Expectation => ({ name: `${kind}-${passed}`, kind, passed, detail: "" })

describe("verdict", () => {
  it("passes when every expectation holds (or none is made)", () => {
    expect(verdictOf([x("correctness", true), x("liveness", true)], false)).toBe("passed")
    expect(verdictOf([], false)).toBe("passed")
  })

  it("is a liveness failure only while every correctness expectation holds", () => {
    expect(verdictOf([x("correctness", true), x("liveness", false)], false)).toBe("liveness")
    expect(verdictOf([x("liveness", false), x("correctness", false)], false)).toBe("correctness")
  })

  it("is a crash whatever the expectations say once a node or the simulator threw", () => {
    expect(verdictOf([x("correctness", false)], true)).toBe("crash")
    expect(verdictOf([], true)).toBe("crash")
  })

  it("maps to scenarios/README.md's exit codes (2, bad input, is never a run's outcome)", () => {
    expect(EXIT_CODES).toEqual({ passed: 0, correctness: 1, liveness: 3, crash: 4 })
  })

  it("counts outcomes with every kind present, and prints the ones that occurred", () => {
    const counts = countOutcomes(["passed", "liveness", "passed"])
    expect(counts).toEqual({ passed: 2, correctness: 0, liveness: 1, crash: 0 })
    expect(formatOutcomes(counts)).toBe("2 passed, 1 liveness")
    expect(formatOutcomes(countOutcomes([]))).toBe("none")
  })
})
