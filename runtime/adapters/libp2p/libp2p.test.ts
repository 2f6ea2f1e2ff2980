/** The Network compliance suite against real libp2p nodes on 127.0.0.1. */
import { Effect, Layer } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { Network } from "../../services/network.ts"
import { networkSuite, type NetworkSetupArgs } from "../../services/compliance/network/index.ts"
import { testSetup } from "../../services/compliance/test-setup.ts"
import { layerLibp2pNetwork, Libp2pTransport, perKeyLimiter } from "./network.ts"
import { decodePeerKey, encodePeerKey, peerIdOf, peerKeyFromSeed } from "./node.ts"
import { startLibp2pNetworks } from "./test-harness.ts"

// sendTimeoutMs bounds the "unknown peer" case, not the setup: the harness dials a full mesh and waits
// until every node is connected, for up to its own generous connectTimeoutMs (a loaded machine once took
// longer than 3 s to dial); the discovery loop is not needed.
networkSuite("libp2p", testSetup(async ({ nodes }: NetworkSetupArgs, cleanup) => {
  const h = await startLibp2pNetworks(nodes, { node: { sendTimeoutMs: 3_000 } })
  cleanup(h.close)
  return h
}))

describe("libp2p Network layer", () => {
  it("starts the node when the layer is built and stops it when the scope closes", async () => {
    const { node, self } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function*() {
          const net = yield* Network
          const transport = yield* Libp2pTransport
          expect(net.self).toBe(transport.network.self)
          expect(transport.node.status).toBe("started")
          const addrs = yield* transport.multiaddrs
          expect(addrs.every((a) => a.startsWith("/ip4/127.0.0.1/tcp/") && a.endsWith(`/p2p/${net.self}`))).toBe(true)
          return { node: transport.node, self: net.self }
        }).pipe(Effect.provide(layerLibp2pNetwork())),
      ),
    )
    expect(self).toMatch(/^12D3KooW/)
    expect(node.status).toBe("stopped")
  })

  it("keeps its peer id across restarts when given a key", async () => {
    const key = await peerKeyFromSeed(new Uint8Array(32).fill(9))
    const again = decodePeerKey(encodePeerKey(key))
    const selfOf = (k: typeof key) =>
      Effect.runPromise(Effect.scoped(Effect.map(Network, (n) => n.self).pipe(Effect.provide(layerLibp2pNetwork({ privateKey: k })))))
    const first = await selfOf(key)
    expect(await selfOf(again)).toBe(first)
    expect(peerIdOf(key)).toBe(first)
  })

  it("fails to build with a NetworkError on a bad option, not a defect", async () => {
    const error = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(layerLibp2pNetwork({ bootstrap: ["not a multiaddr"] })))))
    expect(error._tag).toBe("NetworkError")
    expect(error.reason).toMatch(/bad bootstrap multiaddr/)
  })
})

describe("perKeyLimiter", () => {
  it("runs at most `max` tasks per key, in FIFO order, and lets a waiter give up", async () => {
    const limit = perKeyLimiter(2)
    const log: string[] = []
    const gates = new Map<string, () => void>()
    const task = (name: string) => () => new Promise<string>((resolve) => {
      log.push(`start ${name}`)
      gates.set(name, () => resolve(name))
    })
    const never = new AbortController().signal
    const quitter = new AbortController()
    const a = limit("p", never, task("a"))
    const b = limit("p", never, task("b"))
    const c = limit("p", quitter.signal, task("c"))
    const d = limit("p", never, task("d"))
    const other = limit("q", never, task("other"))
    await new Promise((r) => setTimeout(r, 0))
    expect(log).toEqual(["start a", "start b", "start other"])
    quitter.abort(new Error("gave up"))
    await expect(c).rejects.toThrow("gave up")
    gates.get("a")!()
    await a
    await new Promise((r) => setTimeout(r, 0))
    expect(log).toEqual(["start a", "start b", "start other", "start d"])
    for (const name of ["b", "d", "other"]) gates.get(name)!()
    expect(await Promise.all([b, d, other])).toEqual(["b", "d", "other"])
  })

  describe("with a stall bound", () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it("keeps waiters while tasks of their key finish, however long the queue takes, and fails them once none has for stallMs", async () => {
      vi.useFakeTimers()
      const limit = perKeyLimiter(1, 1_000)
      const never = new AbortController().signal
      const gates: Array<() => void> = []
      const task = (name: string) => () => new Promise<string>((resolve) => gates.push(() => resolve(name)))
      const results = ["a", "b", "c", "d"].map((name) => limit("p", never, task(name)).then((v) => v, (e: Error) => `failed: ${e.message}`))
      const other = limit("q", never, task("other"))
      await vi.advanceTimersByTimeAsync(0)
      // a, then b, finish 900 ms apart: c and d wait 1,800 ms, more than stallMs, and are not failed for it.
      await vi.advanceTimersByTimeAsync(900)
      gates.shift()!() // a
      await vi.advanceTimersByTimeAsync(900)
      gates.shift()!() // "other" is q's: its own key, no waiters
      gates.shift()!() // b
      await vi.advanceTimersByTimeAsync(999)
      // c has run for 999 ms and d has waited as long behind it: one more ms without a finish fails d, not c.
      await vi.advanceTimersByTimeAsync(1)
      gates.shift()!() // c
      expect(await Promise.all(results)).toEqual(["a", "b", "c", "failed: no task of p finished in 1000 ms"])
      expect(await other).toBe("other")
      expect(gates).toEqual([])
    })
  })
})
