/**
 * Block sync over the simulated backends (the same actor a real node runs): a request is answered
 * with at most SYNC_BATCH stored certificates from the asked height, sent to the asker on the
 * consensus topic; a malformed request is counted against its sender and answered with nothing; a
 * node that was down catches up through several batches to the same blocks as the others.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeMessage } from "../../runtime/core/consensus/codec.ts"
import { blockHash } from "../../runtime/core/consensus/block.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { attachSimNetwork } from "../adapters/network.ts"
import { parseScenario } from "../scenario/load.ts"
import { ConsensusWorld } from "./world.ts"
import { CONSENSUS_TOPIC, SYNC_TOPIC } from "../../runtime/actors/consensus/topics.ts"
import { SYNC_BATCH } from "../../runtime/actors/sync/block-sync.ts"

const scenario = parseScenario("name: sync-test\nnetwork: { validators: 4 }\nuntil: { height: 200 }\n", "sync-test.yaml")
const utf8 = new TextEncoder()

const world = () => {
  const events: TelemetryEvent[] = []
  const w = new ConsensusWorld({ scenario, seed: 5, observe: (e) => events.push(e), traceDeliveries: false })
  w.startAll()
  /** Block hashes each node committed, by height. */
  const committed = (node: string) =>
    new Map(events.filter((e) => e.kind === "block.committed" && e.node === node).map((e) => [e.data["height"] as number, e.data["hash"] as string]))
  const runTo = (height: number, node = "v0") => {
    w.scheduler.runUntil({ time: w.scheduler.now + 600_000, predicate: () => (w.app(node)?.height ?? 0) >= height })
    expect(w.app(node)?.height, `${node} reached height ${height}`).toBeGreaterThanOrEqual(height)
  }
  return { w, events, committed, runTo }
}

describe("block sync", () => {
  it("answers a request with the stored certificates from the asked height, a batch at most, to the asker only", () => {
    const { w, events, committed, runTo } = world()
    runTo(SYNC_BATCH + 10)
    const asker = attachSimNetwork(w.net, "x0")
    /** Certificates x0 received, by sender. */
    const certs: { from: string; height: number; hash: string }[] = []
    Effect.runSync(asker.network.subscribe(CONSENSUS_TOPIC, (env) => {
      const m = decodeMessage(env.data)
      if (Result.isSuccess(m) && m.success.kind === "commit") certs.push({ from: env.from, height: m.success.block.height, hash: blockHash(m.success.block) })
    }))
    const ask = (body: string) => Effect.runSync(asker.network.send("v0", SYNC_TOPIC, utf8.encode(body)))
    ask(JSON.stringify({ from: 3 }))
    ask(JSON.stringify({ from: 10_000 })) // past v0's height: nothing to send
    w.scheduler.runUntil({ time: w.scheduler.now + 5_000 })
    // Only sync answers carry certificates: consensus gossips proposals and votes.
    expect(certs.every((c) => c.from === "v0")).toBe(true)
    const heights = certs.map((c) => c.height).sort((a, b) => a - b)
    expect(heights).toEqual(Array.from({ length: SYNC_BATCH }, (_, i) => 3 + i))
    const mine = committed("v0")
    for (const c of certs) expect(c.hash, `certificate of height ${c.height}`).toBe(mine.get(c.height))

    // Malformed requests: counted against x0 with the reason, and not answered.
    certs.length = 0
    for (const body of ["not json", JSON.stringify({ from: 0 }), JSON.stringify({ from: 1.5 }), JSON.stringify({ from: 1, more: true })]) ask(body)
    w.scheduler.runUntil({ time: w.scheduler.now + 5_000 })
    expect(certs).toEqual([])
    expect(w.slots.get("v0")!.node!.faults.get("x0")).toBe(4)
    // (Messages may arrive in any order: each has its own latency.)
    expect(events.filter((e) => e.kind === "net.invalid" && e.node === "v0").map((e) => `${String(e.data["from"])}: ${String(e.data["reason"])}`).sort()).toEqual([
      "x0: sync request: expected { from: height }",
      "x0: sync request: expected { from: height }",
      "x0: sync request: expected { from: height }",
      "x0: sync request: not JSON",
    ])
    expect(w.errors).toEqual([])
  })

  it("a node that was down catches up through several batches, to the blocks the others decided", () => {
    const { w, committed, runTo } = world()
    runTo(2)
    w.crash("v3")
    runTo(3 * SYNC_BATCH)
    const target = w.app("v0")!.height
    w.start("v3")
    runTo(target + 2, "v3")
    const [mine, theirs] = [committed("v3"), committed("v0")]
    expect(mine.size).toBeGreaterThan(2 * SYNC_BATCH)
    for (const [height, hash] of mine) expect(hash, `v3's block at height ${height}`).toBe(theirs.get(height))
    expect(w.errors).toEqual([])
  })
})
