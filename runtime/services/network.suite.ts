/**
 * The Network port's compliance suite: every backend (simulated, libp2p) must pass it.
 *
 * `makeNetworks(n)` starts `n` connected nodes of one fresh network. `settle()` lets that world run
 * for a while: the simulator runs its scheduler dry, libp2p waits until subscriptions have spread
 * and a little longer. The suite never assumes one `settle()` is enough for a delivery (it retries,
 * within a bound), but it does assume that after a delivery has been seen, one more `settle()` lets
 * any duplicate or stray copy surface — that is how "exactly once" and "only the target" are checked.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { Envelope, Network, PeerId } from "./network.ts"

export interface NetworkHarness {
  readonly networks: readonly Network["Service"][]
  /** Lets the world run: messages in flight are delivered, subscriptions propagate. */
  settle(): Promise<void>
  /** Stops every node. */
  close(): Promise<void>
  /** A well-formed id of a peer that is not on this network, if the backend has such a notion. */
  readonly unknownPeer?: PeerId
}

export interface NetworkSuiteOptions {
  /** Most `settle()` rounds to wait for an expected delivery before failing. Default 100. */
  readonly maxRounds?: number
}

const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

/** Deterministic pseudo-random bytes (xorshift32), so a failure is the same on every run. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** Subscribes a handler that records what it gets. */
async function record(net: Network["Service"], topic: string) {
  const got: Envelope[] = []
  const unsubscribe = await run(net.subscribe(topic, (m) => got.push(m)))
  return { got, unsubscribe: () => run(unsubscribe) }
}

export const networkSuite = (
  name: string,
  makeNetworks: (n: number) => Promise<NetworkHarness>,
  options: NetworkSuiteOptions = {},
): void => {
  const maxRounds = options.maxRounds ?? 100

  /** Settles until `done()` holds; fails after `maxRounds` with `what` and the state `show()` reports. */
  const eventually = async (h: NetworkHarness, done: () => boolean, what: string, show: () => unknown = () => ""): Promise<void> => {
    for (let round = 0; round < maxRounds; round++) {
      await h.settle()
      if (done()) return
    }
    throw new Error(`${name}: ${what} did not happen within ${maxRounds} settle() rounds; state: ${JSON.stringify(show())}`)
  }

  const withNetworks = async (n: number, body: (h: NetworkHarness, nets: readonly Network["Service"][]) => Promise<void>) => {
    const h = await makeNetworks(n)
    try {
      expect(h.networks).toHaveLength(n)
      await body(h, h.networks)
    } finally {
      await h.close()
    }
  }

  describe(`Network compliance: ${name}`, () => {
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

    it("lists the other nodes as peers, and not itself", () =>
      withNetworks(3, async (h, nets) => {
        const ids = nets.map((n) => n.self)
        expect(new Set(ids).size).toBe(3)
        const peersOf = () => Promise.all(nets.map((n) => run(n.peers)))
        let seen: (readonly PeerId[])[] = []
        const complete = () => seen.every((ps, i) => ids.every((id, j) => j === i || ps.includes(id)))
        for (let round = 0; round < maxRounds && !complete(); round++) {
          await h.settle()
          seen = await peersOf()
        }
        expect(complete(), `peers never became complete: ${JSON.stringify(seen)}`).toBe(true)
        seen.forEach((ps, i) => expect(ps).not.toContain(ids[i]))
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

    it("delivers a direct message a node sends to itself", () =>
      withNetworks(2, async (h, [a]) => {
        const got = await record(a!, "loop")
        await run(a!.send(a!.self, "loop", bytes("me")))
        await eventually(h, () => got.got.length >= 1, "delivery to self")
        expect(got.got.map((m) => [m.from, text(m.data)])).toEqual([[a!.self, "me"]])
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
