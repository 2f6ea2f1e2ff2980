/**
 * `dai node start` as a real child process: SIGTERM shuts it down cleanly (exit 0) and a restart
 * resumes from its store; and in a 4-validator network, a node killed with SIGKILL and restarted on
 * the same data dir rejoins, loses no committed height, and signs nothing conflicting — no peer
 * finds double-sign evidence, and every block it reports is the block the others committed.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, Result, Scope } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import { openSqliteStore } from "../adapters/sqlite-store.ts"
import { App } from "../core/app/app.ts"
import { verifySignature } from "../core/crypto.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { genesisReplica } from "../core/app/ledger-genesis.ts"
import { committeeCache } from "../services/committee-cache.ts"
import { makeMemoryChain } from "../services/memory-chain.ts"
import { recoverApp } from "../actors/consensus/consensus-node.ts"
import { initDataDir } from "./data-dir.ts"
import { createDevnetDirs, DEVNET_PASSWORD, nodeDir } from "./devnet.ts"
import { equalStakeGenesis } from "./genesis-file.ts"
import { startNodeFromDataDir, type RunningNode } from "./run-node.ts"
import { readLastSigned } from "../actors/protection/slashing-protection.ts"

const FAST = {
  "consensus.timeoutCommit": "100ms",
  "consensus.timeoutPropose": "1s",
  "consensus.timeoutPrevote": "500ms",
  "consensus.timeoutPrecommit": "500ms",
  "consensus.timeoutDelta": "200ms",
}
const BIN = new URL("../../bin/dai.ts", import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), "dai-node-process-"))
const children = new Set<ChildProcess>()

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

interface Child {
  readonly process: ChildProcess
  /** Heights it reported committing, with their block hash. */
  readonly committed: Map<number, string>
  /** The height it said it started at. */
  started(): number | undefined
  output(): string
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `dai node start` on `dataDir` in a child process (Node 24, the same binary as the test's). */
const startChild = (dataDir: string): Child => {
  const p = spawn(process.execPath, [BIN, "node", "start", "--data-dir", dataDir, "--password-file", join(dataDir, "password")], {
    stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DAI_PASSWORD: "" },
  })
  children.add(p)
  const committed = new Map<number, string>()
  let text = ""
  let startedAt: number | undefined
  let pending = ""
  p.stdout!.on("data", (chunk: Buffer) => {
    text += chunk.toString()
    pending += chunk.toString()
    const lines = pending.split("\n")
    pending = lines.pop()!
    for (const line of lines) {
      const c = /^\S+ height (\d+) round \d+ peers \d+ txs \d+ hash (0x[0-9a-f]{64})$/.exec(line)
      if (c !== null) committed.set(Number(c[1]), c[2]!)
      const s = /started: validator 0x[0-9a-f]{40}, chain id \d+, height (\d+)$/.exec(line)
      if (s !== null) startedAt = Number(s[1])
    }
  })
  p.stderr!.on("data", (chunk: Buffer) => void (text += chunk.toString()))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.once("exit", (code, signal) => resolve({ code, signal })))
  return { process: p, committed, started: () => startedAt, output: () => text, exit }
}

const top = (m: ReadonlyMap<number, string>) => Math.max(0, ...m.keys())

describe("dai node start in a child process", () => {
  it("SIGTERM stops it cleanly (exit 0), and a restart resumes from its store", async () => {
    const dataDir = join(root, "solo")
    const r = await Effect.runPromise(Effect.result(Effect.gen(function*() {
      const made = yield* initDataDir({ dataDir, password: "test password", scryptN: 1_024, configure: (c) => ({ ...c, network: { ...c.network, listen: ["/ip4/127.0.0.1/tcp/0"] }, api: { ...c.api, port: 0 } }) })
      return made
    })))
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    // The solo genesis uses the registry's timeouts; a faster one keeps the test short.
    const { genesis } = equalStakeGenesis({ chainId: 7, time: Date.now(), overrides: FAST, validators: [{ operator: "solo", address: r.success.address }] })
    const { encodeGenesis } = await import("./genesis-file.ts")
    writeFileSync(join(dataDir, "genesis.json"), JSON.stringify(encodeGenesis(genesis, FAST)))
    writeFileSync(join(dataDir, "password"), "test password\n")

    const first = startChild(dataDir)
    await vi.waitFor(() => expect(top(first.committed), first.output()).toBeGreaterThanOrEqual(3), { timeout: 30_000, interval: 100 })
    first.process.kill("SIGTERM")
    expect(await first.exit, first.output()).toEqual({ code: 0, signal: null })
    const stoppedAt = Number(/stopped cleanly at height (\d+)/.exec(first.output())?.[1])
    expect(stoppedAt).toBeGreaterThanOrEqual(3)

    const second = startChild(dataDir)
    await vi.waitFor(() => expect(second.started(), second.output()).toBeDefined(), { timeout: 30_000, interval: 100 })
    expect(second.started()).toBeGreaterThanOrEqual(stoppedAt)
    await vi.waitFor(() => expect(top(second.committed), second.output()).toBeGreaterThanOrEqual(stoppedAt + 2), { timeout: 30_000, interval: 100 })
    second.process.kill("SIGINT")
    expect(await second.exit, second.output()).toEqual({ code: 0, signal: null })
  }, 90_000)

  it("a validator killed with SIGKILL rejoins on restart, loses nothing and signs nothing conflicting", async () => {
    const dir = join(root, "net")
    await createDevnetDirs({ dir, nodes: 4, params: FAST })
    const scope = Scope.makeUnsafe()
    const events: TelemetryEvent[] = []
    const failures: string[] = []
    /** Blocks the in-process nodes committed: height → hash, per node. */
    const committed = [new Map<number, string>(), new Map<number, string>(), new Map<number, string>()]
    let nodes: RunningNode[] = []
    try {
      nodes = await Promise.all([0, 1, 2].map((i) =>
        Effect.runPromise(startNodeFromDataDir({
          dataDir: nodeDir(dir, i), password: DEVNET_PASSWORD, api: false, awaitPeers: 2, awaitPeersMs: 15_000,
          onFailure: (cause) => failures.push(`node${i}: ${Cause.pretty(cause)}`),
        }).pipe(Scope.provide(scope)))))
      for (const [i, n] of nodes.entries()) {
        n.telemetry.subscribe((e) => {
          events.push(e)
          if (e.kind === "block.committed") committed[i]!.set(e.data["height"] as number, e.data["hash"] as string)
        })
      }

      const victim = nodeDir(dir, 3)
      const first = startChild(victim)
      await vi.waitFor(() => expect(top(first.committed), first.output()).toBeGreaterThanOrEqual(4), { timeout: 60_000, interval: 100 })
      first.process.kill("SIGKILL")
      expect((await first.exit).signal).toBe("SIGKILL")
      const lastBefore = top(first.committed)

      // Three of four validators hold more than 2/3 of the power: the network goes on without it.
      await vi.waitFor(() => expect(nodes[0]!.node.app.height).toBeGreaterThanOrEqual(lastBefore + 3), { timeout: 30_000, interval: 100 })

      const second = startChild(victim)
      await vi.waitFor(() => expect(second.started(), second.output()).toBeDefined(), { timeout: 30_000, interval: 100 })
      // Every height it reported before the kill was durable: it resumes at or above it.
      expect(second.started()).toBeGreaterThanOrEqual(lastBefore)
      const target = nodes[0]!.node.app.height + 2
      await vi.waitFor(() => expect(top(second.committed), second.output()).toBeGreaterThanOrEqual(target), { timeout: 60_000, interval: 100 })

      // Whatever it reported, before and after the kill, is the block the others committed (once
      // node0 has got as far: the victim may commit a height a moment before node0 does).
      const upto = top(second.committed)
      await vi.waitFor(() => expect(top(committed[0]!)).toBeGreaterThanOrEqual(upto), { timeout: 30_000, interval: 100 })
      for (const run of [first, second]) {
        for (const [h, hash] of run.committed) if (h <= upto) expect(committed[0]!.get(h), `height ${h}`).toBe(hash)
      }
      for (let h = 1; h <= top(committed[2]!); h++) {
        expect(new Set(committed.map((c) => c.get(h)).filter((x) => x !== undefined)).size, `one block at height ${h}`).toBeLessThanOrEqual(1)
      }
      // No conflicting vote of anyone reached a peer, nobody was slashed, no node effect failed.
      expect(events.filter((e) => e.kind === "evidence.found" || e.kind === "stake.slashed")).toEqual([])
      expect(failures).toEqual([])

      second.process.kill("SIGTERM")
      expect(await second.exit, second.output()).toEqual({ code: 0, signal: null })
      const reported = top(second.committed)
      const store = await Effect.runPromise(openSqliteStore(join(victim, "store.db")))
      try {
        const app = await Effect.runPromise((() => {
        // A fresh ledger from the genesis: these runs stay in the first epoch (snapshot 1).
        const fresh = genesisReplica(nodes[0]!.genesis, verifySignature)
        return recoverApp(fresh.app, store.store, committeeCache(makeMemoryChain(fresh.economy, () => fresh.economy.now)))
      })())
        expect(app.height).toBeGreaterThanOrEqual(reported)
        // The height it names on stopping is the store's (progress lines stop before consensus does,
        // so a height committed during shutdown is in the store but not among the lines).
        const stoppedAt = Number(/stopped cleanly at height (\d+)/.exec(second.output())?.[1])
        expect(stoppedAt, second.output()).toBe(app.height)
        const mark = await Effect.runPromise(readLastSigned(store.store))
        // It voted again after the restart, above every height it had reached before the kill
        // (heights it caught up on through certificates it did not sign), and never past the height
        // after its last durable commit.
        expect(mark?.height ?? 0).toBeGreaterThan(lastBefore)
        expect(mark?.height ?? 0).toBeLessThanOrEqual(app.height + 1)
      } finally {
        await Effect.runPromise(store.close)
      }
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 180_000)
})
