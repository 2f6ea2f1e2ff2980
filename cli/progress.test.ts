import { describe, expect, it } from "vitest"
import { stallLine } from "./progress.ts"

describe("stallLine", () => {
  it("says how long no block came, what consensus waits for, and the peers reached of those expected", () => {
    const line = stallLine("node0", 31_400, { peers: 1, waiting: { line: "height 12 round 3 prevote: waiting for prevotes …; heard 2 of 3 power (quorum 3)", expectedPeers: 2 } })
    expect(line).toBe("node0 no block for 31s: height 12 round 3 prevote: waiting for prevotes …; heard 2 of 3 power (quorum 3); peers 1 of 2 validators")
  })

  it("before consensus starts", () => {
    expect(stallLine("n", 15_000, { peers: 0, waiting: null })).toBe("n no block for 15s: consensus has not started; peers 0 of ? validators")
  })
})
