/**
 * Failover on loopback with real processes (issue 13, item 5): a provider that dies mid-job loses the
 * job to another before the deadline; no job is lost and none is paid twice.
 *
 * The setup is the README's hand-made network on a real chain (as runtime/node/hand-made-network.test.ts
 * builds it): a Hardhat JSON-RPC node on 127.0.0.1 (the network `npx hardhat node` serves, in this
 * process), `dai chain deploy` (the market's default parameters), three data dirs, one genesis, each
 * account funded by `dai chain fund`, and three `dai node start` processes (no training). bob registers
 * as a provider through his API; a job is posted through alice's API (her node's requester routes it);
 * as soon as alice's API shows the job assigned to bob, bob's process is killed with SIGKILL; carol
 * then registers. What is asserted is what the system guarantees, not when: alice's requester takes
 * the job back after `market.noShowTimeout` (bob pays the no-show penalty from his bond, to the
 * requester), carol delivers the rest before the deadline and the job settles; every job's budget is
 * accounted for to the wei (paid + fees + returned + escrow), every unit is paid once, and bob is paid
 * for no note he did not deliver before he died.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { WebSocket } from "ws"
import { runCaptured as dai } from "../../cli/dai.ts"
import { apiGet as get, apiPost, freePort, useChainAndProcesses, type Child } from "./testkit.ts"

const TOKEN = 10n ** 18n
const BOND = 1_000n * TOKEN
const PRICE = TOKEN / 20n // 0.05 DAI a unit
const MAX_PRICE = TOKEN / 10n
const UNITS = 30
/** The no-show penalty (market.noShowPenalty 5 %) of the bond. */
const PENALTY = BOND / 20n
const root = mkdtempSync(join(tmpdir(), "dai-failover-"))
const NAMES = ["alice", "bob", "carol"]
const dirs = NAMES.map((n) => join(root, n))
const password = join(root, "password")
const STAKE = 1_000_000
const PARAMS = [
  // market.noShowTimeout stays at its default, 30 s: the provider that takes over on a loaded machine
  // must deliver its first note within it (its first job loads the model and the evaluation set).
  "consensus.timeoutCommit=300ms",
  "consensus.timeoutPropose=1s",
  "consensus.timeoutPrevote=500ms",
  "consensus.timeoutPrecommit=500ms",
  "consensus.timeoutDelta=200ms",
]
let rpc = ""
const processes = useChainAndProcesses(root, (url) => void (rpc = url))

/** `dai node start` on node `i`'s data dir, in a child process, without training. */
const startNode = (i: number): Child => processes.start(dirs[i]!, password, ["--no-training"])

const ok = (r: { code: number; out: string; err: string }) => expect(r.code, r.err + r.out).toBe(0)

/** POST to node `i`'s API (at `port`) with its bearer token. */
const post = (i: number, port: number, path: string, body: unknown) => apiPost(port, dirs[i]!, path, body, 90_000)

/** The market's telemetry of node `i` (its API's /ws, kinds market.*), as lines, for the failure messages. */
const marketEvents = (i: number, port: number): { lines: string[]; close(): void } => {
  const token = readFileSync(join(dirs[i]!, "api-token"), "utf8").trim()
  const lines: string[] = []
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?kinds=market.`, { headers: { authorization: `Bearer ${token}` } })
  ws.on("message", (m) => void lines.push(`${NAMES[i]} ${m.toString().slice(0, 400)}`))
  ws.on("error", () => {})
  return { lines, close: () => ws.close() }
}

interface NoteSeen { readonly id: number; readonly provider: string; readonly units: string; readonly amount: string; readonly deliveredAt: number; readonly state: string }
interface JobSeen {
  readonly id: number; readonly requester: string; readonly state: string; readonly provider: string | null; readonly units: string; readonly budget: string
  readonly deadline: number; readonly delivered: string; readonly paidUnits: string; readonly escrow: string; readonly paid: string; readonly feeBurnt: string
  readonly feeToStakers: string; readonly returned: string; readonly compensation: string; readonly notes: readonly NoteSeen[]
}
interface ProviderSeen { readonly address: string; readonly bond: string; readonly penalized: string; readonly openJobs: number }

/** Every job's budget to the wei: paid to providers + fees (burnt, to stakers) + returned + escrow left. */
const accountedFor = (j: JobSeen): boolean =>
  BigInt(j.paid) + BigInt(j.feeBurnt) + BigInt(j.feeToStakers) + BigInt(j.returned) + BigInt(j.escrow) === BigInt(j.budget)

describe("a provider process killed mid-job", () => {
  it("loses the job to another before the deadline: it settles, accounted for to the wei, nothing paid twice, the no-show penalty charged", async () => {
    writeFileSync(password, "a test password, long enough\n")
    const api = await Promise.all(NAMES.map(() => freePort()))
    // As the README's "Three validators by hand": the contracts, three data
    // dirs, one genesis from their identities, each account funded (its stake, a provider's bond, gas).
    const deployment = join(root, "deployment.json")
    ok(await dai("chain", "deploy", "--rpc", rpc, "--out", deployment, "--constitution", "devnet", ...PARAMS.flatMap((p) => ["--param", p])))
    const p2p = await Promise.all(NAMES.map(() => freePort()))
    for (const [i, dir] of dirs.entries()) {
      ok(await dai("node", "init", "--data-dir", dir, "--password-file", password, "--scrypt-n", "1024", "--listen", `/ip4/127.0.0.1/tcp/${p2p[i]}`, "--api-port", String(api[i])))
    }
    const genesis = join(root, "genesis.json")
    ok(await dai("genesis", "new", genesis, "--deployment", deployment, "--rpc", rpc))
    for (const dir of dirs) ok(await dai("genesis", "add-validator", genesis, "--identity", join(dir, "identity.json"), "--stake", String(STAKE)))
    for (const dir of dirs) ok(await dai("genesis", "install", genesis, "--data-dir", dir))
    for (const dir of dirs) ok(await dai("chain", "fund", "--rpc", rpc, "--deployment", deployment, "--to", dir, "--dai", String(STAKE + 100 + 2_000), "--eth", "1"))
    const nodes = [0, 1, 2].map(startNode)
    const events: Array<ReturnType<typeof marketEvents>> = []
    const outputs = () => [...nodes.map((n, i) => `--- ${NAMES[i]}\n${n.output()}`), "--- market events", ...events.flatMap((e) => e.lines).slice(-80)].join("\n")
    for (const port of api) await vi.waitFor(async () => expect(await get(port, "/market"), outputs()).toBeDefined(), { timeout: 120_000, interval: 500 })
    events.push(...[0, 2].map((i) => marketEvents(i, api[i]!)))

    const registered = await post(1, api[1]!, "/market/providers", { bond: BOND.toString(), kinds: ["infer:mnist"], pricePerUnit: PRICE.toString(), capacity: 2 })
    expect(registered.status, JSON.stringify(registered.json)).toBe(200)
    // bob serves once his node reads the registration on the ledger and announces it in the DHT.
    const posted = await post(0, api[0]!, "/market/jobs", { kind: "infer:mnist", units: String(UNITS), maxPricePerUnit: MAX_PRICE.toString(), deadline: "150s" })
    expect(posted.status, JSON.stringify(posted.json)).toBe(200)
    const id = (posted.json["job"] as JobSeen).id
    const job = () => get<JobSeen>(api[0]!, `/market/jobs/${id}`)

    // Killed as soon as the ledger shows the job assigned to it (whatever it delivered by then).
    await vi.waitFor(async () => expect((await job())?.provider, outputs()).toBe("bob"), { timeout: 120_000, interval: 100 })
    nodes[1]!.process.kill("SIGKILL")
    await nodes[1]!.exit
    const atKill = (await job())!
    const byVictim = atKill.notes.filter((n) => n.provider === "bob")
    expect(byVictim.reduce((s, n) => s + BigInt(n.units), 0n)).toBeLessThan(BigInt(UNITS)) // it died mid-job

    const second = await post(2, api[2]!, "/market/providers", { bond: BOND.toString(), kinds: ["infer:mnist"], pricePerUnit: PRICE.toString(), capacity: 2 })
    expect(second.status, JSON.stringify(second.json)).toBe(200)

    // alice's requester takes the job back from the dead provider and carol finishes it.
    await vi.waitFor(async () => expect((await job())?.state, outputs()).toBe("settled"), { timeout: 170_000, interval: 1_000 })
    const done = (await job())!
    expect(done.provider).toBe("carol")
    expect(accountedFor(done)).toBe(true)
    expect(BigInt(done.paidUnits)).toBe(BigInt(UNITS))
    expect(BigInt(done.delivered)).toBe(BigInt(UNITS))
    // Every unit paid once: the paid notes' units sum to the job's, note ids unique, each delivered before the deadline.
    const paidNotes = done.notes.filter((n) => n.state === "paid")
    expect(new Set(done.notes.map((n) => n.id)).size).toBe(done.notes.length)
    expect(paidNotes.reduce((s, n) => s + BigInt(n.units), 0n)).toBe(BigInt(UNITS))
    expect(BigInt(done.paid) + BigInt(done.feeBurnt) + BigInt(done.feeToStakers)).toBe(paidNotes.reduce((s, n) => s + BigInt(n.amount), 0n))
    for (const n of done.notes) expect(n.deliveredAt).toBeLessThan(done.deadline)
    expect(done.notes.some((n) => n.provider === "carol")).toBe(true)
    // bob is paid for no more than he delivered before he died (his notes as they were then).
    expect(done.notes.filter((n) => n.provider === "bob").map((n) => n.id)).toEqual(byVictim.map((n) => n.id))
    // The no-show rule: 5 % of bob's bond, to the requester (the job's compensation), out of the bond.
    const providers = (await get<ProviderSeen[]>(api[0]!, "/market/providers"))!
    const victim = providers.find((p) => p.address === "bob")!
    expect(BigInt(victim.penalized)).toBe(PENALTY)
    expect(BigInt(victim.bond)).toBe(BOND - PENALTY)
    expect(victim.openJobs).toBe(0)
    expect(BigInt(done.compensation)).toBe(PENALTY)
    expect(providers.find((p) => p.address === "carol")!.openJobs).toBe(0)

    // No job lost: every job on the ledger is accounted for to the wei.
    const all = (await get<JobSeen[]>(api[0]!, "/market/jobs"))!
    expect(all.map((j) => j.id)).toContain(id)
    for (const j of all) expect(accountedFor(j), JSON.stringify(j)).toBe(true)

    for (const e of events) e.close()
    for (const i of [0, 2]) nodes[i]!.process.kill("SIGTERM")
    await Promise.all([nodes[0]!.exit, nodes[2]!.exit])
  }, 420_000)
})
