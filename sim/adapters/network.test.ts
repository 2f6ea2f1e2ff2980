import { Effect, Exit, Scope } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type Envelope, Network } from "../../runtime/services/network.ts"
import { networkSuite, type NetworkSetupArgs } from "../../runtime/services/compliance/network/index.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { Prng, toRatio } from "../kernel/prng.ts"
import { Scheduler } from "../kernel/scheduler.ts"
import { attachSimNetwork, decodeSimPayload, encodeSimPayload, layerSimNetwork, makeSimNetwork, simProvideRaw, type SimNetworkPortOptions } from "./network.ts"
import { SimNetwork, type SimNetworkOptions } from "./sim-network.ts"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** `n` nodes n0..n{n-1} on one simulated network, each with a port built in one scope. */
async function world(n: number, options: SimNetworkOptions = {}, seed = 1, portOptions: SimNetworkPortOptions = {}) {
  const scheduler = new Scheduler()
  const net = new SimNetwork({ scheduler, prng: Prng.fromSeed(seed).child("network") }, options)
  const scope = Effect.runSync(Scope.make())
  const ids = Array.from({ length: n }, (_, i) => `n${i}`)
  const ports = await Promise.all(ids.map((id) => run(Scope.provide(scope)(makeSimNetwork(net, id, portOptions)))))
  return {
    scheduler,
    net,
    ports,
    networks: ports.map((p) => p.network),
    settle: async () => void scheduler.runUntil(),
    provideRaw: async (node: number, key: string, data: Uint8Array) => simProvideRaw(net, ids[node]!, key, data),
    stop: async (node: number) => {
      ports[node]!.detach()
      net.setDown(ids[node]!, true)
    },
    close: () => run(Scope.close(scope, Exit.void)),
  }
}

/** The suite on fresh simulated worlds built by `make`, each closed at teardown. */
const simulated = (make: (n: number) => ReturnType<typeof world>) =>
  testSetup(async ({ nodes }: NetworkSetupArgs, cleanup) => {
    const w = await make(nodes)
    cleanup(w.close)
    return w
  })
networkSuite("sim (no faults)", simulated((n) => world(n)))
networkSuite("sim (duplication, jitter)", simulated((n) => world(n, { duplicate: toRatio(0.5), latency: { min: 1, max: 200 } }, 7)))

describe("Sim network port", () => {
  it("drops the bus's duplicates, counting them", async () => {
    const w = await world(2, { duplicate: toRatio(1) })
    try {
      const [a, b] = w.ports
      const got: Envelope[] = []
      await run(b!.network.subscribe("t", (m) => got.push(m)))
      for (let i = 0; i < 50; i++) await run(a!.network.publish("t", bytes(`${i}`)))
      await run(a!.network.send("n1", "t", bytes("direct")))
      await w.settle()
      expect(got).toHaveLength(51)
      expect(b!.stats().dropped.duplicate).toBe(51)
      expect(w.net.stats().duplicated).toBe(51)
    } finally {
      await w.close()
    }
  })

  it("hands every receiver of a publish the same payload object (decoded once per world), never the sender's buffer", async () => {
    const w = await world(4, { duplicate: toRatio(0.5) })
    try {
      const got: Uint8Array[] = []
      for (const n of w.networks.slice(1)) await run(n.subscribe("t", (m) => got.push(m.data)))
      const sent = bytes("shared")
      await run(w.networks[0]!.publish("t", sent))
      sent[0] = 0 // the sender's later changes do not travel
      await w.settle()
      expect(got).toHaveLength(3)
      expect(got[1]).toBe(got[0])
      expect(got[2]).toBe(got[0])
      expect(text(got[0]!)).toBe("shared")
    } finally {
      await w.close()
    }
  })

  it("delivers gossip only to nodes subscribed to the topic when it arrives", async () => {
    const w = await world(4)
    try {
      await run(w.networks[2]!.subscribe("t", () => {}))
      await run(w.networks[0]!.publish("t", bytes("x")))
      // Subscribing while the message is in flight still receives it.
      await run(w.networks[3]!.subscribe("t", () => {}))
      await w.settle()
      expect(w.net.stats().sent).toBe(3)
      expect(w.ports[2]!.stats().delivered).toBe(1)
      expect(w.ports[3]!.stats().delivered).toBe(1)
      expect(w.ports[1]!.stats().delivered).toBe(0)
      expect(w.ports[1]!.stats().dropped["unknown-topic"]).toBe(1)
    } finally {
      await w.close()
    }
  })

  it("is deterministic: same seed, same deliveries in the same order and at the same times", async () => {
    const trace = async (seed: number) => {
      const w = await world(5, { duplicate: toRatio(0.3), drop: toRatio(0.1) }, seed)
      const log: string[] = []
      try {
        for (const [i, n] of w.networks.entries()) await run(n.subscribe("t", (m) => log.push(`${w.scheduler.now} ${i}<-${m.from} ${text(m.data)}`)))
        for (const [i, n] of w.networks.entries()) {
          await run(n.publish("t", bytes(`p${i}`)))
          await run(n.send(`n${(i + 1) % 5}`, "t", bytes(`s${i}`)))
        }
        await w.settle()
        return log
      } finally {
        await w.close()
      }
    }
    const first = await trace(42)
    expect(first.length).toBeGreaterThan(10)
    expect(await trace(42)).toEqual(first)
    expect(await trace(43)).not.toEqual(first)
  })

  it("lists as peers only nodes that are up, attached and on its side of a partition", async () => {
    const w = await world(4)
    try {
      const peers = (i: number) => run(w.networks[i]!.peers)
      expect(await peers(0)).toEqual(["n1", "n2", "n3"])
      w.net.setDown("n1", true)
      expect(await peers(0)).toEqual(["n2", "n3"])
      w.net.partition([["n0", "n3"], ["n1", "n2"]])
      expect(await peers(0)).toEqual(["n3"])
      expect(await peers(1)).toEqual([])
      w.net.heal()
      expect(await peers(0)).toEqual(["n2", "n3"])
      w.net.setDown("n1", false)
      expect(await peers(0)).toEqual(["n1", "n2", "n3"])
      w.ports[2]!.detach()
      expect(await peers(0)).toEqual(["n1", "n3"])
      // the list is the caller's own
      ;(await peers(0) as string[]).pop()
      expect(await peers(0)).toEqual(["n1", "n3"])
    } finally {
      await w.close()
    }
  })

  it("lets a node restart: release its port, attach a new one, and keep sending without being taken for a duplicate", async () => {
    const scheduler = new Scheduler()
    const net = new SimNetwork({ scheduler, prng: Prng.fromSeed(3) })
    const got: string[] = []
    const b = attachSimNetwork(net, "b")
    await run(b.network.subscribe("t", (m) => got.push(text(m.data))))
    const first = Effect.runSync(Scope.make())
    const a1 = await run(Scope.provide(first)(makeSimNetwork(net, "a")))
    await run(a1.network.send("b", "t", bytes("before")))
    expect(() => attachSimNetwork(net, "a")).toThrow(/already has an attached port/)
    await run(Scope.close(first, Exit.void))
    // The released port fails cleanly instead of sending from a stopped node.
    const error = await run(a1.network.send("b", "t", bytes("x")).pipe(Effect.flip))
    expect(error.reason).toMatch(/released/)
    scheduler.runUntil()
    const a2 = attachSimNetwork(net, "a")
    await run(a2.network.send("b", "t", bytes("after")))
    scheduler.runUntil()
    expect(got).toEqual(["before", "after"])
    expect(b.stats().dropped.duplicate).toBe(0)
  })

  it("drops messages injected into the bus without the port's framing, and counts them", async () => {
    const w = await world(2)
    try {
      const got: string[] = []
      const drops: string[] = []
      const b = attachSimNetwork(w.net, "raw-receiver", { onDrop: (reason, from) => drops.push(`${reason}:${from}`) })
      await run(b.network.subscribe("t", (m) => got.push(text(m.data))))
      w.net.send("n0", "raw-receiver", "t", bytes("no header"))
      w.net.send("n0", "raw-receiver", "t", encodeSimPayload(1_000_000, bytes("framed")))
      w.net.send("n0", "raw-receiver", "t", new Uint8Array([0xda, 0x80, 0x80])) // truncated varint
      await w.settle()
      expect(got).toEqual(["framed"])
      expect(drops).toEqual(["malformed:n0", "malformed:n0"])
    } finally {
      await w.close()
    }
  })

  it("provides the port as a layer, detaching the node when the layer is released", async () => {
    const scheduler = new Scheduler()
    const net = new SimNetwork({ scheduler, prng: Prng.fromSeed(5) })
    const b = attachSimNetwork(net, "b")
    const got: string[] = []
    await run(b.network.subscribe("t", (m) => got.push(`${m.from}:${text(m.data)}`)))
    const program = Effect.gen(function*() {
      const network = yield* Network
      yield* network.send("b", "t", bytes("hi"))
      return network.self
    })
    expect(await run(Effect.scoped(program.pipe(Effect.provide(layerSimNetwork(net, "a")))))).toBe("a")
    scheduler.runUntil()
    expect(got).toEqual(["a:hi"])
    expect(await run(b.network.peers)).toEqual([]) // "a" was released
    // Built again (a restart), the same id works.
    await run(Effect.scoped(program.pipe(Effect.provide(layerSimNetwork(net, "a")))))
    scheduler.runUntil()
    expect(got).toEqual(["a:hi", "a:hi"])
  })

  it("property: the wire framing round-trips any sequence number and payload", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.uint8Array({ maxLength: 64 }), (seq, data) => {
        const decoded = decodeSimPayload(encodeSimPayload(seq, data))
        expect(decoded?.seq).toBe(seq)
        expect(decoded?.data).toEqual(data)
      }),
    )
  })

  it("property: random bytes on the bus never throw out of the port", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 20 }), (messages) => {
        const scheduler = new Scheduler()
        const net = new SimNetwork({ scheduler, prng: Prng.fromSeed(1) })
        net.register("attacker", { onMessage: () => {} })
        const victim = attachSimNetwork(net, "victim")
        Effect.runSync(victim.network.subscribe("t", () => {}))
        for (const m of messages) net.send("attacker", "victim", "t", m)
        scheduler.runUntil()
        const s = victim.stats()
        expect(s.delivered + s.dropped.malformed + s.dropped.duplicate).toBe(messages.length)
      }),
    )
  })
})
