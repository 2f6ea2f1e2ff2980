/**
 * Governance machines in the node, over the Chain port (the simulated chain over a real economy) on
 * virtual time: a proposal read after a block gets a machine; votes the chain counted reach it; its
 * own timers close the vote and the timelock between blocks, in the chain's states; a vote the node
 * reads only after the vote closed restarts the machine from the chain's tallies; the node's own
 * votes are reported with the tallies; final proposals are not read again.
 */
import { Effect, Result } from "effect"
import { describe, expect, it, vi } from "vitest"
import { governanceOverChain, reportingVotes } from "../../api/governance-port.ts"
import { makeTelemetryHub } from "../../api/telemetry-hub.ts"
import { Economy } from "../../core/econ/index.ts"
import { resolveParams } from "../../core/params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../../core/units.ts"
import type { Chain } from "../../services/chain.ts"
import type { TelemetryEvent } from "../../services/telemetry.ts"
import { makeSimChain } from "../../../sim/adapters/chain.ts"
import { Scheduler, SimClock } from "../../../sim/kernel/index.ts"
import type { ExecutedBlock } from "../context.ts"
import { startGovernance } from "./governance-report.ts"

const setup = () => {
  const params = Result.getOrThrow(resolveParams({}))
  const bond = BigInt(params["staking.minValidatorBond"]) * 10n * TOKEN
  const economy = Result.getOrThrow(Economy.genesis([
    { address: "v0", amount: bond * 2n }, { address: "v1", amount: bond * 2n }, { address: "community", amount: TOTAL_SUPPLY - bond * 4n },
  ], params, 0))
  for (const v of ["v0", "v1"]) Result.getOrThrow(economy.apply({ type: "registerValidator", operator: v, amount: bond, tier: 0, commission: WAD / 20n }, 0))
  const scheduler = new Scheduler(1_000)
  const chain = makeSimChain(economy, () => scheduler.now)
  const reads: number[] = []
  const counting: Pick<Chain["Service"], "proposal"> = { proposal: (id) => Effect.suspend(() => (reads.push(id), chain.proposal(id))) }
  const governance = governanceOverChain(chain)
  const hub = makeTelemetryHub()
  const events: TelemetryEvent[] = []
  hub.subscribe((e) => void (e.kind.startsWith("governance.") && events.push(e)))
  const emit = (kind: string, data: Record<string, unknown>) => Effect.runSync(hub.telemetry.emit({ at: scheduler.now, node: "v0", kind, data }))
  const listeners: Array<(b: ExecutedBlock) => void> = []
  const executed = {
    subscribe: (l: (b: ExecutedBlock) => void) => (listeners.push(l), () => void listeners.splice(listeners.indexOf(l), 1)),
    publish: (b: ExecutedBlock) => listeners.forEach((l) => l(b)),
  }
  const follower = startGovernance({ clock: new SimClock(scheduler), now: () => scheduler.now, emit, executed }, { chain: counting })
  /** An executed block: the reads it triggers have finished when this resolves. */
  const block = async () => {
    executed.publish({ block: undefined as never, execution: undefined as never })
    await new Promise((r) => setTimeout(r, 10))
  }
  const proposals = (id: number) => events.filter((e) => e.kind === "governance.proposal" && e.data["id"] === id).map((e) => e.data)
  return { params, chain, governance, scheduler, emit, events, block, proposals, follower, reads }
}

describe("governance machines in the node", () => {
  it("follow a proposal through its votes, the end of the vote and the timelock to execution, in the chain's states", async () => {
    const { params, chain, governance, scheduler, block, proposals, follower } = setup()
    await block()
    expect(proposals(1)).toEqual([])
    const id = await governance.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: 7 * 24 * 3600 * 1000 })
    await block()
    const votingEnds = scheduler.now + params["governance.votingPeriod"]
    expect(proposals(id)).toEqual([expect.objectContaining({ id, state: "Active", forVotes: "0", againstVotes: "0", endsAt: votingEnds, title: `staking.unbondingPeriod = ${7 * 24 * 3600 * 1000}` })])
    await block()
    expect(proposals(id)).toHaveLength(1)

    scheduler.runUntil({ time: scheduler.now + 1_000 })
    await governance.castVote(id, "v0", "for")
    await governance.castVote(id, "v1", "against")
    await block()
    const voted = proposals(id).at(-1)!
    expect(voted).toMatchObject({ state: "Active" })
    // Equal stakes: a tie is not a majority above the threshold.
    expect(BigInt(voted["forVotes"] as string)).toBeGreaterThan(0n)
    expect(voted["againstVotes"]).toBe(voted["forVotes"])

    // No block after this: the machine's own timer ends the vote.
    scheduler.runUntil({ time: votingEnds })
    expect(proposals(id).at(-1)).toMatchObject({ state: "Defeated" })
    expect((await Effect.runPromise(chain.proposal(id)))!.state).toBe("Defeated")
    expect(follower.states().get(id)).toBe("Defeated")
  })

  it("a passed proposal is queued, becomes executable after the timelock, and executed", async () => {
    const { params, chain, governance, scheduler, block, proposals } = setup()
    const id = await governance.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.4 })
    await governance.castVote(id, "v0", "for")
    await block()
    const votingEnds = scheduler.now + params["governance.votingPeriod"]
    expect(proposals(id).at(-1)).toMatchObject({ state: "Active" })
    scheduler.runUntil({ time: votingEnds })
    expect(proposals(id).at(-1)).toMatchObject({ state: "Queued", executableAt: votingEnds + params["governance.timelock"] })
    scheduler.runUntil({ time: votingEnds + params["governance.timelock"] })
    expect(proposals(id).at(-1)).toMatchObject({ state: "Executable" })
    await Effect.runPromise(chain.executeProposal(id))
    await block()
    expect(proposals(id).map((p) => p["state"])).toEqual(["Active", "Queued", "Executable", "Executed"])
  })

  it("a vote read only after the vote closed restarts the machine from the chain's tallies; final proposals are not read again", async () => {
    const { params, governance, scheduler, block, proposals, reads, follower } = setup()
    const id = await governance.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.3 })
    await block()
    const votingEnds = scheduler.now + params["governance.votingPeriod"]
    scheduler.runUntil({ time: votingEnds - 1 })
    await governance.castVote(id, "v0", "for")
    scheduler.runUntil({ time: votingEnds })
    // The machine closed the vote on what it had read: no votes.
    expect(proposals(id).at(-1)).toMatchObject({ state: "Defeated", forVotes: "0" })
    const before = proposals(id).length
    await block()
    expect(proposals(id)).toHaveLength(before)
    scheduler.runUntil({ time: scheduler.now })
    expect(proposals(id)).toHaveLength(before + 1)
    expect(proposals(id).at(-1)).toMatchObject({ state: "Queued" })
    expect(BigInt(proposals(id).at(-1)!["forVotes"] as string)).toBeGreaterThan(0n)

    const defeated = await governance.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.2 })
    await block()
    scheduler.runUntil({ time: scheduler.now + params["governance.votingPeriod"] })
    await block()
    expect(follower.states().get(defeated)).toBe("Defeated")
    reads.length = 0
    await block()
    expect(reads).not.toContain(defeated)
    expect(reads).toContain(id)
    follower.stop()
    await governance.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.1 })
    reads.length = 0
    await block()
    expect(reads).toEqual([])
  })

  it("reports the node's own votes with the tallies after them", async () => {
    const { chain, governance, events, emit } = setup()
    const id = await governance.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.4 })
    const port = reportingVotes(governance, { name: "v0", address: "0xabc" }, chain, emit)
    const votes = await port.castVote(id, "v0", "for")
    await vi.waitFor(() => expect(events.filter((e) => e.kind === "governance.vote")).toHaveLength(1))
    expect(events.find((e) => e.kind === "governance.vote")!.data).toEqual({
      id, voter: "v0", address: "0xabc", account: "v0", choice: "yes", votes: votes.toString(), forVotes: votes.toString(), againstVotes: "0", abstainVotes: "0", state: "Active",
    })
  })
})
