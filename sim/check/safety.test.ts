import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import type { RunEnd } from "./expectation.ts"
import { safetyChecker } from "./safety.ts"

const END: RunEnd = { time: 10_000, rounds: 0, accuracy: undefined, sybil: undefined }
const commit = (node: string, height: number, hash: string): TelemetryEvent => ({ at: height * 1000, node, kind: "block.committed", data: { height, hash, slashed: [] } })
const feed = (expected: boolean | undefined, events: readonly TelemetryEvent[]) => {
  const c = safetyChecker(expected)
  for (const e of events) c.observe?.(e)
  return c
}

describe("safety checker", () => {
  it("holds when every node commits the same block at each height", () => {
    const c = feed(true, [commit("v0", 1, "0xaa"), commit("v1", 1, "0xaa"), commit("v0", 2, "0xbb"), commit("v1", 2, "0xbb")])
    expect(c.expectations(END)).toEqual([{ name: "safety", kind: "correctness", passed: true, detail: "no two different blocks committed at one height" }])
    expect(c.conflicts()).toEqual([])
  })

  it("fails naming the height and the node when two different blocks are committed at one height", () => {
    const c = feed(true, [commit("v0", 1, "0xaa"), commit("v0", 2, "0xbb00000000000000"), commit("v2", 2, "0xcc00000000000000")])
    const [x] = c.expectations(END)
    expect(x).toMatchObject({ name: "safety", kind: "correctness", passed: false })
    expect(x!.detail).toBe("height 2: v2 committed 0xcc000000…, another node 0xbb000000…")
  })

  it("judges nothing when the scenario does not expect it, and passes a fork the scenario expects", () => {
    const fork = [commit("v0", 1, "0xaa"), commit("v1", 1, "0xbb")]
    expect(feed(undefined, fork).expectations(END)).toEqual([])
    expect(feed(false, fork).expectations(END)[0]!.passed).toBe(true)
    expect(feed(false, []).expectations(END)[0]!.passed).toBe(false)
  })

  it("ignores every other kind of event", () => {
    const c = feed(true, [commit("v0", 1, "0xaa"), { at: 1, node: "v1", kind: "block.proposed", data: { height: 1, hash: "0xbb" } }])
    expect(c.expectations(END)[0]!.passed).toBe(true)
  })

  it("holds for one chain committed by any nodes in any order, and fails once any node commits off it (property)", () => {
    const commits = fc.array(fc.record({ node: fc.constantFrom("v0", "v1", "v2", "v3"), height: fc.integer({ min: 1, max: 20 }) }), { maxLength: 60 })
    fc.assert(fc.property(commits, fc.integer({ min: 0, max: 59 }), (cs, at) => {
      const chain = cs.map((x) => commit(x.node, x.height, `0x${x.height.toString(16).padStart(4, "0")}`))
      expect(feed(true, chain).expectations(END)[0]!.passed).toBe(true)
      if (chain.length === 0) return
      const i = at % chain.length
      const off = commit("v9", cs[i]!.height, "0xfork")
      expect(feed(true, [...chain.slice(0, i + 1), off, ...chain.slice(i + 1)]).expectations(END)[0]!.passed).toBe(false)
    }))
  })
})
