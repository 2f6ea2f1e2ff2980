/** Gossip links lost under a live connection are rebuilt (gossip-repair.ts): the bookkeeping, and two nodes on 127.0.0.1. */
import { peerIdFromString } from "@libp2p/peer-id"
import { Effect } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { gossipRepair } from "./gossip-repair.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "./test-harness.ts"

describe("gossipRepair", () => {
  const view = (connected: string[], known: string[], outbound: string[]) => ({ connected, known: new Set(known), outbound: new Set(outbound) })

  it("rebuilds a link only after it failed `strikes` checks in a row, and not again within the backoff", () => {
    const r = gossipRepair({ strikes: 2, backoffTicks: 3 })
    expect(r.check(view(["a", "b"], ["a", "b"], ["a", "b"]))).toEqual([])
    expect(r.check(view(["a", "b"], ["a"], ["a"]))).toEqual([]) // b: one strike
    expect(r.check(view(["a", "b"], ["a"], ["a"]))).toEqual(["b"]) // two in a row
    expect(r.check(view(["a", "b"], ["a"], ["a"]))).toEqual([]) // backoff
    expect(r.check(view(["a", "b"], ["a"], ["a"]))).toEqual([])
    expect(r.check(view(["a", "b"], ["a"], ["a"]))).toEqual(["b"]) // backoff over, strikes counted meanwhile
  })

  it("needs both: gossipsub knows the peer and holds a stream to it; a healthy check clears the strikes", () => {
    const r = gossipRepair({ strikes: 2 })
    expect(r.check(view(["a"], ["a"], []))).toEqual([])
    expect(r.check(view(["a"], ["a"], ["a"]))).toEqual([]) // healthy: strikes cleared
    expect(r.check(view(["a"], [], ["a"]))).toEqual([])
    expect(r.check(view(["a"], [], ["a"]))).toEqual(["a"])
  })

  it("forgets a peer that is no longer connected", () => {
    const r = gossipRepair({ strikes: 2 })
    expect(r.check(view(["a"], [], []))).toEqual([])
    expect(r.check(view([], [], []))).toEqual([])
    expect(r.check(view(["a"], [], []))).toEqual([]) // one strike again, not two
  })
})

describe("a gossip link lost under a live connection (libp2p, 127.0.0.1)", () => {
  let h: Libp2pHarness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  /** Node 0's gossipsub drops node 1 the way it does on an error reading node 1's stream; the connection stays. */
  const breakLink = (h: Libp2pHarness) => {
    const [a, b] = h.transports
    const pubsub = a!.node.services.pubsub as unknown as { handlePeerReadStreamError(err: Error, peer: unknown): void }
    pubsub.handlePeerReadStreamError(new Error("injected: stream reset"), peerIdFromString(b!.network.self))
    expect(a!.node.getConnections(peerIdFromString(b!.network.self)).length).toBeGreaterThan(0)
  }

  const subscribeBoth = async (h: Libp2pHarness) => {
    const received: string[][] = [[], []]
    for (const [i, t] of h.transports.entries()) {
      await Effect.runPromise(t.network.subscribe("t", (m) => void received[i]!.push(new TextDecoder().decode(m.data))))
    }
    await h.settle()
    return received
  }

  it("is rebuilt by reconnecting, and gossip flows again both ways", async () => {
    h = await startLibp2pNetworks(2, { node: { gossipCheckMs: 100 } })
    const received = await subscribeBoth(h)
    breakLink(h)
    // Node 0 has no stream to node 1 any more: its messages reach node 1 only once the link is rebuilt.
    let i = 0
    await vi.waitFor(async () => {
      await Effect.runPromise(h!.transports[0]!.network.publish("t", new TextEncoder().encode(`a${i++}`)))
      expect(received[1]!.length).toBeGreaterThan(0)
    }, { timeout: 60_000, interval: 100 })
    const stats = await Promise.all(h.transports.map((t) => Effect.runPromise(t.stats)))
    expect(stats[0]!.gossipRepairs).toBeGreaterThan(0)
    await vi.waitFor(async () => {
      await Effect.runPromise(h!.transports[1]!.network.publish("t", new TextEncoder().encode(`b${i++}`)))
      expect(received[0]!.length).toBeGreaterThan(0)
    }, { timeout: 60_000, interval: 100 })
  })

  it("stays broken without the check (why it exists): gossipsub does not rebuild it on its own", async () => {
    h = await startLibp2pNetworks(2, { node: { gossipCheckMs: 0 } })
    const received = await subscribeBoth(h)
    breakLink(h)
    // Published after the link broke: gossipsub drops each for want of a stream to node 1 (no error).
    for (let i = 0; i < 20; i++) {
      await Effect.runPromise(h.transports[0]!.network.publish("t", new TextEncoder().encode(`m${i}`)))
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(received[1]).toEqual([])
    expect(h.transports[0]!.node.getConnections(peerIdFromString(h.transports[1]!.network.self)).length).toBeGreaterThan(0)
  })
})
