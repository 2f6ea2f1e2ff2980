/**
 * A hand-made network on a real chain, as the README's "Three validators by hand" builds it (issue
 * 12, item 8): a Hardhat JSON-RPC node on 127.0.0.1 (the `node` network `npx hardhat node` serves,
 * in this process), the contracts deployed by `dai chain deploy` with the devnet constitution's short
 * governance periods and the test's parameters; three data dirs made by `dai node init`; a genesis made
 * by `dai genesis new --deployment --rpc` + `add-validator` from their identity files and installed into
 * each (`dai genesis install`); each validator funded by `dai chain fund`; three `dai node start`
 * processes, which register themselves on Staking and take the Committee's snapshot 1, watched through
 * their APIs. It shows:
 *  - every node commits the same blocks, and every validator trains (each holds a shard);
 *  - a validator killed with SIGKILL right after a round it coordinated committed (its scores' reveal
 *    perhaps not sent) and restarted on its data dir trains again, and its rounds' scores are revealed;
 *  - a stake bonded through one node's API counts in its governance vote (the one ledger: the contracts);
 *  - a parameter proposal passed by the three and executed by `dai gov execute` reaches the network:
 *    every node's GET /status shows it from a later epoch (a new committee snapshot);
 *  - a fourth node, started from the genesis as a follower, registers with `dai validator register`
 *    and joins the set at a later epoch; once it is in, stopping one of the first three leaves three of
 *    four equal validators, which commit only with the newcomer's votes — the chain goes on.
 * With three equal validators consensus needs all three: the chain halts while one is down. What is
 * asserted is what the system guarantees, within generous bounds.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { runCaptured as dai } from "../../cli/dai.ts"
import { apiGet as get, apiPost, freePort, useChainAndProcesses, type Child } from "./testkit.ts"

const SAMPLES = 100
/** The network's numeric parameters live in the chain's Constitution: set at deploy. */
const PARAMS = [
  // The victim is down for a while: keep downtime slashing out of a test about training and membership.
  "slashing.downtimeWindow=10000",
  "consensus.timeoutCommit=300ms",
  "consensus.timeoutPropose=1s",
  "consensus.timeoutPrevote=500ms",
  "consensus.timeoutPrecommit=500ms",
  "consensus.timeoutDelta=200ms",
  // Short epochs: a parameter change and a new validator take effect at an epoch boundary.
  "consensus.epochLength=15",
  // Power is exactly bonded stake, so four equal validators need three votes (of which the newcomer's).
  "consensus.contributionWeight=0",
  "training.cohort=1",
  "training.roundDeadline=5s",
]
const STAKE = 1_000_000
const root = mkdtempSync(join(tmpdir(), "dai-hand-made-"))
let rpc = ""
const processes = useChainAndProcesses(root, (url) => void (rpc = url))

/** `dai node start` on `dataDir` in a child process, training on a small shard. */
const startChild = (dataDir: string, password: string): Child => processes.start(dataDir, password, ["--train-samples", String(SAMPLES)])
/** POST to a node's API with its bearer token; the status and the body. */
const post = (port: number, dir: string, path: string, body: unknown) => apiPost(port, dir, path, body)
interface StatusSeen { readonly height: number; readonly snapshot: number; readonly params: Record<string, unknown> }
const status = (port: number) => get<StatusSeen>(port, "/status")
const height = async (port: number): Promise<number> => (await status(port))?.height ?? -1
const blockHash = async (port: number, h: number): Promise<string | undefined> => (await get<{ hash: string }>(port, `/blocks/${h}`))?.hash
interface ValidatorSeen { readonly operator: string; readonly address: string | null; readonly active: boolean; readonly power: string }
const TOKEN = 10n ** 18n

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

const ok = (r: { code: number; out: string; err: string }) => expect(r.code, `${r.out}\n${r.err}`).toBe(0)

/** One JSON-RPC call to the test's chain; its result. */
const rpcCall = async <T = unknown,>(url: string, method: string, params: unknown[]): Promise<T> => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), signal: AbortSignal.timeout(60_000) })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

describe("a hand-made network on a real chain: `dai chain deploy`, `dai genesis`, three `dai node` processes, a fourth that joins", () => {
  it("commits the same blocks; a validator killed and restarted trains again; a stake counts in a vote; an executed parameter reaches every node; a fourth validator registers and joins", async () => {
    const password = join(root, "password")
    writeFileSync(password, "a test password, long enough\n")
    const names = ["alice", "bob", "carol"]
    const dirs = names.map((n) => join(root, n))
    const p2p = await Promise.all(names.map(() => freePort()))
    const api = await Promise.all(names.map(() => freePort()))
    const deployment = join(root, "deployment.json")

    // 0. The contracts, with the devnet constitution's short governance periods and the network's parameters.
    ok(await dai("chain", "deploy", "--rpc", rpc, "--out", deployment, "--constitution", "devnet", "--voting-period", "20s", "--timelock", "5s",
      ...PARAMS.flatMap((p) => ["--param", p])))
    // 1. Each operator: `dai node init` (keys stay in its data dir; identity.json is the public part).
    for (const [i, dir] of dirs.entries()) {
      ok(await dai("node", "init", "--data-dir", dir, "--password-file", password, "--scrypt-n", "1024",
        "--listen", `/ip4/127.0.0.1/tcp/${p2p[i]}`, "--api-port", String(api[i])))
    }
    // 2. One of them builds the genesis from the three identities and the deployment, and hands it out.
    const genesis = join(root, "genesis.json")
    ok(await dai("genesis", "new", genesis, "--deployment", deployment, "--rpc", rpc))
    for (const dir of dirs) ok(await dai("genesis", "add-validator", genesis, "--identity", join(dir, "identity.json"), "--stake", String(STAKE)))
    ok(await dai("genesis", "validate", genesis))
    for (const dir of dirs) ok(await dai("genesis", "install", genesis, "--data-dir", dir))
    // 3. Each validator's account gets its stake (alice a spare 500,000 to stake through the API later), a fee deposit and gas.
    for (const [i, dir] of dirs.entries()) ok(await dai("chain", "fund", "--rpc", rpc, "--deployment", deployment, "--to", dir, "--dai", String(STAKE + 100 + (i === 0 ? 500_000 : 0)), "--eth", "1"))

    const identities = dirs.map((d) => JSON.parse(readFileSync(join(d, "identity.json"), "utf8")) as { name: string; address: string })
    const nameOf = (address: string) => identities.find((x) => x.address.toLowerCase() === address.toLowerCase())?.name ?? address
    // 4. The nodes register themselves on Staking, the Committee's snapshot 1 is taken, and they run.
    const nodes = dirs.map((d) => startChild(d, password))
    const outputs = () => nodes.map((n, i) => `--- ${[...names, "dave"][i]}\n${n.output()}`).join("\n")
    try {
      // Every node commits, and they commit the same blocks.
      await vi.waitFor(async () => {
        const heights = await Promise.all(api.map(height))
        expect(Math.min(...heights), outputs()).toBeGreaterThanOrEqual(3)
      }, { timeout: 180_000, interval: 500 })
      const hashes = await Promise.all(api.map((port) => blockHash(port, 3)))
      expect(hashes[0]).toMatch(/^0x[0-9a-f]{64}$/)
      expect(new Set(hashes).size, `block 3: ${hashes.join(" ")}`).toBe(1)
      for (const n of nodes) expect(n.output()).not.toMatch(/no shard|ledger of its own/)
      // The committee runs on the chain's snapshots, with the deployed parameters.
      const first = (await status(api[0]!))!
      expect(first.params["consensus.epochLength"]).toBe(15)
      expect(first.params["consensus.timeoutCommit"]).toBe(300)

      // Every validator trains (each holds a shard): wait until each has been in a round — cohorts are
      // drawn and a loaded machine may miss a deadline, so not necessarily the first.
      const watch = roundWatcher(api[0]!, nameOf)
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

      // A stake through alice's API goes to the contracts and counts in her vote on the next proposal.
      const staked = await post(api[0]!, dirs[0]!, "/stake", { amount: (500_000n * TOKEN).toString() })
      expect(staked.status, JSON.stringify(staked.json)).toBe(202)
      expect(staked.json).toMatchObject({ status: "applied", receipt: { type: "bondContributor", owner: "alice" } })
      const proposed = await post(api[0]!, dirs[0]!, "/proposals", { action: { kind: "param", name: "consensus.timeoutCommit", value: 400 } })
      expect(proposed.status, JSON.stringify(proposed.json)).toBe(200)
      const id = proposed.json["id"] as number
      const voted = await post(api[0]!, dirs[0]!, "/votes", { proposal: id, support: true })
      expect(voted.status, JSON.stringify(voted.json)).toBe(200)
      expect(BigInt(voted.json["votes"] as string)).toBe(BigInt(STAKE + 500_000) * TOKEN)
      for (const i of [1, 2]) {
        const v = await post(api[i]!, dirs[i]!, "/votes", { proposal: id, support: true })
        expect(v.status, JSON.stringify(v.json)).toBe(200)
        expect(BigInt(v.json["votes"] as string)).toBe(BigInt(STAKE) * TOKEN)
      }
      // Passed once the vote is over; executed once the timelock is; the network takes it at a later epoch.
      // The contract judges both by block.timestamp, and the test's chain mines only for transactions:
      // rather than wait ~25 s on the wall clock (and then for someone's transaction to carry the time),
      // a block is mined at the end of the timelock (Hardhat's evm_setNextBlockTimestamp; later blocks go on from there).
      const proposal = () => get<Array<{ id: number; state: string; executableAt: number }>>(api[0]!, "/proposals").then((ps) => ps?.find((p) => p.id === id))
      const executableAt = (await proposal())!.executableAt
      const chainSec = async () => Number((await rpcCall<{ timestamp: string }>(rpc, "eth_getBlockByNumber", ["latest", false])).timestamp)
      const due = Math.max(Math.ceil(executableAt / 1000) + 1, (await chainSec()) + 1)
      // A node's transaction may land in between with a later time: then that block carries it already.
      await rpcCall(rpc, "evm_setNextBlockTimestamp", [due]).catch(async (e: unknown) => {
        if ((await chainSec()) * 1000 < executableAt) throw e
      })
      await rpcCall(rpc, "evm_mine", [])
      expect(await chainSec()).toBeGreaterThanOrEqual(Math.ceil(executableAt / 1000))
      await vi.waitFor(async () => expect((await proposal())?.state).toBe("Executable"), { timeout: 120_000, interval: 1_000 })
      const executed = await dai("gov", "execute", String(id), "--data-dir", dirs[0]!)
      expect(executed.code, `${executed.out}\n${executed.err}`).toBe(0)
      const snapshotThen = (await status(api[0]!))!.snapshot
      for (const port of api) {
        await vi.waitFor(async () => {
          const s = await status(port)
          expect(s?.params["consensus.timeoutCommit"], outputs()).toBe(400)
          expect(s!.snapshot).toBeGreaterThan(snapshotThen)
        }, { timeout: 180_000, interval: 500 })
      }

      // A fourth node joins from the genesis as a follower, is funded, registers, and joins the set.
      const daveDir = join(root, "dave")
      const [daveP2p, daveApi] = [await freePort(), await freePort()]
      ok(await dai("node", "init", "--data-dir", daveDir, "--password-file", password, "--scrypt-n", "1024", "--genesis", genesis,
        "--listen", `/ip4/127.0.0.1/tcp/${daveP2p}`, "--api-port", String(daveApi)))
      ok(await dai("chain", "fund", "--rpc", rpc, "--deployment", deployment, "--to", daveDir, "--dai", String(STAKE + 100), "--eth", "1"))
      const dave = (JSON.parse(readFileSync(join(daveDir, "identity.json"), "utf8")) as { address: string }).address.toLowerCase()
      nodes.push(startChild(daveDir, password))
      await vi.waitFor(async () => expect(await height(daveApi), outputs()).toBeGreaterThan(0), { timeout: 120_000, interval: 500 })
      ok(await dai("validator", "register", "--amount", String(STAKE), "--data-dir", daveDir))
      const isIn = (vs: readonly ValidatorSeen[] | undefined) => vs?.find((v) => v.address?.toLowerCase() === dave || v.operator.toLowerCase() === dave)
      for (const port of [...api, daveApi]) {
        await vi.waitFor(async () => {
          const mine = isIn(await get<ValidatorSeen[]>(port, "/validators"))
          expect(mine?.active, outputs()).toBe(true)
          expect(BigInt(mine!.power)).toBeGreaterThan(0n)
        }, { timeout: 180_000, interval: 500 })
      }
      // Four equal validators: with carol stopped, alice and bob hold half the power — blocks commit only with dave's votes.
      nodes[2]!.process.kill("SIGTERM")
      expect((await nodes[2]!.exit).code).toBe(0)
      const stoppedAt = await height(api[0]!)
      await vi.waitFor(async () => expect(await height(api[0]!), outputs()).toBeGreaterThanOrEqual(stoppedAt + 3), { timeout: 120_000, interval: 500 })
      await vi.waitFor(async () => expect(await height(daveApi)).toBeGreaterThanOrEqual(stoppedAt + 3), { timeout: 60_000, interval: 500 })
      expect(await blockHash(daveApi, stoppedAt + 3)).toBe(await blockHash(api[0]!, stoppedAt + 3))

      // SIGTERM stops each cleanly.
      const running = nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null)
      for (const n of running) n.process.kill("SIGTERM")
      expect((await Promise.all(running.map((n) => n.exit))).map((e) => e.code), outputs()).toEqual(running.map(() => 0))
    } finally {
      for (const n of nodes) if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL")
    }
  }, 900_000) // generous bounds for a loaded 2-core machine, not timings
})
