import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fractionRange, lineChart } from "./chart.ts"
import { items, push, replaceLast, ring, size } from "./ring.ts"

describe("lineChart", () => {
  it("plots each value in its column and row, with the range on the axis", () => {
    const lines = lineChart([0, 0.5, 1], { width: 10, height: 3, min: 0, max: 1, digits: 1 })
    expect(lines).toEqual([
      "1.0 |  *  ",
      "    | *   ",
      "0.0 |*    ",
      "    +-----",
    ])
  })

  it("joins a jump of more than one row with a stroke, and shows only the newest points that fit", () => {
    const lines = lineChart([5, 9, 0, 10], { width: 6, height: 5, digits: 0 })
    // Axis labels are 2 wide, so the plot has 6 - 2 - 2 = 2 columns: the last two points, 0 then 10.
    expect(lines).toEqual(["10 | *", "   | |", "   | |", "   | |", " 0 |* ", "   +--"])
  })

  it("draws an empty frame for no data and a flat line for a constant", () => {
    expect(lineChart([], { width: 8, height: 2 })).toHaveLength(3)
    const flat = lineChart([2, 2, 2], { width: 12, height: 3, digits: 1 })
    expect(flat).toEqual(["2.5 |       ", "    |***    ", "1.5 |       ", "    +-------"])
  })

  it("draws a constant too large for ± 0.5 to change it (a CI run's random telemetry: a loss of -5.4e15)", () => {
    const lines = lineChart([-5416782468300222], { width: 40, height: 4, digits: 0 })
    expect(lines.filter((l) => l.includes("*"))).toHaveLength(1)
  })

  it("draws any finite values in a frame of the asked size, one glyph per point shown (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), fc.integer(), fc.constant(undefined)), { maxLength: 30 }),
        fc.integer({ min: 2, max: 8 }),
        (values, height) => {
          const lines = lineChart(values, { width: 200, height, digits: 0 })
          expect(lines).toHaveLength(height + 1)
          const finite = values.filter((v) => v !== undefined && Number.isFinite(v)).length
          // Each point is one glyph in its own column (the plot is wider than 30 columns).
          expect(lines.slice(0, height).join("").split("*").length - 1).toBe(finite)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe("ring", () => {
  it("keeps the newest cap items, oldest first, without changing earlier rings", () => {
    let r = ring<number>(100)
    const early: Array<typeof r> = []
    for (let i = 0; i < 250; i++) {
      r = push(r, i)
      if (i === 9) early.push(r)
    }
    expect(items(r)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i))
    expect(items(r, 3)).toEqual([247, 248, 249])
    expect(size(r)).toBe(100)
    expect(items(early[0]!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(items(replaceLast(r, (x) => -x)).at(-1)).toBe(-249)
  })

  it("rejects a cap that is not a positive integer", () => {
    expect(() => ring(0)).toThrow(/cap must be a positive integer/)
  })
})

describe("lineChart for rounds", () => {
  it("spreads few points over the width, labels the first and last round, and fits accuracy to its own range", () => {
    const acc = [0.9, 0.91, 0.92]
    const range = fractionRange(acc)
    expect(range).toEqual({ min: 0.85, max: 0.97 })
    expect(fractionRange([])).toEqual({ min: 0, max: 1 })
    const lines = lineChart(acc, { width: 26, height: 3, ...range, digits: 2, stretch: true, xLabels: ["round 8", "round 9", "round 10"] })
    expect(lines).toEqual([
      "0.97 |                    ",
      "     |*         *        *",
      "0.85 |                    ",
      "     +--------------------",
      "      round 8     round 10",
    ])
  })
})
