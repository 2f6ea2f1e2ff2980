/**
 * Hostile gossip against a running node over real libp2p: fast-check draws payloads for the
 * consensus, transaction and sync topics — random bytes, random JSON, and messages shaped like the
 * real ones with wrong fields, bad signatures, absurd heights — and an attacker peer publishes (and
 * sends directly) each batch. The node keeps running and committing, nothing of it enters a block
 * or the pool, no handler throws, and the node counts the sender's faults.
 * Runs: DAI_GOSSIP_RUNS batches of 1–12 messages (CI default 25, or DAI_PROPERTY_RUNS), seed
 * DAI_GOSSIP_SEED, path DAI_GOSSIP_PATH (scripts/property-env.ts); it prints how many messages it sent.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { makeLibp2pNetwork, type Libp2pNetwork } from "../adapters/libp2p/index.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { CONSENSUS_TOPIC, SYNC_TOPIC } from "../actors/consensus/consensus-node.ts"
import { TX_TOPIC } from "../actors/context.ts"
import { initDataDir } from "./data-dir.ts"
import { equalStakeGenesis } from "./genesis-file.ts"
import { startNodeFromDataDir, type RunningNode } from "./run-node.ts"
import { propertyEnv } from "../../scripts/property-env.ts"

const FAST = { "consensus.timeoutCommit": "50ms", "consensus.timeoutPropose": "1s", "consensus.timeoutPrevote": "300ms", "consensus.timeoutPrecommit": "300ms" }
const GOSSIP = propertyEnv("GOSSIP", Number(process.env["DAI_PROPERTY_RUNS"] ?? 25))
const RUNS = GOSSIP.runs
const utf8 = new TextEncoder()

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}`)
const height = fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom(0, 2 ** 53, Number.MAX_SAFE_INTEGER, 1.5, Number.NaN))
const vote = fc.record({
  type: fc.constantFrom("prevote", "precommit", "commit", ""),
  height, round: fc.integer({ min: -1, max: 5 }),
  blockHash: fc.oneof(hex(32), fc.constant(null), fc.string()),
  validator: fc.oneof(hex(20), fc.string()),
  signature: fc.oneof(hex(65), fc.string()),
})
const block = fc.record({
  height, round: fc.nat(3), proposer: hex(20), parentHash: hex(32), time: fc.nat(), appHash: hex(32),
  txs: fc.array(fc.oneof(fc.record({ type: fc.constant("last-commit"), height, precommits: fc.array(vote, { maxLength: 3 }) }), fc.jsonValue()), { maxLength: 3 }),
})
const consensusMessage = fc.oneof(
  fc.record({ kind: fc.constant("vote"), vote }),
  fc.record({ kind: fc.constant("proposal"), proposal: fc.record({ height, round: fc.nat(3), polRound: fc.integer({ min: -1, max: 2 }), block, proposer: hex(20), signature: hex(65) }) }),
  fc.record({ kind: fc.constant("commit"), block, precommits: fc.array(vote, { maxLength: 4 }) }),
)
const tx = fc.record({ type: fc.constantFrom("stake", "score-commit", "nonsense"), signer: hex(20), nonce: fc.integer({ min: -1, max: 3 }), signature: hex(65), op: fc.jsonValue() })
const json = (a: fc.Arbitrary<unknown>) => a.map((v) => utf8.encode(JSON.stringify(v)))
const payload = fc.oneof(fc.uint8Array({ maxLength: 300 }), json(fc.jsonValue()), json(consensusMessage), json(tx), json(fc.record({ from: fc.jsonValue() })))
const message = fc.record({ topic: fc.constantFrom(CONSENSUS_TOPIC, TX_TOPIC, SYNC_TOPIC), direct: fc.boolean(), data: payload })

describe("gossip fuzzing against a running node", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-gossip-fuzz-"))
  const scope = Scope.makeUnsafe()
  const events: TelemetryEvent[] = []
  const failures: string[] = []
  let node: RunningNode
  let attacker: Libp2pNetwork

  beforeAll(async () => {
    const dataDir = join(root, "victim")
    await Effect.runPromise(Effect.gen(function*() {
      // A one-validator network: whatever the node commits, it decided alone from its own proposals.
      const { newPrivateKey } = yield* Effect.promise(() => import("../adapters/keystore.ts"))
      const key = newPrivateKey()
      const { addressOfPrivateKey } = yield* Effect.promise(() => import("../core/crypto.ts"))
      const { genesis } = equalStakeGenesis({ chainId: 7, time: Date.now(), overrides: FAST, validators: [{ operator: "victim", address: addressOfPrivateKey(key) }] })
      yield* initDataDir({
        dataDir, password: "test password", scryptN: 1_024, privateKey: key, genesis: { genesis, overrides: FAST },
        configure: (c) => ({ ...c, network: { ...c.network, listen: ["/ip4/127.0.0.1/tcp/0"] } }),
      })
    }))
    node = await Effect.runPromise(startNodeFromDataDir({
      dataDir, password: "test password", api: false, onFailure: (cause) => failures.push(Cause.pretty(cause)),
      // Its own training results would be transactions too; this test counts only what the attacker gets in.
      training: { enabled: false },
    }).pipe(Scope.provide(scope)))
    node.telemetry.subscribe((e) => events.push(e))
    const [addr] = await Effect.runPromise(node.transport.multiaddrs)
    attacker = await Effect.runPromise(makeLibp2pNetwork({ bootstrap: [addr!] }).pipe(Scope.provide(scope)))
    await Effect.runPromise(attacker.awaitPeers(1))
    await Effect.runPromise(attacker.ready(CONSENSUS_TOPIC, 1))
    await Effect.runPromise(attacker.ready(TX_TOPIC, 1))
  }, 60_000)

  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(root, { recursive: true, force: true })
  })

  it("keeps running and committing, and nothing hostile enters its state", async () => {
    const before = events.filter((e) => e.kind === "net.invalid").length
    let sent = 0
    await fc.assert(fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 12 }), async (batch) => {
      const h = node.node.app.height
      sent += batch.length
      for (const m of batch) {
        const send = m.direct ? attacker.network.send(node.peerId, m.topic, m.data) : attacker.network.publish(m.topic, m.data)
        await Effect.runPromise(Effect.ignore(send))
      }
      // It goes on deciding its own blocks after the batch.
      await vi.waitFor(() => expect(node.node.app.height).toBeGreaterThan(h + 1), { timeout: 10_000, interval: 20 })
      expect(node.node.consensus.pending).toBe(0)
    }), GOSSIP.params)
    console.info(`GOSSIP: ${sent} fuzzed messages in ${RUNS} batches`)

    // Every block holds only the validator's own last-commit (and, at an epoch's first height after the
    // first, the epoch tx naming its snapshot): no fuzzed tx or evidence got in.
    const app = node.node.app
    const expected = (h: number) => (h === 1 ? 0 : 1) + (h > 1 && app.epochOf(h) !== app.epochOf(h - 1) ? 1 : 0)
    const blocks = events.filter((e) => e.kind === "block.committed")
    expect(blocks.length).toBeGreaterThan(RUNS)
    for (const b of blocks) expect(b.data["txs"], `block ${String(b.data["height"])}`).toBe(expected(Number(b.data["height"])))
    expect(events.filter((e) => ["evidence.found", "stake.slashed", "node.error", "protect.refused"].includes(e.kind))).toEqual([])
    expect(failures).toEqual([])
    // The node noticed: the attacker's bad messages are counted against it, and no handler threw.
    expect(events.filter((e) => e.kind === "net.invalid").length).toBeGreaterThan(before)
    expect(node.node.consensus.faults.get(attacker.network.self) ?? 0).toBeGreaterThan(0)
    expect((await Effect.runPromise(node.transport.stats)).dropped["handler-error"]).toBe(0)
  }, GOSSIP.timeout(2_000, 120_000)) // a batch waits for two blocks (about 0.2 s; 10 s at most)
})
