/**
 * Consensus over the real backends: four validators, each with its own libp2p node on 127.0.0.1,
 * its own sqlite store, real secp256k1 keys and the wall clock, commit a chain together; every
 * node decides the same block at every height and reaches the same app hash, and a node's store
 * rebuilds its application state after it stopped.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, Result, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { startLibp2pNetworks, type Libp2pHarness } from "../adapters/libp2p/test-harness.ts"
import { openSqliteStore } from "../adapters/sqlite-store.ts"
import { wallNow } from "../adapters/clock.ts"
import { App, type AppGenesis } from "../core/app/app.ts"
import { addressOfPrivateKey, keccak256, utf8ToBytes, verifySignature } from "../core/crypto.ts"
import { resolveParams } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../core/units.ts"
import { Network } from "../services/network.ts"
import { Telemetry, type TelemetryEvent } from "../services/telemetry.ts"
import { genesisReplica } from "../core/app/ledger-genesis.ts"
import { committeeCache } from "../services/committee-cache.ts"
import { makeMemoryChain } from "../services/memory-chain.ts"
import { CONSENSUS_TOPIC, recoverApp } from "../actors/consensus/consensus-node.ts"
import { TX_TOPIC } from "../actors/context.ts"
import { startRealNode, type RealNode } from "./real-world.ts"

const N = 4
const HEIGHTS = 10
const CHAIN_ID = 7_777

interface Committed {
  readonly hash: string
  readonly appHash: string
}

describe("consensus over libp2p, sqlite and the wall clock", () => {
  const dir = mkdtempSync(join(tmpdir(), "dai-consensus-libp2p-"))
  const scope = Effect.runSync(Scope.make())
  const privateKeys = Array.from({ length: N }, (_, i) => keccak256(utf8ToBytes(`dai/test/consensus-libp2p/v${i}`)))
  const storePath = (i: number) => join(dir, `v${i}`, "store.db")
  /** Per node: what it committed, by height. */
  const committed = Array.from({ length: N }, () => new Map<number, Committed>())
  const events: TelemetryEvent[] = []
  const failures: string[] = []
  const nodes: RealNode[] = []
  let harness: Libp2pHarness | undefined
  let genesis: AppGenesis

  beforeAll(async () => {
    const params = Result.getOrThrow(resolveParams({
      "consensus.timeoutCommit": "100ms",
      "consensus.timeoutPropose": "1s",
      "consensus.timeoutPrevote": "500ms",
      "consensus.timeoutPrecommit": "500ms",
      "consensus.timeoutDelta": "200ms",
    }))
    const stake = BigInt(params["staking.minValidatorBond"]) * 10n * TOKEN
    const validators = privateKeys.map((key, i) => ({
      operator: `v${i}`, address: addressOfPrivateKey(key), amount: stake, tier: 0 as const, commission: WAD / 20n,
    }))
    const allocations = validators.map((v) => ({ address: v.operator, amount: v.amount + 1_000n * TOKEN }))
    const given = allocations.reduce((s, a) => s + a.amount, 0n)
    genesis = {
      chainId: CHAIN_ID, params, validators, time: wallNow(),
      allocations: [...allocations, { address: "community", amount: TOTAL_SUPPLY - given }],
    }

    harness = await startLibp2pNetworks(N)
    // Gossipsub delivers only to subscribers it has heard of: subscribe every node to the consensus
    // topics first and wait until each knows all the others, so the first round reaches everyone.
    const placeholders = await Promise.all(harness.networks.flatMap((net) =>
      [CONSENSUS_TOPIC, TX_TOPIC].map((topic) => Effect.runPromise(net.subscribe(topic, () => {})))))
    await Promise.all(harness.transports.map((t) => Effect.runPromise(t.ready(CONSENSUS_TOPIC, N - 1, 20_000))))

    const telemetry = Telemetry.of({
      emit: (e) => Effect.sync(() => {
        events.push(e)
        if (e.kind !== "block.committed") return
        const i = Number(e.node.slice(1))
        committed[i]!.set(e.data["height"] as number, { hash: e.data["hash"] as string, appHash: e.data["appHash"] as string })
      }),
    })
    for (const [i, key] of privateKeys.entries()) {
      nodes.push(await Effect.runPromise(
        startRealNode({
          name: `v${i}`, genesis, privateKey: key, storePath: storePath(i),
          onFailure: (cause) => failures.push(`v${i}: ${Cause.pretty(cause)}`),
        }).pipe(
          Effect.provideService(Network, harness.networks[i]!),
          Effect.provideService(Telemetry, telemetry),
          Scope.provide(scope),
        ),
      ))
    }
    // The consensus handlers hold the subscriptions now.
    await Promise.all(placeholders.map((unsubscribe) => Effect.runPromise(unsubscribe)))
  })

  afterAll(async () => {
    // Nodes first (consensus, their effects, their stores), then the libp2p nodes they spoke over.
    try {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    } finally {
      await harness?.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it(`every node commits ${HEIGHTS} heights, the same block and app hash at each`, async () => {
    await vi.waitFor(() => {
      const heights = committed.map((c) => c.size)
      if (heights.some((h) => h < HEIGHTS)) throw new Error(`committed heights per node: ${heights.join(", ")}`)
    }, { timeout: 60_000, interval: 100 })

    for (let h = 1; h <= HEIGHTS; h++) {
      const at = committed.map((c) => c.get(h))
      expect(at.every((x) => x !== undefined), `every node committed height ${h}`).toBe(true)
      expect(new Set(at.map((x) => x!.hash)).size, `one block hash at height ${h}: ${at.map((x) => x!.hash).join(" ")}`).toBe(1)
      expect(new Set(at.map((x) => x!.appHash)).size, `one app hash after height ${h}`).toBe(1)
    }
    // Consensus on every node agrees with its own application replica.
    for (const [i, node] of nodes.entries()) {
      expect(node.app.height).toBeGreaterThanOrEqual(HEIGHTS)
      expect(committed[i]!.get(node.app.height)?.appHash).toBe(node.app.appHash)
    }
    // The heights were decided by honest nodes over a clean network: nothing was refused or failed.
    expect(failures).toEqual([])
    expect(events.filter((e) => ["net.invalid", "node.error", "protect.refused", "proposal.invalid"].includes(e.kind))).toEqual([])
    for (const node of nodes) expect([...node.consensus.faults]).toEqual([])
  }, 90_000)

  it("a stopped node's store rebuilds the application it had", async () => {
    // Stop every node (consensus, its effects, its store), then read node 0's file with a new connection.
    const height = nodes[0]!.app.height
    expect(height).toBeGreaterThanOrEqual(HEIGHTS)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const reopened = await Effect.runPromise(openSqliteStore(storePath(0)))
    try {
      const app = await Effect.runPromise((() => {
        // A fresh ledger from the genesis: these runs stay in the first epoch (snapshot 1).
        const fresh = genesisReplica(genesis, verifySignature)
        return recoverApp(fresh.app, reopened.store, committeeCache(makeMemoryChain(fresh.economy, () => fresh.economy.now)))
      })())
      // The certificate of the last height may have been stored after the app hash was read.
      expect(app.height).toBeGreaterThanOrEqual(height)
      expect(app.appHash).toBe(committed[0]!.get(app.height)?.appHash)
      expect(app.lastBlockHash).toBe(committed[0]!.get(app.height)?.hash)
    } finally {
      await Effect.runPromise(reopened.close)
    }
  }, 30_000)
})
