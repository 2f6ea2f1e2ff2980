/**
 * A chain-less devnet resumed past its first epochs (issue 16): each node's in-memory ledger —
 * the committee snapshots its stored blocks name, the settled epoch reports — is kept in its
 * store.db, so a restart replays every stored block and goes on committing, instead of stopping at
 * the first block whose snapshot a ledger rebuilt from the genesis lacks.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { openSqliteStore } from "../runtime/adapters/sqlite-store.ts"
import { blockHash } from "../runtime/core/consensus/block.ts"
import { decodeMessage } from "../runtime/core/consensus/codec.ts"
import { BLOCK_KEY_PREFIX } from "../runtime/core/consensus/store-keys.ts"
import { createDevnetDirs, nodeDir } from "../runtime/node/devnet.ts"
import { makeMain, runtimeGroups } from "./main.ts"

const dai = async (...argv: string[]) => {
  let out = ""
  let err = ""
  const code = await makeMain(runtimeGroups)(argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) })
  return { code, out, err }
}

/** A node's stored blocks: hash by height, and the snapshot each epoch tx names. */
const stored = async (dataDir: string) => {
  const s = await Effect.runPromise(openSqliteStore(join(dataDir, "store.db")))
  try {
    const hashes = new Map<number, string>()
    const snapshots: number[] = []
    for (const key of await Effect.runPromise(s.store.keys(BLOCK_KEY_PREFIX))) {
      const m = decodeMessage((await Effect.runPromise(s.store.get(key)))!)
      if (Result.isFailure(m) || m.success.kind !== "commit") continue
      hashes.set(m.success.block.height, blockHash(m.success.block))
      for (const tx of m.success.block.txs) if (tx.type === "epoch") snapshots.push(Number(tx.snapshot))
    }
    return { hashes, snapshots }
  } finally {
    await Effect.runPromise(s.close)
  }
}

describe("a chain-less devnet resumed past its first epochs", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-devnet-restart-"))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("replays the blocks that name later snapshots and commits further", async () => {
    const dir = join(root, "net")
    const flags = ["--headless", "--dir", dir, "--no-chain", "--no-training"]
    const first = await dai("devnet", ...flags, "--nodes", "2", "--until-height", "14", "--param", "consensus.epochLength=4", "--param", "consensus.timeoutCommit=100ms")
    expect(first.code, first.err + first.out).toBe(0)
    const before = await stored(nodeDir(dir, 0))
    // The stored blocks name snapshots that only the node's own ledger took (after its epoch reports).
    expect(Math.max(...before.snapshots), before.snapshots.join(",")).toBeGreaterThanOrEqual(2)

    const second = await dai("devnet", ...flags, "--until-height", "20")
    expect(second.code, second.err + second.out).toBe(0)
    expect(second.out).toMatch(/resuming the devnet of 2 nodes/)
    // Every stored height came back from the store (none was committed again), and the run went on past them.
    expect(second.out).not.toMatch(/^node0 height (?:[1-9]|1[0-4]) /m)
    expect(second.out).toMatch(/height 20 reached/)
    const after = await Promise.all([0, 1].map((i) => stored(nodeDir(dir, i))))
    for (let h = 1; h <= 20; h++) {
      const hashes = after.map((s) => s.hashes.get(h))
      expect(hashes.every((x) => x !== undefined), `every node stored height ${h}`).toBe(true)
      expect(new Set(hashes).size, `one block at height ${h}`).toBe(1)
      if (before.hashes.has(h)) expect(hashes[0], `height ${h} kept`).toBe(before.hashes.get(h))
    }
  }, 180_000)

  it("refuses in one line (exit 1) to resume a devnet whose chain ran in process, or on another chain than it ran on", async () => {
    const inProcess = join(root, "in-process")
    await createDevnetDirs({ dir: inProcess, nodes: 1, chain: "in-process" })
    for (const extra of [[], ["--no-chain"]]) {
      const r = await dai("devnet", "--headless", "--dir", inProcess, "--until-height", "1", ...extra)
      expect(r.code, r.out).toBe(1)
      expect(r.err.trim().split("\n")).toHaveLength(1)
      expect(r.err).toMatch(/chain ran in process.*cannot resume: start a fresh --dir, with --rpc URL/)
    }
    const chainless = join(root, "chainless")
    await createDevnetDirs({ dir: chainless, nodes: 1, chain: "none" })
    const r = await dai("devnet", "--headless", "--dir", chainless, "--until-height", "1")
    expect(r.code).toBe(1)
    expect(r.err.trim()).toMatch(/^dai devnet: .* ran without a chain .*: resume it with --no-chain$/)
  }, 60_000)
})
