/**
 * A hand-made network, as the README's "Run a network" builds it (issue 12, item 8): three data
 * dirs made by `dai node init`, a genesis made by `dai genesis new` + `add-validator` from their
 * identity files and installed into each (`dai genesis install`), three `dai node start` processes
 * on 127.0.0.1, watched through their APIs. It shows:
 *  - every node commits the same blocks;
 *  - every validator trains (each holds a shard: none exits with "no shard");
 *  - a validator killed with SIGKILL right after a round it coordinated committed (its scores' reveal
 *    perhaps not sent: the case where no round ever started again) and restarted on its data dir
 *    trains again (a later round lists it), and every round it coordinated has its scores revealed.
 * With three equal validators, consensus needs all three: the chain halts while one is down, and
 * goes on once it is back. What is asserted is what the system guarantees, within generous bounds.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it, vi } from "vitest"
import { runCaptured as dai } from "../../cli/dai.ts"

const BIN = new URL("../../bin/dai.ts", import.meta.url).pathname
const SAMPLES = 100
const PARAMS = [
  // The victim is down for a while: keep downtime slashing out of a test about training.
  "slashing.downtimeWindow=10000",
  "consensus.timeoutCommit=300ms",
  "consensus.timeoutPropose=1s",
  "consensus.timeoutPrevote=500ms",
  "consensus.timeoutPrecommit=500ms",
  "consensus.timeoutDelta=200ms",
  "training.cohort=1",
  "training.roundDeadline=5s",
]
const root = mkdtempSync(join(tmpdir(), "dai-hand-made-"))
const children = new Set<ChildProcess>()

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

/** A free TCP port on loopback now. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const a = server.address()
      server.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))))
    })
  })

interface Child {
  readonly process: ChildProcess
  output(): string
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `dai node start` on `dataDir` in a child process, training on a small shard. */
const startChild = (dataDir: string, password: string): Child => {
  const p = spawn(process.execPath, [BIN, "node", "start", "--data-dir", dataDir, "--password-file", password, "--train-samples", String(SAMPLES)], {
    stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DAI_PASSWORD: "" },
  })
  children.add(p)
  let text = ""
  p.stdout!.on("data", (c: Buffer) => void (text += c.toString()))
  p.stderr!.on("data", (c: Buffer) => void (text += c.toString()))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.once("exit", (code, signal) => resolve({ code, signal })))
  return { process: p, output: () => text.slice(-3_000), exit }
}

const get = async <T,>(port: number, path: string): Promise<T | undefined> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) })
    return res.ok ? ((await res.json()) as T) : undefined
  } catch {
    return undefined // not up yet, or down
  }
}
const height = async (port: number): Promise<number> => (await get<{ height: number }>(port, "/status"))?.height ?? -1
const blockHash = async (port: number, h: number): Promise<string | undefined> => (await get<{ hash: string }>(port, `/blocks/${h}`))?.hash

interface RoundSeen {
  readonly round: number
  readonly height: number
  readonly coordinator: string
  readonly participants: readonly string[]
  revealed: boolean
}

/** The training rounds in a node's committed blocks, read through its API as they come. */
const roundWatcher = (port: number, nameOf: (address: string) => string) => {
  const rounds = new Map<number, RoundSeen>()
  let scanned = 0
  return {
    rounds,
    async scan(): Promise<void> {
      const top = await height(port)
      for (let h = scanned + 1; h <= top; h++) {
        const b = await get<{ txs: Array<Record<string, unknown>> }>(port, `/blocks/${h}`)
        if (b === undefined) return
        for (const tx of b.txs) {
          const round = tx["round"] as number
          if (tx["type"] === "round-result") {
            rounds.set(round, { round, height: h, coordinator: nameOf(String(tx["signer"])), participants: tx["participants"] as string[], revealed: false })
          } else if (tx["type"] === "round-scores" && rounds.has(round)) {
            rounds.get(round)!.revealed = true
          }
        }
        scanned = h
      }
    },
  }
}

describe("a hand-made network: three `dai node` processes from `dai genesis`", () => {
  it("commits the same blocks on every node, and a validator killed and restarted trains again", async () => {
    const password = join(root, "password")
    writeFileSync(password, "a test password, long enough\n")
    const names = ["alice", "bob", "carol"]
    const dirs = names.map((n) => join(root, n))
    const p2p = await Promise.all(names.map(() => freePort()))
    const api = await Promise.all(names.map(() => freePort()))
    const ok = (r: { code: number; out: string; err: string }) => expect(r.code, `${r.out}\n${r.err}`).toBe(0)

    // Each operator: `dai node init` (keys stay in its data dir; identity.json is the public part).
    for (const [i, dir] of dirs.entries()) {
      ok(await dai("node", "init", "--data-dir", dir, "--password-file", password, "--scrypt-n", "1024",
        "--listen", `/ip4/127.0.0.1/tcp/${p2p[i]}`, "--api-port", String(api[i])))
    }
    // One of them builds the genesis from the three identities and hands it out.
    const genesis = join(root, "genesis.json")
    ok(await dai("genesis", "new", genesis, ...PARAMS.flatMap((p) => ["--param", p])))
    for (const dir of dirs) ok(await dai("genesis", "add-validator", genesis, "--identity", join(dir, "identity.json"), "--stake", "1000000"))
    ok(await dai("genesis", "validate", genesis))
    for (const dir of dirs) ok(await dai("genesis", "install", genesis, "--data-dir", dir))

    const identities = dirs.map((d) => JSON.parse(readFileSync(join(d, "identity.json"), "utf8")) as { name: string; address: string })
    const nameOf = (address: string) => identities.find((x) => x.address.toLowerCase() === address.toLowerCase())?.name ?? address
    const nodes = dirs.map((d) => startChild(d, password))
    const outputs = () => nodes.map((n, i) => `--- ${names[i]}\n${n.output()}`).join("\n")
    try {
      // Every node commits, and they commit the same blocks.
      await vi.waitFor(async () => {
        const heights = await Promise.all(api.map(height))
        expect(Math.min(...heights), outputs()).toBeGreaterThanOrEqual(3)
      }, { timeout: 120_000, interval: 500 })
      const hashes = await Promise.all(api.map((port) => blockHash(port, 3)))
      expect(hashes[0]).toMatch(/^0x[0-9a-f]{64}$/)
      expect(new Set(hashes).size, `block 3: ${hashes.join(" ")}`).toBe(1)
      for (const n of nodes) expect(n.output()).not.toMatch(/no shard/)

      // The coordinator of the first round the chain commits is killed as soon as alice's chain holds it.
      const watch = roundWatcher(api[0]!, nameOf)
      // Every validator trains (each holds a shard of the data set): wait until each has been in a
      // round — cohorts are drawn and a loaded machine may miss a deadline, so not necessarily the first.
      await vi.waitFor(async () => {
        await watch.scan()
        const rounds = [...watch.rounds.values()]
        expect(rounds.some((r) => r.coordinator !== "alice"), outputs()).toBe(true)
        expect(new Set(rounds.flatMap((r) => r.participants)), outputs()).toEqual(new Set(names))
      }, { timeout: 240_000, interval: 100 })
      // Then the coordinator of the next round alice's chain commits (not alice) is killed at once:
      // its scores are still to be revealed.
      const seen = Math.max(...[...watch.rounds.values()].map((r) => r.round))
      let fresh: { readonly coordinator: string } | undefined
      await vi.waitFor(async () => {
        await watch.scan()
        fresh = [...watch.rounds.values()].find((r) => r.round > seen && r.coordinator !== "alice")
        expect(fresh, outputs()).toBeDefined()
      }, { timeout: 180_000, interval: 100 })
      const victimName = fresh!.coordinator
      const victim = names.indexOf(victimName)
      const survivor = api[0]!
      nodes[victim]!.process.kill("SIGKILL")
      expect((await nodes[victim]!.exit).signal).toBe("SIGKILL")
      const before = [...watch.rounds.values()]

      // Restarted on its data dir, it catches up, trains in a later round, and its rounds are revealed.
      const killedAt = await height(survivor)
      const lastRound = Math.max(...before.map((r) => r.round))
      nodes[victim] = startChild(dirs[victim]!, password)
      await vi.waitFor(async () => {
        await watch.scan()
        const later = [...watch.rounds.values()].filter((r) => r.round > lastRound && r.participants.includes(victimName))
        expect(later.map((r) => r.round), `rounds after ${lastRound} with ${victimName}\n${outputs()}`).not.toEqual([])
      }, { timeout: 240_000, interval: 250 })
      await vi.waitFor(async () => {
        await watch.scan()
        const unrevealed = [...watch.rounds.values()].filter((r) => r.coordinator === victimName && !r.revealed).map((r) => r.round)
        expect(unrevealed, outputs()).toEqual([])
      }, { timeout: 120_000, interval: 250 })
      // Its chain is the others' chain.
      await vi.waitFor(async () => expect(await height(api[victim]!)).toBeGreaterThan(killedAt), { timeout: 60_000, interval: 250 })
      expect(await blockHash(api[victim]!, killedAt)).toBe(await blockHash(survivor, killedAt))
      expect(outputs()).not.toMatch(/slashed: /)

      // SIGTERM stops each cleanly.
      for (const n of nodes) n.process.kill("SIGTERM")
      expect((await Promise.all(nodes.map((n) => n.exit))).map((e) => e.code), outputs()).toEqual([0, 0, 0])
    } finally {
      for (const n of nodes) if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL")
    }
  }, 600_000) // generous bounds for a loaded 2-core machine, not timings

  // The rest of issue 12's three-process test needs the ledger switch (branch one-ledger): the App
  // reading stake, parameters and the validator set from the chain at epoch boundaries.
  it.todo("a stake bonded through one node's API counts in a governance vote (needs the ledger switch)")
  it.todo("a parameter proposal passed and executed with short test periods shows in GET /status after the next epoch (needs the ledger switch)")
  it.todo("a fourth validator registers on Staking (`dai validator register`) and joins the set at the next epoch (needs the ledger switch)")
})
