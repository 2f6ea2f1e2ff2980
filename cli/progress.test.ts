import { describe, expect, it, vi } from "vitest"
import type { RunningNode } from "../runtime/node/run-node.ts"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { marketLine, marketProgress, stallLine, watchStalls } from "./progress.ts"

describe("stallLine", () => {
  it("says how long no block came, what consensus waits for, and the peers reached of those expected", () => {
    const line = stallLine("node0", 31_400, { peers: 1, waiting: { line: "height 12 round 3 prevote: waiting for prevotes …; heard 2 of 3 power (quorum 3)", expectedPeers: 2 } })
    expect(line).toBe("node0 no block for 31s: height 12 round 3 prevote: waiting for prevotes …; heard 2 of 3 power (quorum 3); peers 1 of 2 validators")
  })

  it("before consensus starts", () => {
    expect(stallLine("n", 15_000, { peers: 0, waiting: null })).toBe("n no block for 15s: consensus has not started; peers 0 of ? validators")
  })
})

describe("watchStalls", () => {
  it("reports the waiting line while no block commits, and clears it when one does", async () => {
    vi.useFakeTimers()
    try {
      const listeners: ((e: TelemetryEvent) => void)[] = []
      const node = {
        name: "n0",
        telemetry: { subscribe: (l: (e: TelemetryEvent) => void) => (listeners.push(l), () => void listeners.splice(listeners.indexOf(l), 1)) },
        api: { status: async () => ({ peers: 1, waiting: { line: "height 3 round 0 prevote: waiting for prevotes", expectedPeers: 2 } }) },
      } as unknown as RunningNode
      const seen: (string | undefined)[] = []
      const stop = watchStalls(node, (line) => seen.push(line), 1_000)
      await vi.advanceTimersByTimeAsync(999)
      expect(seen).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(seen).toEqual(["n0 no block for 1s: height 3 round 0 prevote: waiting for prevotes; peers 1 of 2 validators"])
      for (const l of listeners) l({ at: 0, node: "n0", kind: "block.committed", data: { height: 3 } })
      expect(seen.at(-1)).toBeUndefined()
      await vi.advanceTimersByTimeAsync(500)
      expect(seen).toHaveLength(2)
      stop()
      expect(listeners).toHaveLength(0)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe("market progress", () => {
  const snap = (settled: number, burnt: string, toStakers: string, units = "0"): TelemetryEvent =>
    ({ at: 0, node: "node0", kind: "market", data: { totals: { jobs: { settled }, paidUnits: units, feeBurnt: burnt, feeToStakers: toStakers } } })

  it("says jobs settled, units paid and fees burnt and shared, in DAI", () => {
    expect(marketLine({ settled: 5, units: "100", feeBurnt: "75000000000000000", feeToStakers: "175000000000000000" }))
      .toBe("market: 5 jobs settled, 100 units, burnt 0.075 DAI, to stakers 0.175 DAI")
    expect(marketLine({ settled: 1, units: "20", feeBurnt: "0", feeToStakers: "0" })).toBe("market: 1 job settled, 20 units, burnt 0 DAI, to stakers 0 DAI")
  })

  it("prints a line when the jobs settled change, not at every snapshot, and keeps the newest summary", () => {
    const p = marketProgress()
    expect(p.line({ at: 0, node: "node0", kind: "block.committed", data: {} })).toBeUndefined()
    expect(p.line(snap(0, "0", "0"))).toBeUndefined()
    expect(p.line(snap(1, "15000000000000000", "35000000000000000", "20"))).toBe("market: 1 job settled, 20 units, burnt 0.015 DAI, to stakers 0.035 DAI")
    expect(p.line(snap(1, "15000000000000000", "35000000000000000", "20"))).toBeUndefined()
    expect(p.line(snap(2, "30000000000000000", "70000000000000000", "40"))).toMatch(/^market: 2 jobs settled, 40 units/)
    expect(p.last()).toEqual({ settled: 2, units: "40", feeBurnt: "30000000000000000", feeToStakers: "70000000000000000" })
    // A malformed snapshot reads as zeros, never throws.
    expect(p.line({ at: 0, node: "node0", kind: "market", data: { totals: { feeBurnt: -1 } } })).toBeUndefined()
  })
})
