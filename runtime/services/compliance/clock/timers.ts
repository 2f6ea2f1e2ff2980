/**
 * Clock compliance, timers: timers of one delay fire in the order they were set (and, where the clock
 * promises it, all timers in order of deadline); never inside `setTimeout`; never before their
 * deadline by the clock's own `now`; a cleared one never fires.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type ClockTopic, firings } from "./harness.ts"

/** The timer tests. */
export const timersTests = (topic: ClockTopic): void => {
  const { common, deadlineOrder, earlyMs, eventually } = topic
  describe("timers", () => {
    afterEach(() => common.teardown())

    if (deadlineOrder) {
      it("fire in order of deadline, whatever order they were set in", async () => {
        const h = await common.setup()
        const { fired, set } = firings(h)
        for (const ms of [30, 10, 20, 0, 25]) set(`${ms}`, ms)
        await eventually(h, () => fired.length === 5, "five timers firing", () => fired)
        expect(fired).toEqual(["0", "10", "20", "25", "30"])
      })
    }

    it("with the same deadline, fire in the order they were set", async () => {
      const h = await common.setup()
      const { fired, set } = firings(h)
      for (const label of ["a", "b", "c", "d", "e"]) set(label, 15)
      await eventually(h, () => fired.length === 5, "five timers firing", () => fired)
      expect(fired).toEqual(["a", "b", "c", "d", "e"])
    })

    it("never fire once cleared; clearing twice, or clearing a timer that fired, changes nothing", async () => {
      const h = await common.setup()
      const { fired, set } = firings(h)
      const first = set("first", 10)
      const cleared = set("cleared", 10)
      set("last", 10)
      h.clock.clearTimeout(cleared)
      h.clock.clearTimeout(cleared)
      // Timers of one delay fire in the order set, so once "last" fired, "cleared" would have too.
      await eventually(h, () => fired.includes("last"), "the last timer firing", () => fired)
      expect(fired).toEqual(["first", "last"])
      h.clock.clearTimeout(first)
      set("after", 10)
      await eventually(h, () => fired.includes("after"), "a timer set after the clears", () => fired)
      expect(fired).toEqual(["first", "last", "after"])
    })

    it("never run a callback inside setTimeout, even with no delay", async () => {
      const h = await common.setup()
      const { fired, set } = firings(h)
      set("zero", 0)
      set("negative", -5)
      expect(fired).toEqual([])
      await eventually(h, () => fired.length === 2, "timers with no delay firing", () => fired)
      expect(fired).toEqual(["zero", "negative"])
    })

    it("never fire before their deadline by the clock's own now, nor does one set by a firing timer", async () => {
      const h = await common.setup()
      const { fired, at, set } = firings(h)
      const setAt = new Map<string, number>()
      for (const ms of [1, 7, 20, 45]) {
        setAt.set(`${ms}`, h.now())
        set(`${ms}`, ms)
      }
      set("outer", 10, () => {
        setAt.set("inner", h.now())
        set("inner", 10)
      })
      await eventually(h, () => fired.length === 6, "six timers firing", () => fired)
      for (const [label, ms] of [["1", 1], ["7", 7], ["20", 20], ["45", 45], ["inner", 10]] as const) {
        expect(at.get(label)!, `timer ${label} fired at ${at.get(label)}, set at ${setAt.get(label)} for ${ms} ms`).toBeGreaterThanOrEqual(setAt.get(label)! + ms - earlyMs)
      }
      expect(fired.indexOf("inner")).toBeGreaterThan(fired.indexOf("outer"))
    })
  })
}
