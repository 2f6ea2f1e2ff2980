import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, signDigest, verifySignature } from "../../core/crypto.ts"
import type { Envelope } from "../../services/network.ts"
import { inProcessBus } from "../test-bus.ts"
import { accountNetwork, MARKET_HELLO_TOPIC, startMarketDirectory } from "./directory.ts"

const bus = inProcessBus

const key = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? n : 1))
const accounts = new Map([[addressOfPrivateKey(key(1)).toLowerCase(), "node0"], [addressOfPrivateKey(key(2)).toLowerCase(), "node1"]])

const node = (b: ReturnType<typeof bus>, peer: string, k: Uint8Array, invalid: string[] = []) =>
  startMarketDirectory({
    chainId: 7, network: b.port(peer), clock: { setTimeout: () => 0, clearTimeout: () => {} }, now: () => 0, run: (e) => Effect.runSync(e),
    address: addressOfPrivateKey(k), sign: (d) => signDigest(k, d), verify: verifySignature,
    accountOf: (a) => accounts.get(a.toLowerCase()) ?? a.toLowerCase(), invalid: (p, reason) => void invalid.push(`${p}: ${reason}`),
  })

describe("market directory", () => {
  it("maps accounts to peers by signed hellos, and the account network speaks in accounts", () => {
    const b = bus()
    const a = node(b, "peerA", key(1))
    const c = node(b, "peerB", key(2)) // its hello reaches A, whose answer reaches it
    expect(a.peerOf("node1")).toBe("peerB")
    expect(c.peerOf("node0")).toBe("peerA")
    expect(c.accountOf("peerA")).toBe("node0")
    expect(a.accounts()).toEqual(["node0", "node1"])

    const netA = accountNetwork(b.port("peerA"), a)
    const netB = accountNetwork(b.port("peerB"), c)
    const got: Envelope[] = []
    Effect.runSync(netB.subscribe("market/v1", (m) => void got.push(m)))
    Effect.runSync(netA.send("node1", "market/v1", new Uint8Array([1])))
    expect(got.map((m) => m.from)).toEqual(["node0"])
    expect(Effect.runSync(Effect.flip(netA.send("node9", "market/v1", new Uint8Array([1])))).reason).toMatch(/no peer known for account node9/)

    b.provided.push({ peer: "peerB", addrs: [], record: { pricePerUnit: 1n, capacity: 1, queue: 0 } }, { peer: "stranger", addrs: [], record: { pricePerUnit: 1n, capacity: 1, queue: 0 } })
    expect(Effect.runSync(netA.findProviders("market/infer:mnist")).map((p) => p.peer)).toEqual(["node1"])
  })

  it("refuses a hello replayed by another peer, and a malformed one", () => {
    const b = bus()
    const invalid: string[] = []
    const a = node(b, "peerA", key(1), invalid)
    // B's hello, signed for peerB, sent from peerC: the signature does not cover peerC.
    const replay = new Uint8Array()
    let helloOfB: Uint8Array = replay
    Effect.runSync(b.port("spy").subscribe(MARKET_HELLO_TOPIC, (m) => void (helloOfB = m.data)))
    node(b, "peerB", key(2))
    b.deliver("peerA", "peerC", MARKET_HELLO_TOPIC, helloOfB)
    expect(a.accountOf("peerC")).toBeUndefined()
    b.deliver("peerA", "peerD", MARKET_HELLO_TOPIC, new TextEncoder().encode('{"v":1,"address":"0x1"}'))
    expect(invalid).toEqual([expect.stringMatching(/^peerC: market hello of 0x[0-9a-f]{40}: bad signature for peer peerC$/), expect.stringMatching(/^peerD: malformed market hello/)])
    expect(a.peerOf("node1")).toBe("peerB")
  })
})
