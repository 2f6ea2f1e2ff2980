/**
 * Hostile input against a real node on 127.0.0.1: random bytes on the direct-message protocol,
 * random frames split anyhow, random gossip, oversized messages. The node must drop and count what
 * it cannot use, deliver what it can, and keep working — never crash (vitest fails the run on any
 * unhandled rejection or exception). Runs: DAI_LIBP2P_RUNS for each property (CI defaults 40, 25, 20
 * and 20), seed DAI_LIBP2P_SEED, path DAI_LIBP2P_PATH with `-t` naming the property
 * (scripts/property-env.ts).
 */
import { Effect } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Envelope } from "../../services/network.ts"
import { encodeFrame, type FrameLimits } from "./frame.ts"
import type { Libp2pNetwork } from "./network.ts"
import { daiProtocols } from "./node.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "./test-harness.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const LIBP2P = propertyEnv("LIBP2P", 40)
/** fast-check parameters and vitest timeout of a property whose CI count is `ci` (a run takes tens of ms; 1 s a run leaves room). */
const runs = (ci: number) => ({ params: { ...LIBP2P.params, numRuns: LIBP2P.runsOr(ci) }, timeout: LIBP2P.timeout(1_000, 120_000, LIBP2P.runsOr(ci)) })

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const bytes = (s: string) => new TextEncoder().encode(s)
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")
const VICTIM_MAX = 64 * 1024
const MSG = daiProtocols().directMessage

async function waitFor(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

let h: Libp2pHarness
let victim: Libp2pNetwork
let attacker: Libp2pNetwork
const got = new Map<string, Envelope[]>()
const received = (topic: string) => got.get(topic) ?? []

beforeAll(async () => {
  // These properties are about parsing: the victim must keep listening to the attacker however much
  // garbage it sends, so its fault policy never bans (banning is tested on its own below).
  const neverBan = { maxFaults: Number.MAX_SAFE_INTEGER, windowMs: 1, banMs: 1 }
  h = await startLibp2pNetworks(1, { node: { maxMessageBytes: VICTIM_MAX, peerFaults: neverBan } })
  victim = h.transports[0]!
  // The attacker accepts bigger messages, so its own checks let oversized ones out.
  attacker = await h.add({ maxMessageBytes: 1024 * 1024 })
  await run(attacker.dial((await run(victim.multiaddrs))[0]!))
  for (const topic of ["t", "canary"]) {
    got.set(topic, [])
    await run(victim.network.subscribe(topic, (m) => got.get(topic)!.push(m)))
  }
  await run(attacker.ready("t", 1))
})
afterAll(async () => {
  await h?.close()
})

/** Proves the victim still works: a fresh direct message gets through. */
let canaries = 0
async function canary(): Promise<void> {
  const n = ++canaries
  await run(attacker.network.send(victim.network.self, "canary", bytes(`${n}`)))
  await waitFor(() => received("canary").length === n, 5_000, () => `canary ${n} (victim stats ${JSON.stringify(Effect.runSync(victim.stats))})`)
}

/** Writes raw chunks on a fresh direct-message stream; the victim may abort it, which is fine. */
async function writeRaw(chunks: Uint8Array[]): Promise<void> {
  const stream = await attacker.node.dialProtocol(victim.node.peerId, MSG)
  try {
    for (const c of chunks) if (!stream.send(c)) await stream.onDrain()
    await stream.close()
  } catch {
    stream.abort(new Error("victim hung up"))
  }
}

const limits: FrameLimits = { maxBodyBytes: VICTIM_MAX + 258, maxTopicBytes: 256 }
/** Garbage, and near-misses of valid frames (which are the interesting garbage). */
const hostileChunk = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([t, d, at, x]) => {
    const frame = encodeFrame(t, d, limits)
    frame[at % frame.length]! ^= x // one corrupted byte
    return frame
  }),
  fc.integer({ min: VICTIM_MAX + 1000, max: 0xffffffff }).map((n) => {
    const header = new Uint8Array(4)
    new DataView(header.buffer).setUint32(0, n)
    return header
  }),
)

describe("libp2p node under hostile input", () => {
  it("property: random bytes on the direct-message protocol never crash the node", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileChunk, { minLength: 1, maxLength: 4 }), async (chunks) => {
        await writeRaw(chunks)
        await canary()
      }),
      runs(40).params,
    )
    const stats = await run(victim.stats)
    expect(stats.dropped.malformed + stats.dropped.oversized).toBeGreaterThan(0)
  }, runs(40).timeout)

  it("property: valid frames split into arbitrary chunks arrive exactly, in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 2048 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), async (payloads, cuts) => {
        const before = received("t").length
        const wire = Buffer.concat(payloads.map((p) => encodeFrame("t", p, limits)))
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b)
        const chunks = [...points, wire.length].map((p, i, all) => wire.subarray(i === 0 ? 0 : all[i - 1]!, p)).filter((c) => c.length > 0)
        await writeRaw(chunks)
        await waitFor(() => received("t").length >= before + payloads.length, 5_000, () => `${payloads.length} frames`)
        const now = received("t").slice(before)
        expect(now.map((m) => hex(m.data))).toEqual(payloads.map(hex))
        expect(now.every((m) => m.from === attacker.network.self)).toBe(true)
      }),
      runs(25).params,
    )
  }, runs(25).timeout)

  it("property: random gossip (any topic, any payload) is delivered on subscribed topics only, intact", async () => {
    const topic = fc.oneof(fc.constantFrom("t", "canary-not", "other"), fc.string({ minLength: 1, maxLength: 12 }))
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(topic, fc.uint8Array({ maxLength: 4096 })), { minLength: 1, maxLength: 6 }), async (messages) => {
        const before = received("t").length
        for (const [t, data] of messages) await run(attacker.network.publish(t, data))
        const expected = messages.filter(([t]) => t === "t").map(([, d]) => hex(d))
        await canary() // direct and gossip share nothing, so also wait for the gossip itself:
        await waitFor(() => received("t").length >= before + expected.length, 5_000, () => `${expected.length} gossip messages`)
        expect(received("t").slice(before).map((m) => hex(m.data)).sort()).toEqual([...expected].sort())
      }),
      runs(20).params,
    )
  }, runs(20).timeout)

  it("drops and counts oversized gossip and oversized direct messages, delivering neither", async () => {
    const before = await run(victim.stats)
    const t = received("t").length
    const big = new Uint8Array(VICTIM_MAX + 1).fill(7)
    await run(attacker.network.publish("t", big))
    // The victim aborts the stream when it reads the header; the attacker may or may not see an error.
    await run(Effect.ignore(attacker.network.send(victim.network.self, "t", big)))
    await waitFor(() => Effect.runSync(victim.stats).dropped.oversized >= before.dropped.oversized + 2, 5_000, () => "two oversized drops")
    await canary()
    expect(received("t").length).toBe(t)
  })

  it("refuses to send or publish more than its own limit, with a NetworkError", async () => {
    const big = new Uint8Array(VICTIM_MAX + 1)
    const errors = await Promise.all([
      run(Effect.flip(victim.network.publish("t", big))),
      run(Effect.flip(victim.network.send(attacker.network.self, "t", big))),
      run(Effect.flip(victim.network.send(attacker.network.self, "", bytes("x")))),
    ])
    expect(errors.map((e) => e._tag)).toEqual(["NetworkError", "NetworkError", "NetworkError"])
    expect(errors[0]!.reason).toMatch(/over the limit/)
  })

  // Last: gossipsub may score the attacker down for this, which would spoil any gossip test after it.
  it("property: random bytes on the gossipsub protocol never crash the node", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        const stream = await attacker.node.dialProtocol(victim.node.peerId, "/meshsub/1.1.0")
        try {
          for (const c of chunks) if (!stream.send(c)) await stream.onDrain()
          await stream.close()
        } catch {
          stream.abort(new Error("victim hung up"))
        }
        await canary()
      }),
      runs(20).params,
    )
  }, runs(20).timeout)
})

describe("libp2p node cutting off a faulty peer", () => {
  it("disconnects and refuses a peer after enough oversized messages, and keeps serving the others", async () => {
    const cut = await startLibp2pNetworks(1, { node: { maxMessageBytes: VICTIM_MAX, peerFaults: { maxFaults: 3, windowMs: 60_000, banMs: 60_000 } } })
    try {
      const target = cut.transports[0]!
      const bad = await cut.add({ maxMessageBytes: 1024 * 1024 })
      const good = await cut.add({})
      const heard: string[] = []
      await run(target.network.subscribe("t", (m) => heard.push(`${m.from === good.network.self ? "good" : "bad"}:${m.data.length}`), { maxBytes: 1_000 }))
      for (const peer of [bad, good]) await run(peer.dial((await run(target.multiaddrs))[0]!))
      await run(bad.ready("t", 1))
      await run(good.ready("t", 1))
      for (let i = 0; i < 3; i++) await run(Effect.ignore(bad.network.send(target.network.self, "t", new Uint8Array(2_000))))
      await waitFor(() => Effect.runSync(target.stats).banned === 1, 10_000, () => `the ban (stats ${JSON.stringify(Effect.runSync(target.stats))})`)
      await waitFor(() => !Effect.runSync(target.network.peers).includes(bad.network.self), 10_000, () => "the bad peer's disconnection")
      // It cannot come back while banned: the gater refuses its connection, and what it sends is not heard.
      await Promise.resolve(run(bad.dial((await run(target.multiaddrs))[0]!))).catch(() => undefined)
      await run(Effect.ignore(bad.network.send(target.network.self, "t", new Uint8Array(10))))
      await run(good.network.send(target.network.self, "t", new Uint8Array(10)))
      await waitFor(() => heard.includes("good:10"), 5_000, () => `the good peer's message (heard ${heard.join(", ")})`)
      expect(heard.filter((x) => x.startsWith("bad"))).toEqual([])
      expect(Effect.runSync(target.network.peers)).not.toContain(bad.network.self)
    } finally {
      await cut.close()
    }
  })
})
