import { describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import type { RunEnd } from "./expectation.ts"
import { slashingChecker } from "./slashing.ts"

const END: RunEnd = { time: 10_000, rounds: 0, accuracy: undefined, sybil: undefined }
const commit = (node: string, height: number, slashed: readonly string[] = []): TelemetryEvent => ({ at: height * 1000, node, kind: "block.committed", data: { height, hash: `0x${height}`, slashed } })

describe("slashing checker", () => {
  it("collects the slashed pools from committed blocks, once each, sorted", () => {
    const c = slashingChecker({}, new Set())
    for (const e of [commit("v0", 1, ["v3"]), commit("v1", 1, ["v3"]), commit("v0", 2, ["v0"])]) c.observe?.(e)
    expect(c.slashed()).toEqual(["v0", "v3"])
    expect(c.expectations(END)).toEqual([])
  })

  it("holds when the named nodes were slashed and no honest one was", () => {
    const c = slashingChecker({ slashed: ["v0"], honestNotSlashed: true }, new Set(["v0"]))
    c.observe?.(commit("v1", 6, ["v0"]))
    expect(c.expectations(END)).toEqual([
      { name: "slashed", kind: "correctness", passed: true, detail: "slashed: v0" },
      { name: "honestNotSlashed", kind: "correctness", passed: true, detail: "no honest validator lost stake" },
    ])
  })

  it("fails as correctness when a named node escaped, or a node that never misbehaved lost stake", () => {
    const byzantine = new Set(["v0"])
    const c = slashingChecker({ slashed: ["v0", "v1"], honestNotSlashed: true }, byzantine)
    c.observe?.(commit("v1", 6, ["v0", "v2"]))
    expect(c.expectations(END)).toEqual([
      { name: "slashed", kind: "correctness", passed: false, detail: "not slashed: v1 (slashed: v0, v2)" },
      { name: "honestNotSlashed", kind: "correctness", passed: false, detail: "honest validators slashed: v2" },
    ])
    // A node that turns byzantine later in the run is not honest at the end.
    byzantine.add("v2")
    expect(c.expectations(END)[1]!.passed).toBe(true)
  })
})
