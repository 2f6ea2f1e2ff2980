/** Network compliance, payloads: bytes arrive intact, and a burst arrives exactly once. */
import { afterEach, describe, expect, it } from "vitest"
import { bytes, hex, noise, record, run, text, type NetworkTopic } from "./harness.ts"

/** The payloads tests. */
export const payloadsTests = (topic: NetworkTopic): void => {
  const { eventually, withNetworks } = topic
  describe("payloads", () => {
    afterEach(() => topic.common.teardown())

    it("carries payload bytes intact, from empty to 64 KiB, by gossip and by direct message", () =>
      withNetworks(2, async (h, [a, b]) => {
        const gossip = await record(b!, "g")
        const direct = await record(b!, "s")
        await h.settle()
        const payloads = [0, 1, 255, 4096, 65_536].map((n, i) => noise(n, i + 1))
        for (const p of payloads) {
          await run(a!.publish("g", p))
          await run(a!.send(b!.self, "s", p))
        }
        // The sender may reuse its buffer at once: what was sent must not change.
        for (const p of payloads) p.fill(0)
        const expected = [0, 1, 255, 4096, 65_536].map((n, i) => hex(noise(n, i + 1))).sort()
        await eventually(h, () => gossip.got.length >= payloads.length && direct.got.length >= payloads.length, "delivery of 5 payloads each way", () => [gossip.got.length, direct.got.length])
        await h.settle()
        for (const got of [gossip.got, direct.got]) {
          for (const m of got) expect(m.data).toBeInstanceOf(Uint8Array)
          expect(got.map((m) => hex(m.data)).sort()).toEqual(expected)
        }
      }))

    it("delivers a burst of concurrent sends and publishes, each exactly once", () =>
      withNetworks(2, async (h, [a, b]) => {
        const got = await record(b!, "burst")
        await h.settle()
        const n = 200
        await Promise.all(Array.from({ length: n }, (_, i) => run(a!.send(b!.self, "burst", bytes(`s${i}`)))))
        await Promise.all(Array.from({ length: n }, (_, i) => run(a!.publish("burst", bytes(`p${i}`)))))
        await eventually(h, () => got.got.length >= 2 * n, `delivery of ${2 * n} messages`, () => got.got.length)
        await h.settle()
        const seen = got.got.map((m) => text(m.data))
        expect(new Set(seen).size).toBe(2 * n)
        expect(seen).toHaveLength(2 * n)
      }))
  })
}
