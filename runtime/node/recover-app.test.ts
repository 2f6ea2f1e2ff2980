/**
 * recoverApp over a real store past its first epochs (a chain-less node of one, epochs of 3 blocks,
 * whose blocks name the snapshots its own ledger took): with the ledger the store kept, the App is
 * rebuilt to the last stored height; with a ledger that answers it has no such snapshot (one rebuilt
 * from the genesis alone), the start is refused naming the height and the snapshot; with a ledger
 * that does not answer, the replay stops before the block that needs it and waits, without error.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Result } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import { openSqliteStore } from "../adapters/sqlite-store.ts"
import { recoverApp } from "../actors/consensus/consensus-node.ts"
import { App, GENESIS_SNAPSHOT } from "../core/app/app.ts"
import { ledgerAtGenesis } from "../core/app/ledger-genesis.ts"
import { verifySignature } from "../core/crypto.ts"
import { decodeMessage } from "../core/consensus/codec.ts"
import { BLOCK_KEY_PREFIX } from "../core/consensus/store-keys.ts"
import { ChainUnavailable } from "../services/chain.ts"
import { committeeCache } from "../services/committee-cache.ts"
import { genesisTag, persistLedger, pinnableClock } from "../services/ledger-log.ts"
import { makeMemoryChain } from "../services/memory-chain.ts"
import type { Store } from "../services/store.ts"
import { DEVNET_PARAMS, nodeDir, startDevnet } from "./devnet.ts"
import { readDataDir } from "./run-node.ts"

const root = mkdtempSync(join(tmpdir(), "dai-recover-app-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The first stored height whose epoch tx names a snapshot after the genesis's, and that snapshot. */
const firstLaterSnapshot = async (store: Store["Service"]) => {
  for (const key of await Effect.runPromise(store.keys(BLOCK_KEY_PREFIX))) {
    const m = decodeMessage((await Effect.runPromise(store.get(key)))!)
    if (Result.isFailure(m) || m.success.kind !== "commit") continue
    const epoch = m.success.block.txs.find((t) => t.type === "epoch")
    if (epoch !== undefined && Number(epoch.snapshot) > GENESIS_SNAPSHOT) return { height: m.success.block.height, snapshot: Number(epoch.snapshot) }
  }
  return undefined
}

describe("recoverApp", () => {
  it("rebuilds on the kept ledger, refuses a ledger without the snapshot, and stops (no error) on a ledger that does not answer", async () => {
    const dir = join(root, "net")
    const devnet = await startDevnet({
      dir, nodes: 1, chain: { kind: "none" }, training: { enabled: false }, market: false,
      params: { ...DEVNET_PARAMS, "consensus.epochLength": "3", "consensus.timeoutCommit": "50ms" },
    })
    let stopped: number
    try {
      const node = devnet.nodes[0]!
      // Until its blocks name a snapshot its own ledger took after an epoch report (snapshot ≥ 2).
      await vi.waitFor(async () => {
        expect(node.node.app.height).toBeGreaterThanOrEqual(9)
        expect(node.node.app.lastSnapshot).toBeGreaterThan(GENESIS_SNAPSHOT)
      }, { timeout: 60_000, interval: 100 })
    } finally {
      await devnet.close()
      stopped = devnet.nodes[0]!.node.app.height
    }
    const dataDir = nodeDir(dir, 0)
    const { genesis } = await Effect.runPromise(readDataDir(dataDir))
    const file = join(dataDir, "store.db")
    const sqlite = await Effect.runPromise(openSqliteStore(file))
    try {
      const store = sqlite.store
      const later = await firstLaterSnapshot(store)
      expect(later).toBeDefined()
      /** A fresh replica over `committees`, its ledger's snapshots loaded as the node loads them. */
      const replay = (ledger: Parameters<typeof committeeCache>[0]) => {
        const committees = committeeCache(ledger)
        Effect.runSync(committees.load(GENESIS_SNAPSHOT))
        return Effect.runSyncExit(recoverApp(App.genesis(genesis, verifySignature, committees), store, committees))
      }
      const genesisLedger = () => {
        const economy = Result.getOrThrow(ledgerAtGenesis(genesis))
        const clock = pinnableClock(() => Math.max(Date.now(), economy.now))
        return { clock, chain: makeMemoryChain(economy, clock.now, undefined, { consensusChainId: genesis.chainId, verify: verifySignature }) }
      }

      // The ledger the node kept in its store: every stored block replays.
      const fresh = genesisLedger()
      const { chainId, params, allocations, validators, time, rewardReserve, contributors } = genesis
      const kept = Effect.runSync(persistLedger(fresh.chain, {
        store, file, clock: fresh.clock, genesis: genesisTag({ chainId, params, allocations, validators, time, rewardReserve, contributors }),
      }))
      const full = replay(kept)
      // Every stored certificate (a block decided as the node stopped may be stored, not yet executed).
      const storedHeights = (await Effect.runPromise(store.keys(BLOCK_KEY_PREFIX))).length
      expect(Exit.isSuccess(full) && full.value.height).toBe(storedHeights)
      expect(storedHeights).toBeGreaterThanOrEqual(stopped)

      // A ledger from the genesis alone answers that it has no such snapshot: refused, naming both.
      const absent = replay(genesisLedger().chain)
      expect(Exit.isFailure(absent)).toBe(true)
      const error = Exit.isFailure(absent) ? Exit.findErrorOption(absent) : undefined
      expect(error?._tag === "Some" && error.value._tag).toBe("SnapshotAbsent")
      const message = error?._tag === "Some" ? error.value.message : ""
      expect(message).toContain(`height ${later!.height}`)
      expect(message).toContain(`snapshot ${later!.snapshot}`)
      expect(message).not.toContain("\n")

      // A ledger that does not answer for it: the replay stops before that block, no error (the node catches up later).
      const silent = genesisLedger().chain
      const waiting = replay({
        committee: (id) => id === GENESIS_SNAPSHOT ? silent.committee(id) : Effect.fail(new ChainUnavailable({ operation: "committee", reason: "connection refused" })),
      })
      expect(Exit.isSuccess(waiting) && waiting.value.height).toBe(later!.height - 1)
    } finally {
      await Effect.runPromise(sqlite.close)
    }
  }, 120_000)
})
