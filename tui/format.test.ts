import { describe, expect, it } from "vitest"
import { clock, votesText } from "./format.ts"

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

describe("votesText", () => {
  it("reads a linear tally (stake in wei) as DAI, and a quadratic one as √DAI; both fit 7 columns", () => {
    // 750,000 DAI of linear votes used to be cut to "750000…".
    expect(votesText(750_000n * 10n ** 18n)).toBe("750k")
    expect(votesText(300_000_000n * 10n ** 18n)).toBe("300M")
    // √(1M DAI in wei) = 1e12: 1,000 √DAI.
    expect(votesText(10n ** 12n)).toBe("1.00k")
    expect(votesText(0n)).toBe("0")
    for (const v of [1n, 10n ** 14n, 10n ** 15n, 10n ** 27n]) expect(votesText(v).length).toBeLessThanOrEqual(7)
  })
})
