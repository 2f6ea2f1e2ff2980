/**
 * `dai devnet`, as a person runs it: Hardhat's in-process chain with the contracts deployed, four
 * validators over libp2p on 127.0.0.1, each training on its own MNIST shard (200 samples, to keep
 * rounds short), the market's providers computing node0's inference jobs, headless progress lines,
 * exit 0 once --until-height, --until-round and --until-jobs are all reached; every node's store holds the same blocks and every chain the same round results; the same
 * --dir resumes where it stopped.
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
import { nodeDir } from "../runtime/node/devnet.ts"
import { makeMain, runtimeGroups } from "./main.ts"

const dai = async (...argv: string[]) => {
  let out = ""
  let err = ""
  const code = await makeMain(runtimeGroups)(argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) })
  return { code, out, err }
}

/** Block hash by height from a node's store. */
const storedBlocks = async (dataDir: string): Promise<Map<number, string>> => {
  const s = await Effect.runPromise(openSqliteStore(join(dataDir, "store.db")))
  try {
    const out = new Map<number, string>()
    for (const key of await Effect.runPromise(s.store.keys(BLOCK_KEY_PREFIX))) {
      const m = decodeMessage((await Effect.runPromise(s.store.get(key)))!)
      if (Result.isSuccess(m) && m.success.kind === "commit") out.set(m.success.block.height, blockHash(m.success.block))
    }
    return out
  } finally {
    await Effect.runPromise(s.close)
  }
}

describe("dai devnet", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "dai-devnet-test-")), "net")
  afterAll(() => rmSync(join(dir, ".."), { recursive: true, force: true }))

  it("deploys the contracts, runs 4 validators to height 10, a training round and a settled market job, and exits 0; every node stored the same blocks", async () => {
    const r = await dai("devnet", "--headless", "--dir", dir, "--until-height", "10", "--until-round", "1", "--until-jobs", "1", "--train-samples", "200", "--param", "consensus.timeoutCommit=100ms")
    expect(r.code, r.err + r.out).toBe(0)
    expect(r.out).toMatch(/contracts deployed \(in-process\): token 0x[0-9a-fA-F]{40}/)
    expect(r.out).toMatch(/^node0 height 10 round \d+ peers 3 txs \d+ hash 0x[0-9a-f]{64}$/m)
    expect(r.out).toMatch(/training: every node on its own mnist shard of 4 \(200 samples\), model mlp, TensorFlow\.js backend \w+/)
    // The round's result, committed through consensus. What the system guarantees is asserted, not how
    // one SGD step on 200 samples lands or whether every trainer beats the deadline on a loaded machine:
    // the cohort is all 4 nodes (training.cohort 1), a round commits only with at least
    // training.minParticipants (half) of it, and the accuracy is the aggregate's, a fraction.
    // Learning itself is asserted by the deterministic simulator's MNIST scenarios.
    const round = /^node0 training round (\d+) committed at height (\d+) by node\d: accuracy (\d\.\d+), (\d+) trainers$/m.exec(r.out)
    expect(round, r.out).not.toBeNull()
    const accuracy = Number(round![3])
    expect(accuracy).toBeGreaterThanOrEqual(0)
    expect(accuracy).toBeLessThanOrEqual(1)
    const trainers = Number(round![4])
    expect(trainers).toBeGreaterThanOrEqual(2)
    expect(trainers).toBeLessThanOrEqual(4)
    expect(r.out).toMatch(/height 10 and 1 training round\(s\) and 1 settled job\(s\) reached: stopping 4 nodes/)
    // The market: node1..3 serve inference, node0 posts jobs; the run stops only once one settled (a
    // condition, not a time), and a settled job paid its provider, so a fee was burnt and shared.
    expect(r.out).toMatch(/^market: node1\.\.node3 provide infer:mnist at 0\.05 DAI per unit \(bond 100 DAI\); node0 posts a job of 20 units/m)
    const market = /^market: (\d+) jobs? settled, (\d+) units, burnt ([\d.]+) DAI, to stakers ([\d.]+) DAI \(at stop\)$/m.exec(r.out)
    expect(market, r.out).not.toBeNull()
    expect(Number(market![1])).toBeGreaterThanOrEqual(1)
    expect(Number(market![2])).toBeGreaterThanOrEqual(20)
    expect(Number(market![3])).toBeGreaterThan(0)
    expect(Number(market![4])).toBeGreaterThan(0)
    expect(r.err).not.toMatch(/evidence|slashed|error/)
    const stored = await Promise.all([0, 1, 2, 3].map((i) => storedBlocks(nodeDir(dir, i))))
    for (let h = 1; h <= 10; h++) {
      const hashes = stored.map((s) => s.get(h))
      expect(hashes.every((x) => x !== undefined), `every node stored height ${h}`).toBe(true)
      expect(new Set(hashes).size, `one block at height ${h}`).toBe(1)
    }
    // A generous bound, not a timing: alone on an idle machine this takes about 20 s; under a full
    // parallel suite on 2 cores a round may abort once and be retried by the next coordinator, and
    // the market's job is five transactions on an in-process chain that a loaded machine slows down.
  }, 600_000)

  it("refuses --until-round without training, and a bad backend (exit 2)", async () => {
    expect((await dai("devnet", "--until-round", "1", "--no-training")).code).toBe(2)
    const b = await dai("devnet", "--backend", "gpu9000")
    expect(b.code).toBe(2)
    expect(b.err).toMatch(/--backend: unknown TensorFlow\.js backend "gpu9000"/)
  })

  it("resumes the devnet in the same --dir from where it stopped", async () => {
    // Its own devnet without a chain: the first test's stores were built on an in-process chain that
    // is gone (a devnet run longer than an epoch names its snapshots, which a chain-less resume lacks).
    const own = join(dir, "..", "resume")
    const first = await dai("devnet", "--headless", "--dir", own, "--no-chain", "--no-training", "--until-height", "10", "--param", "consensus.timeoutCommit=100ms")
    expect(first.code, first.err + first.out).toBe(0)
    const r = await dai("devnet", "--headless", "--dir", own, "--no-chain", "--no-training", "--until-height", "13")
    expect(r.code, r.err + r.out).toBe(0)
    expect(r.out).toMatch(/resuming the devnet of 4 nodes/)
    // Heights 1..10 come from the stores, not from new rounds.
    expect(r.out).not.toMatch(/^node0 height [1-9] /m)
    expect(r.out).toMatch(/height 13 reached/)
  }, 180_000)

  it("refuses a bad flag value in one line and a malformed command line with usage (exit 2)", async () => {
    const n = await dai("devnet", "--nodes", "0")
    expect(n.code).toBe(2)
    expect(n.err.trim()).toBe('dai devnet: --nodes must be a whole number from 1 to 64, got "0"')
    const p = await dai("devnet", "--param", "consensus.timeoutCommit=soon")
    expect(p.code).toBe(2)
    expect(p.err).toMatch(/^dai devnet: --param: .*consensus\.timeoutCommit/)
    expect(p.err).not.toMatch(/usage:/)
    const x = await dai("devnet", "--rpc", "http://127.0.0.1:1", "--no-chain")
    expect(x.code).toBe(2)
    expect(x.err).toMatch(/--rpc and --no-chain exclude each other[\s\S]*usage: dai devnet/)
  })
})
