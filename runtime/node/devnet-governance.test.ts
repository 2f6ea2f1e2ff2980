/**
 * The devnet's EVM chain matches its genesis, and governance runs against it through the API: two
 * validators over libp2p on loopback with Hardhat's in-process chain, where deployment registered
 * both on Staking with their genesis stake; a proposal and a vote POSTed to node 0's API land on the
 * contracts, and every node's governance machine reports the proposal with the tally, which the
 * TUI's model shows, as it shows node 0's vote; node 0's self-bond is followed by a staking machine.
 * The devnet constitution's short periods (a 15 s vote, a 5 s timelock here) let the proposal pass
 * and be executed by `dai gov execute` within the test, after clear refusals; the chain's
 * parameters (GET /params) then show the new value. Joining on the chain: a validator registers
 * with its consensus key and a trainer bonds, through the membership port over the contracts, each
 * refused first with the minimum named; `dai validator register` for a registered node says so.
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
import { makeMain, runtimeGroups } from "../../cli/main.ts"
import { Contract, type Signer } from "ethers"
import { makeEvmChain } from "../adapters/evm/chain.ts"
import { membershipOverChain } from "../api/membership-port.ts"
import { ApiRefusal } from "../api/node-api.ts"
import { TOKEN, WAD } from "../core/units.ts"

const dai = async (...argv: string[]) => {
  let out = ""
  let err = ""
  const code = await makeMain(runtimeGroups)(argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) })
  return { code, out, err }
}
/** The refusal a promise ends with (fails the test if it succeeds). */
const refusal = async (p: Promise<unknown>): Promise<ApiRefusal> => {
  const r = await p.then(() => undefined, (e: unknown) => e)
  expect(r).toBeInstanceOf(ApiRefusal)
  return r as ApiRefusal
}

describe("devnet governance over the EVM chain", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-devnet-gov-"))
  let devnet: Devnet
  const events: TelemetryEvent[][] = []

  beforeAll(async () => {
    devnet = await startDevnet({
      dir: join(root, "net"), nodes: 2, params: { ...DEVNET_PARAMS, "consensus.timeoutCommit": "100ms" }, training: { enabled: false },
      // 15 s: the proposal of the second test must still be open at the start of the fourth (about 3 s
      // later on a loaded machine), and the fourth waits for its vote and timelock on the wall clock:
      // each node's governance machine runs on the node's clock, not the chain's.
      governance: { "governance.votingPeriod": "15s", "governance.timelock": "5s" },
    })
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

  it("installs the devnet constitution: governance periods of seconds, their floors read back from the chain", async () => {
    const { readLoweredFloors } = await import("../../contracts/deploy/constitution-profile.ts")
    const floors = await readLoweredFloors(devnet.chain!.provider, devnet.chain!.deployment.contracts.Constitution)
    expect(floors).toEqual([
      { name: "governance.votingPeriod", min: 5_000, registryMin: 3_600_000, value: 15_000 },
      { name: "governance.timelock", min: 5_000, registryMin: 3_600_000, value: 5_000 },
    ])
    const file = JSON.parse(readFileSync(join(devnet.dir, "devnet.json"), "utf8")) as { constitution: { name: string; warning: string } }
    expect(file.constitution).toMatchObject({ name: "devnet", warning: expect.stringContaining("devnets and tests only") })
  })

  it("executes the passed proposal with `dai gov execute` once its timelock is over, after clear refusals; the chain's parameters show the new value", async () => {
    const node0 = devnet.nodes[0]!
    const url = node0.apiServer!.url
    const api = ["--api", url, "--data-dir", node0.dataDir]
    // Proposal 1 (the previous test's, voted yes by node 0) is still open for votes.
    const early = await dai("gov", "execute", "1", ...api)
    expect(early.code, early.err).toBe(2)
    expect(early.err).toMatch(/^dai gov execute: GovernanceVotingOpen: proposal 1 is still open for votes until /)
    // Proposal 2 gets no vote: it will be defeated (no quorum).
    const { id: defeated } = await node0.api.propose({ action: { kind: "param", name: "fees.burnFraction", value: 0.3 } })
    expect((await dai("gov", "execute", "99", ...api)).err.trim()).toBe("dai gov execute: GovernanceUnknownProposal: proposal 99 does not exist on the chain")

    const proposals = await node0.api.proposals()
    const p1 = proposals.find((p) => p.id === 1)!
    const p2 = proposals.find((p) => p.id === defeated)!
    expect(p1.executableAt - p1.votingEnds).toBe(5_000)
    // The chain's clock is the wall clock (the devnet starts Hardhat at now): wait until both can be judged.
    const due = Math.max(p1.executableAt, p2.votingEnds) + 1_000
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))

    const done = await dai("gov", "execute", "1", ...api)
    expect(done.err).toBe("")
    expect(done.code).toBe(0)
    expect(done.out.trim()).toBe("proposal 1 executed: fees.burnFraction = 0.4 (in force on the chain now; the network takes it at its next epoch)")
    const params = (await (await fetch(`${url}/params`)).json()) as { chain: Record<string, unknown> }
    expect(params.chain["fees.burnFraction"]).toBe(0.4)
    expect((await Effect.runPromise(devnet.nodes[1]!.chain!.params))["fees.burnFraction"]).toBe(0.4)

    const again = await dai("gov", "execute", "1", ...api)
    expect(again.code).toBe(2)
    expect(again.err.trim()).toBe("dai gov execute: GovernanceAlreadyExecuted: proposal 1 was executed already")
    const lost = await dai("gov", "execute", String(defeated), ...api)
    expect(lost.code).toBe(2)
    expect(lost.err.trim()).toBe(`dai gov execute: GovernanceNotPassed: proposal ${defeated} did not pass (Defeated): there is nothing to execute`)
    expect((await Effect.runPromise(chain0().params))["fees.burnFraction"]).toBe(0.4)
    // Every node's governance machine reaches Executed (the chain's word, at a later block).
    for (const n of devnet.nodes) await vi.waitFor(() => expect(n.governance!.states().get(1)).toBe("Executed"), { timeout: 20_000, interval: 100 })
  }, 90_000)

  const chain0 = () => devnet.nodes[0]!.chain!

  it("registers a validator with its consensus key and bonds a trainer on the contracts; too little is refused naming the minimum; a second registration is refused", async () => {
    const provider = devnet.chain!.provider as unknown as { send(m: string, p: unknown[]): Promise<unknown>; getSigner(a: string): Promise<Signer> }
    const accounts = (await provider.send("eth_accounts", [])) as string[]
    const [joiner, trainer] = [accounts[2]!, accounts[3]!]
    const signers = new Map([[joiner.toLowerCase(), await provider.getSigner(joiner)], [trainer.toLowerCase(), await provider.getSigner(trainer)]])
    const chain = makeEvmChain({
      provider: devnet.chain!.provider, deployment: devnet.chain!.deployment, params: devnet.nodes[0]!.genesis.params,
      signerFor: (account) => signers.get(account.toLowerCase()),
    })
    const membership = membershipOverChain(chain)
    const consensusKey = "0x00000000000000000000000000000000000c0de5"
    try {
      const small = await refusal(membership.registerValidator(joiner, consensusKey, { amount: 10n * TOKEN, tier: 0, commission: 0n }))
      expect(small.status).toBe(422)
      expect(small.message).toMatch(/^StakingBelowMinimumBond: registering 0x[0-9a-fA-F]{40} as a validator refused: a validator bond of 10 tokens is below the minimum of 1,000 tokens \(staking\.minValidatorBond\)/)
      const pools = await Effect.runPromise(chain.pools)
      const r = await membership.registerValidator(joiner, consensusKey, { amount: 2_000n * TOKEN, tier: 30, commission: WAD / 20n })
      expect(r).toMatchObject({ operator: joiner, signingKey: consensusKey, amount: (2_000n * TOKEN).toString(), tier: 30, commission: (WAD / 20n).toString() })
      const staking = new Contract(devnet.chain!.deployment.contracts.Staking, ["function signingKeyOf(address) view returns (address)"], devnet.chain!.provider)
      expect(((await staking.getFunction("signingKeyOf").staticCall(joiner)) as string).toLowerCase()).toBe(consensusKey)
      expect((await Effect.runPromise(chain.pools)).length).toBe(pools.length + 1)
      const twice = await refusal(membership.registerValidator(joiner, consensusKey, { amount: 2_000n * TOKEN, tier: 0, commission: 0n }))
      expect(twice.status).toBe(409)
      expect(twice.message).toMatch(/^StakingValidatorExists: .*this node is registered already/)

      const tiny = await refusal(membership.bondTrainer(trainer, { amount: 50n * TOKEN, tier: 0 }))
      expect(tiny.message).toMatch(/below the minimum of 100 tokens \(staking\.minContributorBond\)/)
      const bonded = await membership.bondTrainer(trainer, { amount: 200n * TOKEN, tier: 0 })
      expect(bonded).toMatchObject({ owner: trainer, amount: (200n * TOKEN).toString(), tier: 0 })
      expect((await Effect.runPromise(chain.positions(trainer))).map((p) => p.tokens)).toEqual([200n * TOKEN])
    } finally {
      await chain.close()
    }
    // A genesis validator is registered already: the command says so (exit 2), through node 1's API.
    const node1 = devnet.nodes[1]!
    const again = await dai("validator", "register", "--amount", "2000", "--api", node1.apiServer!.url, "--data-dir", node1.dataDir)
    expect(again.code).toBe(2)
    expect(again.err).toMatch(/^dai validator register: StakingValidatorExists: registering node1 as a validator refused/)
  }, 60_000)
})
