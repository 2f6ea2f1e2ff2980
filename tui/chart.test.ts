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
