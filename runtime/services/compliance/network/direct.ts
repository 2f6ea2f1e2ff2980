/** Network compliance, direct messages: to the target only, to oneself, and a NetworkError for an unknown peer. */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { bytes, record, run, text, type NetworkTopic } from "./harness.ts"

/** The direct tests. */
export const directTests = (topic: NetworkTopic): void => {
  const { eventually, withNetworks } = topic
  describe("direct", () => {
    afterEach(() => topic.common.teardown())

    it("sends a direct message to its target only, with the sender's id", () =>
      withNetworks(3, async (h, [a, b, c]) => {
        const subs = [await record(a!, "d"), await record(b!, "d"), await record(c!, "d")]
        await h.settle()
        await run(a!.send(c!.self, "d", bytes("to c")))
        await eventually(h, () => subs[2]!.got.length >= 1, "delivery of a direct message")
        await h.settle()
        expect(subs[2]!.got.map((m) => [m.from, m.topic, text(m.data)])).toEqual([[a!.self, "d", "to c"]])
        expect(subs[0]!.got).toEqual([])
        expect(subs[1]!.got).toEqual([])
      }))

    it("delivers a direct message a node sends to itself", () =>
      withNetworks(2, async (h, [a]) => {
        const got = await record(a!, "loop")
        await run(a!.send(a!.self, "loop", bytes("me")))
        await eventually(h, () => got.got.length >= 1, "delivery to self")
        expect(got.got.map((m) => [m.from, text(m.data)])).toEqual([[a!.self, "me"]])
      }))

    it("fails with a NetworkError (never a throw or a defect) when sending to an unknown peer", () =>
      withNetworks(2, async (h, [a, b]) => {
        const targets = ["not-a-peer-id", ...(h.unknownPeer === undefined ? [] : [h.unknownPeer])]
        for (const to of targets) {
          const error = await run(a!.send(to, "t", bytes("x")).pipe(Effect.match({ onFailure: (e) => e, onSuccess: () => undefined })))
          expect(error?._tag, `send to ${to}`).toBe("NetworkError")
          expect(error?.operation).toBe("send")
        }
        // The node still works afterwards.
        const got = await record(b!, "t")
        await h.settle()
        await run(a!.send(b!.self, "t", bytes("still fine")))
        await eventually(h, () => got.got.length === 1, "delivery after a failed send")
      }))
  })
}
