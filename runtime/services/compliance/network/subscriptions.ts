/** Network compliance, subscriptions: delivery by topic, unsubscribing, and a handler that throws. */
import { afterEach, describe, expect, it } from "vitest"
import { bytes, record, run, text, type NetworkTopic } from "./harness.ts"

/** The subscriptions tests. */
export const subscriptionsTests = (topic: NetworkTopic): void => {
  const { eventually, withNetworks } = topic
  describe("subscriptions", () => {
    afterEach(() => topic.common.teardown())

    it("delivers by topic: a handler sees only its own topic, for gossip and direct messages", () =>
      withNetworks(2, async (h, [a, b]) => {
        const x = await record(b!, "x")
        const y = await record(b!, "y")
        await h.settle()
        await run(a!.publish("x", bytes("gossip-x")))
        await run(a!.send(b!.self, "y", bytes("direct-y")))
        await run(a!.send(b!.self, "unheard", bytes("nobody listens")))
        await eventually(h, () => x.got.length >= 1 && y.got.length >= 1, "delivery on two topics")
        await h.settle()
        expect(x.got.map((m) => text(m.data))).toEqual(["gossip-x"])
        expect(y.got.map((m) => text(m.data))).toEqual(["direct-y"])
      }))

    it("stops delivering to a handler once it unsubscribes, and keeps delivering to the others", () =>
      withNetworks(2, async (h, [a, b]) => {
        const first = await record(b!, "t")
        const second = await record(b!, "t")
        await h.settle()
        await run(a!.publish("t", bytes("before")))
        await eventually(h, () => first.got.length >= 1 && second.got.length >= 1, "delivery before unsubscribing")
        await first.unsubscribe()
        await first.unsubscribe() // idempotent
        await h.settle()
        await run(a!.publish("t", bytes("after")))
        await run(a!.send(b!.self, "t", bytes("after-direct")))
        await eventually(h, () => second.got.length >= 3, "delivery after the other handler unsubscribed")
        await h.settle()
        expect(first.got.map((m) => text(m.data))).toEqual(["before"])
        expect(second.got.map((m) => text(m.data)).sort()).toEqual(["after", "after-direct", "before"])

        await second.unsubscribe()
        await h.settle()
        await run(a!.send(b!.self, "t", bytes("nobody")))
        await h.settle()
        expect(second.got).toHaveLength(3)
      }))

    it("keeps delivering when a handler throws", () =>
      withNetworks(2, async (h, [a, b]) => {
        await run(b!.subscribe("t", () => {
          throw new Error("handler bug")
        }))
        const good = await record(b!, "t")
        await h.settle()
        await run(a!.publish("t", bytes("1")))
        await run(a!.send(b!.self, "t", bytes("2")))
        await eventually(h, () => good.got.length >= 2, "delivery next to a throwing handler")
        await run(a!.publish("t", bytes("3")))
        await eventually(h, () => good.got.length >= 3, "delivery after a handler threw")
        expect(good.got.map((m) => text(m.data)).sort()).toEqual(["1", "2", "3"])
      }))
  })
}
