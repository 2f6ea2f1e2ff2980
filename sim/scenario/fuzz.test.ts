/**
 * Garbage on the consensus topics: random bytes, random JSON, well-formed messages with bad
 * signatures, messages signed by a key that is not a validator's. Every one is dropped; each node
 * counts them against the sender until it has counted the fault policy's maximum, then cuts the
 * sender off (runtime/core/peer-faults.ts) and drops the rest unread; the replicas stay identical,
 * and the chain advances as fast as without it.
 * (Not bit for bit: a node that sees a message from a future height asks its sender for blocks,
 * which draws from its own latency stream.)
 */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { encodeMessage } from "../../runtime/core/consensus/codec.ts"
import { voteDigest } from "../../runtime/core/consensus/signing.ts"
import { toHex } from "../../runtime/core/crypto.ts"
import { CONSENSUS_TOPIC, SYNC_TOPIC } from "../../runtime/actors/consensus/consensus-node.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { makeSimKeys } from "../adapters/keys.ts"
import { attachSimNetwork } from "../adapters/network.ts"
import { DEFAULT_PEER_FAULT_POLICY } from "../../runtime/core/peer-faults.ts"
import { parseScenario } from "./load.ts"
import { ConsensusWorld, SIM_CHAIN_ID } from "../world/world.ts"

const scenario = parseScenario("name: fuzz\nnetwork: { validators: 4 }\nuntil: { time: 40s }\n", "fuzz.yaml")
const HASH = fc.stringMatching(/^0x[0-9a-f]{64}$/)
const SIG = fc.stringMatching(/^0x[0-9a-f]{130}$/)
const ADDRESS = fc.stringMatching(/^0x[0-9a-f]{40}$/)

/** What a hostile peer sends: bytes, JSON, and messages that decode but must not count. */
const garbage = (stranger: ReturnType<typeof makeSimKeys>) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.json().map((j) => new TextEncoder().encode(j)),
    fc.record({
      type: fc.constantFrom("prevote", "precommit"), height: fc.integer({ min: 0, max: 40 }), round: fc.integer({ min: 0, max: 5 }),
      blockHash: fc.option(HASH), validator: ADDRESS, signature: SIG,
    }).map((vote) => encodeMessage({ kind: "vote", vote: vote as never })),
    // Properly signed, by a key outside the validator set.
    fc.record({ height: fc.integer({ min: 1, max: 30 }), round: fc.integer({ min: 0, max: 3 }), blockHash: fc.option(HASH) }).map(({ height, round, blockHash }) => {
      const signature = toHex(Effect.runSync(stranger.sign(voteDigest(SIM_CHAIN_ID, "prevote", height, round, blockHash))))
      return encodeMessage({ kind: "vote", vote: { type: "prevote", height, round, blockHash, validator: stranger.address, signature } })
    }),
  )

const run = (fuzz: boolean) => {
  const commits: string[] = []
  const invalid: TelemetryEvent[] = []
  const world = new ConsensusWorld({
    scenario, seed: 1, traceDeliveries: false,
    observe: (e) => {
      if (e.kind === "block.committed") commits.push(`${e.node}:${String(e.data.height)}:${String(e.data.hash)}`)
      if (e.kind === "net.invalid") invalid.push(e)
    },
  })
  world.startAll()
  if (fuzz) {
    const port = attachSimNetwork(world.net, "x0")
    const stranger = makeSimKeys(1, "x0", world.oracle)
    const messages = fc.sample(garbage(stranger), { seed: 7, numRuns: 400 })
    messages.forEach((bytes, i) => {
      world.scheduler.at(50 * i + 7, () => {
        Effect.runSync(Effect.ignore(port.network.publish(i % 5 === 0 ? SYNC_TOPIC : CONSENSUS_TOPIC, bytes)))
      })
    })
  }
  world.scheduler.runUntil({ time: 40_000 })
  return { commits, invalid, errors: world.errors, apps: scenario.validators.map((id) => world.app(id)!.appHash) }
}

describe("consensus under garbage", () => {
  it("drops and counts every bad message; the replicas agree and keep pace", () => {
    const clean = run(false)
    const fuzzed = run(true)
    expect(fuzzed.errors).toEqual([])
    expect(fuzzed.invalid.every((e) => e.data.from === "x0")).toBe(true)
    // 400 bad messages, far more than a node counts before it cuts the sender off: each node counted
    // exactly the policy's maximum, then heard nothing more from x0.
    for (const id of scenario.validators) expect(fuzzed.invalid.filter((e) => e.node === id).length, id).toBe(DEFAULT_PEER_FAULT_POLICY.maxFaults)
    expect(new Set(fuzzed.apps).size).toBe(1)
    // Every height was committed with one hash by all four nodes.
    const byHeight = new Map<string, Set<string>>()
    for (const c of fuzzed.commits) {
      const [, h, hash] = c.split(":")
      byHeight.set(h!, (byHeight.get(h!) ?? new Set()).add(hash!))
    }
    for (const hashes of byHeight.values()) expect(hashes.size).toBe(1)
    expect(Math.abs(fuzzed.commits.length - clean.commits.length)).toBeLessThanOrEqual(4)
    expect(clean.commits.length).toBeGreaterThan(4 * 20)
  })
})
