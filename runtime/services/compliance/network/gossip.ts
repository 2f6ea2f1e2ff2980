/** Network compliance, gossip: a published message reaches every other subscriber exactly once. */
import { afterEach, describe, expect, it } from "vitest"
import { bytes, record, run, text, type NetworkTopic } from "./harness.ts"

/** The gossip tests. */
export const gossipTests = (topic: NetworkTopic): void => {
  const { eventually, withNetworks } = topic
  describe("gossip", () => {
    afterEach(() => topic.common.teardown())

    it("gossips a message to every other subscriber exactly once, not to the sender nor to non-subscribers", () =>
      withNetworks(4, async (h, [a, b, c, d]) => {
        const subs = [await record(a!, "t"), await record(b!, "t"), await record(c!, "t")]
        const other = await record(d!, "elsewhere")
        await h.settle()
        const sent = ["m1", "m2", "m3"]
        for (const m of sent) await run(a!.publish("t", bytes(m)))
        const summary = () => subs.map((s) => s.got.map((m) => text(m.data)))
        await eventually(h, () => subs.slice(1).every((s) => s.got.length >= sent.length), "delivery of 3 gossip messages to 2 subscribers", summary)
        await h.settle() // let any duplicate surface
        expect(subs[0]!.got, "the sender must not receive its own message").toEqual([])
        for (const s of subs.slice(1)) {
          expect(s.got.map((m) => text(m.data)).sort()).toEqual(sent)
          for (const m of s.got) {
            expect(m.from).toBe(a!.self)
            expect(m.topic).toBe("t")
          }
        }
        expect(other.got, "a node subscribed to another topic gets nothing").toEqual([])
      }))
  })
}
