import { describe, expect, it } from "vitest"
import { clock } from "./format.ts"

describe("clock", () => {
  it("shows virtual time (a replay) as time since the start", () => {
    expect(clock(0)).toBe("0:00:00.000")
    expect(clock(3_723_004)).toBe("1:02:03.004")
    expect(clock(50 * 3_600_000)).toBe("50:00:00.000")
  })
  it("shows Unix time (a live node) as the UTC time of day", () => {
    // 2026-12-01T21:05:07.250Z
    expect(clock(Date.UTC(2026, 11, 1, 21, 5, 7, 250))).toBe("21:05:07.250")
    expect(clock(Date.UTC(2026, 11, 1, 3, 0, 0, 0))).toBe("03:00:00.000")
  })
})
