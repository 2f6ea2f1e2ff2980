/** Peer discovery over the private DHT, and the warm-up before gossip, with real nodes on 127.0.0.1. */
import { Effect, Exit, Scope } from "effect"
import { describe, expect, it } from "vitest"
import type { Envelope } from "../../services/network.ts"
import { makeLibp2pNetwork } from "./network.ts"
import { newPeerKey } from "./node.ts"
import { startLibp2pNetworks } from "./test-harness.ts"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

async function waitFor(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("libp2p discovery", () => {
  it("4 nodes that only know one bootstrap peer find each other through the DHT and can all reach each other", async () => {
    const h = await startLibp2pNetworks(4, { topology: "star", node: { discoveryIntervalMs: 1_000, sendTimeoutMs: 3_000 } })
    try {
      // Nodes 1..3 were given only node 0's address: every other connection was found through the DHT.
      await Promise.all(h.transports.map((t) => run(t.awaitPeers(3, 20_000))))
      const ids = h.networks.map((n) => n.self)
      const got = h.networks.map(() => [] as Envelope[])
      for (const [i, n] of h.networks.entries()) await run(n.subscribe("hello", (m) => got[i]!.push(m)))
      for (const [i, n] of h.networks.entries()) {
        for (const to of ids) if (to !== n.self) await run(n.send(to, "hello", bytes(`from ${i}`)))
      }
      await waitFor(() => got.every((g) => g.length === 3), 5_000, () => JSON.stringify(got.map((g) => g.length)))
      for (const [i, g] of got.entries()) {
        expect(new Set(g.map((m) => m.from))).toEqual(new Set(ids.filter((_, j) => j !== i)))
      }

      // Warm-up: once `ready` says every other node subscribes, one publish reaches them all.
      const gossip = h.networks.map(() => [] as string[])
      for (const [i, n] of h.networks.entries()) await run(n.subscribe("blocks", (m) => gossip[i]!.push(text(m.data))))
      await Promise.all(h.transports.map((t) => run(t.ready("blocks", 3, 10_000))))
      await run(h.networks[3]!.publish("blocks", bytes("block 1")))
      await waitFor(() => [0, 1, 2].every((i) => gossip[i]!.length === 1), 5_000, () => JSON.stringify(gossip))
      expect(gossip).toEqual([["block 1"], ["block 1"], ["block 1"], []])
    } finally {
      await h.close()
    }
  })

  it("keeps dialling its bootstrap peer until it comes up", async () => {
    const key = await newPeerKey()
    const scopes: Scope.Closeable[] = []
    const start = async (options: Parameters<typeof makeLibp2pNetwork>[0]) => {
      const scope = Effect.runSync(Scope.make())
      scopes.push(scope)
      return { scope, net: await run(Scope.provide(scope)(makeLibp2pNetwork(options))) }
    }
    try {
      // Learn a free port and the bootstrap node's address, then stop it.
      const first = await start({ privateKey: key })
      const addr = (await run(first.net.multiaddrs))[0]!
      await run(Scope.close(first.scope, Exit.void))
      const joiner = await start({ bootstrap: [addr], discoveryIntervalMs: 500, sendTimeoutMs: 1_000 })
      expect(await run(joiner.net.network.peers)).toEqual([])
      const listen = [addr.replace(/\/p2p\/.*$/, "")]
      const again = await start({ privateKey: key, listen })
      expect(again.net.network.self).toBe(first.net.network.self)
      await run(joiner.net.awaitPeers(1, 10_000))
      expect(await run(joiner.net.network.peers)).toEqual([again.net.network.self])
    } finally {
      for (const s of scopes.reverse()) await run(Scope.close(s, Exit.void))
    }
  })

  it("fails `ready` with a clear NetworkError when nobody subscribes in time", async () => {
    const h = await startLibp2pNetworks(2)
    try {
      const error = await run(Effect.flip(h.transports[0]!.ready("nobody", 1, 200)))
      expect(error._tag).toBe("NetworkError")
      expect(error.reason).toMatch(/knows 0 of 1 subscribers of "nobody" after 200 ms/)
    } finally {
      await h.close()
    }
  })
})
