/** Network compliance, faults: per-topic size limits before the handler, and cutting off a reported peer. */
import { afterEach, describe, expect, it } from "vitest"
import { DEFAULT_PEER_FAULT_POLICY } from "../../../core/peer-faults.ts"
import { bytes, noise, record, run, text, type NetworkTopic } from "./harness.ts"

/** The faults tests. */
export const faultsTests = (topic: NetworkTopic): void => {
  const { eventually, withNetworks } = topic
  describe("faults", () => {
    afterEach(() => topic.common.teardown())

    it("drops a message over the subscriber's size limit before its handler, gossip and direct alike", () =>
      withNetworks(2, async (h, [a, b]) => {
        const got: string[] = []
        await run(b!.subscribe("capped", (m) => got.push(m.data.length === 100 ? text(m.data) : `len ${m.data.length}`), { maxBytes: 100 }))
        await h.settle()
        const fits = "x".repeat(100)
        await run(a!.publish("capped", noise(101, 1)))
        await run(a!.send(b!.self, "capped", noise(5_000, 2)))
        await run(a!.publish("capped", bytes(fits)))
        await run(a!.send(b!.self, "capped", bytes(fits)))
        await eventually(h, () => got.length >= 2, "the two messages within the limit")
        await h.settle()
        expect(got).toEqual([fits, fits])
      }))

    it("stops delivering a peer's messages once it has been reported for enough faults, and keeps the others'", () =>
      withNetworks(3, async (h, [a, b, c]) => {
        const seen = await record(b!, "t")
        await h.settle()
        await run(a!.publish("t", bytes("a before")))
        await eventually(h, () => seen.got.some((m) => text(m.data) === "a before"), "a's message before the faults")
        for (let i = 0; i < DEFAULT_PEER_FAULT_POLICY.maxFaults; i++) await run(b!.report(a!.self, `test fault ${i}`))
        await h.settle()
        const before = seen.got.length
        await run(a!.publish("t", bytes("a after")))
        await Promise.resolve(run(a!.send(b!.self, "t", bytes("a direct after")))).catch(() => undefined) // may fail: b hung up on a
        await run(c!.publish("t", bytes("c after")))
        await eventually(h, () => seen.got.some((m) => text(m.data) === "c after"), "c's message after a was cut off")
        await h.settle()
        const after = seen.got.slice(before).map((m) => text(m.data))
        expect(after).toEqual(["c after"])
      }))
  })
}
