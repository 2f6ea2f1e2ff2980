import { describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import type { RunEnd } from "./expectation.ts"
import { livenessChecker } from "./liveness.ts"

const end = (time: number, rounds = 0): RunEnd => ({ time, rounds, accuracy: undefined, sybil: undefined })
const commit = (node: string, height: number): TelemetryEvent => ({ at: height * 1000, node, kind: "block.committed", data: { height, hash: `0x${height}`, slashed: [] } })

describe("liveness checker", () => {
  it("tracks the highest block an honest node committed, leaving out nodes that misbehaved", () => {
    const byzantine = new Set<string>()
    const c = livenessChecker({ until: { height: 10, maxTime: 60_000 } }, byzantine)
    for (const e of [commit("v0", 1), commit("v1", 2), commit("v0", 3)]) c.observe?.(e)
    expect(c.height()).toBe(3)
    byzantine.add("v0")
    expect(c.height()).toBe(2)
  })

  it("holds minHeight and the until height when reached, and says when", () => {
    const c = livenessChecker({ minHeight: 3, until: { height: 3, maxTime: 3_600_000 } }, new Set())
    for (const e of [commit("v0", 1), commit("v0", 2), commit("v1", 3)]) c.observe?.(e)
    expect(c.expectations(end(3_000))).toEqual([
      { name: "minHeight", kind: "liveness", passed: true, detail: "reached height 3, expected at least 3" },
      { name: "until", kind: "liveness", passed: true, detail: "height 3 at 3.0s of virtual time, target height 3 by maxTime 1h" },
    ])
  })

  it("fails as liveness when the chain stalls short of minHeight and of its until target by maxTime", () => {
    const c = livenessChecker({ minHeight: 5, until: { height: 5, maxTime: 10_000 } }, new Set())
    c.observe?.(commit("v0", 1))
    const xs = c.expectations(end(10_000))
    expect(xs.map((x) => [x.name, x.kind, x.passed])).toEqual([["minHeight", "liveness", false], ["until", "liveness", false]])
    expect(xs[1]!.detail).toBe("height 1 at 10.0s of virtual time, target height 5 by maxTime 10s")
  })

  it("judges an until target in training rounds by the rounds committed, and nothing for a time target", () => {
    const rounds = livenessChecker({ until: { rounds: 4, maxTime: 600_000 } }, new Set())
    expect(rounds.expectations(end(600_000, 3))).toEqual([expect.objectContaining({ name: "until", passed: false, detail: "rounds 3 at 600.0s of virtual time, target rounds 4 by maxTime 10m" })])
    expect(rounds.expectations(end(90_000, 4))[0]!.passed).toBe(true)
    expect(livenessChecker({ until: { maxTime: 30_000 } }, new Set()).expectations(end(30_000))).toEqual([])
  })
})
