/** Clock compliance, now: a whole number of ms that never runs backwards while time passes and timers fire. */
import { afterEach, describe, expect, it } from "vitest"
import { type ClockTopic, expectWholeMs } from "./harness.ts"

/** The `now` tests. */
export const nowTests = (topic: ClockTopic): void => {
  const { common, eventually } = topic
  describe("now", () => {
    afterEach(() => common.teardown())

    it("is a whole number of ms that never runs backwards, read between steps and inside timers", async () => {
      const h = await common.setup()
      const seen: number[] = [h.now()]
      for (const ms of [0, 3, 8, 13]) h.clock.setTimeout(() => seen.push(h.now()), ms)
      for (let i = 0; i < 4; i++) {
        await h.advance(4)
        seen.push(h.now())
      }
      await eventually(h, () => seen.length === 9, "four timers firing", () => seen)
      seen.forEach((t, i) => expectWholeMs(t, `now #${i}`))
      for (let i = 1; i < seen.length; i++) expect(seen[i]!, `now #${i} after #${i - 1}: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(seen[i - 1]!)
    })
  })
}
