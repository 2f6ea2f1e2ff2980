import { describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import type { RunEnd } from "./expectation.ts"
import { slashingChecker } from "./slashing.ts"

const END: RunEnd = { time: 10_000, rounds: 0, accuracy: undefined, sybil: undefined }
/** The ledger's slash events for `pools` at virtual time `at` (a committee's conviction alone is not a slash). */
const slashes = (at: number, pools: readonly string[]): TelemetryEvent[] => pools.map((pool) => ({ at, node: "ledger", kind: "stake.slashed", data: { pool, infraction: "doubleSign" } }))
const convicted = (node: string, height: number, slashed: readonly string[]): TelemetryEvent => ({ at: height * 1000, node, kind: "block.committed", data: { height, hash: `0x${height}`, slashed } })

describe("slashing checker", () => {
  it("collects the pools slashed on the ledger, once each, sorted; a conviction in a block is not yet a slash", () => {
    const c = slashingChecker({}, new Set())
    c.observe?.(convicted("v0", 1, ["v2"]))
    for (const e of [...slashes(1, ["v3"]), ...slashes(2, ["v3", "v0"])]) c.observe?.(e)
    expect(c.slashed()).toEqual(["v0", "v3"])
    expect(c.expectations(END)).toEqual([])
  })

  it("holds when the named nodes were slashed and no honest one was", () => {
    const c = slashingChecker({ slashed: ["v0"], honestNotSlashed: true }, new Set(["v0"]))
    for (const e of slashes(6, ["v0"])) c.observe?.(e)
    expect(c.expectations(END)).toEqual([
      { name: "slashed", kind: "correctness", passed: true, detail: "slashed: v0" },
      { name: "honestNotSlashed", kind: "correctness", passed: true, detail: "no honest validator lost stake" },
    ])
  })

  it("fails as correctness when a named node escaped, or a node that never misbehaved lost stake", () => {
    const byzantine = new Set(["v0"])
    const c = slashingChecker({ slashed: ["v0", "v1"], honestNotSlashed: true }, byzantine)
    for (const e of slashes(6, ["v0", "v2"])) c.observe?.(e)
    expect(c.expectations(END)).toEqual([
      { name: "slashed", kind: "correctness", passed: false, detail: "not slashed: v1 (slashed: v0, v2)" },
      { name: "honestNotSlashed", kind: "correctness", passed: false, detail: "honest validators slashed: v2" },
    ])
    // A node that turns byzantine later in the run is not honest at the end.
    byzantine.add("v2")
    expect(c.expectations(END)[1]!.passed).toBe(true)
  })
})
