/**
 * The devnet's EVM chain matches its genesis, and governance runs against it through the API: two
 * validators over libp2p on loopback with Hardhat's in-process chain, where deployment registered
 * both on Staking with their genesis stake; a proposal and a vote POSTed to node 0's API land on the
 * contracts, and every node's governance machine reports the proposal with the tally, which the
 * TUI's model shows, as it shows node 0's vote; node 0's self-bond is followed by a staking machine.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { initialModel, reduceAll } from "../../tui/model.ts"
import { resolvePath } from "./config.ts"
import { DEVNET_PARAMS, startDevnet, type Devnet } from "./devnet.ts"
import { stateLine } from "../../cli/progress.ts"

describe("devnet governance over the EVM chain", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-devnet-gov-"))
  let devnet: Devnet
  const events: TelemetryEvent[][] = []

  beforeAll(async () => {
    devnet = await startDevnet({ dir: join(root, "net"), nodes: 2, params: { ...DEVNET_PARAMS, "consensus.timeoutCommit": "100ms" }, training: { enabled: false } })
    for (const n of devnet.nodes) {
      const mine: TelemetryEvent[] = []
      events.push(mine)
      n.telemetry.subscribe((e) => void mine.push(e))
    }
  }, 60_000)
  afterAll(async () => {
    await devnet?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it("registers the genesis validators on Staking with their genesis stake", async () => {
    const chain = devnet.nodes[0]!.chain!
    const genesis = devnet.nodes[0]!.genesis
    const positions = await Effect.runPromise(chain.positions())
    expect(positions.map((p) => ({ owner: p.owner, pool: p.pool, tokens: p.tokens, tier: p.tier }))).toEqual(
      genesis.validators.map((v) => ({ owner: v.operator, pool: v.operator, tokens: v.amount, tier: v.tier })),
    )
    const pools = await Effect.runPromise(chain.pools)
    expect(pools.map((p) => p.operator).sort()).toEqual(genesis.validators.map((v) => v.operator).sort())
  })

  it("takes a proposal and a vote through node 0's API; every node reports the proposal with the tally", async () => {
    const node0 = devnet.nodes[0]!
    const url = node0.apiServer!.url
    const token = readFileSync(resolvePath(node0.dataDir, node0.config.api.tokenFile), "utf8").trim()
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) })
      const json = (await r.json()) as Record<string, unknown>
      expect(r.status, JSON.stringify(json)).toBe(200)
      return json
    }
    const { id } = await post("/proposals", { action: { kind: "param", name: "fees.burnFraction", value: 0.4 } })
    expect(id).toBe(1)
    const { votes } = await post("/votes", { proposal: id, support: true })
    expect(BigInt(votes as string)).toBe(devnet.nodes[0]!.genesis.validators[0]!.amount)

    // After the next blocks, each node's governance machine reports the proposal with the vote counted.
    for (const mine of events) {
      await vi.waitFor(() => {
        const last = mine.filter((e) => e.kind === "governance.proposal" && e.data["id"] === id).at(-1)
        expect(last?.data).toMatchObject({ state: "Active", title: "fees.burnFraction = 0.4", forVotes: votes, againstVotes: "0" })
      }, { timeout: 20_000, interval: 100 })
    }
    const reported = events[0]!.filter((e) => e.kind === "governance.proposal").at(-1)!
    expect(stateLine(reported)).toBe(`node0 proposal 1 Active: fees.burnFraction = 0.4 (for ${String(votes)}, against 0)`)
    const vote = events[0]!.find((e) => e.kind === "governance.vote")!
    expect(stateLine(vote)).toBe(`node0 voted yes on proposal 1 with ${String(votes)} votes`)
    expect(vote.data).toMatchObject({ id, voter: "node0", address: node0.address, account: "node0", choice: "yes", votes, forVotes: votes })

    // What node 0's TUI shows from its telemetry.
    const model = reduceAll(initialModel(node0.name), events[0]!)
    expect(model.proposals).toEqual([expect.objectContaining({ id, state: "Active", title: "fees.burnFraction = 0.4", forVotes: BigInt(votes as string), againstVotes: 0n, myVote: "yes" })])
    // Node 0's self-bond, followed by its staking machine.
    expect([...node0.node.stake.states().values()]).toEqual([expect.objectContaining({ stake: "bonded.unlocked", text: "bonded", bonded: node0.genesis.validators[0]!.amount })])
    expect(devnet.nodes[1]!.governance!.states().get(id as number)).toBe("Active")
  }, 40_000)
})
