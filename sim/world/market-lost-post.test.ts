/**
 * A post the ledger took without answering (issue 13, reliability): on a chain the adapter gives up on
 * `postJob` after its timeout (`ChainUnavailable`) while the transaction may still be mined, and its
 * escrow would then wait for a refund nobody sends. On the simulated market world (providers,
 * referees, the one in-memory ledger), a requester whose ledger applies a post but answers
 * `ChainUnavailable`:
 *  - finds the job among its own on the ledger and runs it: routed, delivered, paid and settled, the
 *    budget accounted for to the wei, the job posted once (u0);
 *  - when it can read its jobs only after the job's deadline (the chain stays unreachable for reads),
 *    refunds it itself: the whole budget back, nothing paid (u1).
 * And a reclaim the ledger took without answering (u2's job, given to p9, a provider that never
 * delivers): the requester reads the job, sees it taken back, and routes it to another provider (p8),
 * instead of asking again for ever (refused: the job is not assigned) while the job waits for nobody.
 * And an assignment taken without an answer (u3): the requester reads the job, sees it assigned to
 * the provider it asked, and runs it with that one instead of offering it to others.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { attachSimNetwork } from "../adapters/network.ts"
import { seededRandom } from "../adapters/random.ts"
import { Prng } from "../kernel/index.ts"
import { parseScenario } from "../scenario/load.ts"
import { SIM_MARKET_KIND } from "../scenario/market-setup.ts"
import { runScenario } from "../scenario/run.ts"
import type { ConsensusWorld } from "./world.ts"
import { REMAINDER_ACCOUNT } from "../../runtime/core/app/genesis.ts"
import type { MarketOp } from "../../runtime/core/market/index.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { ChainUnavailable } from "../../runtime/services/chain.ts"
import type { MarketContext } from "../../runtime/actors/market/context.ts"
import { startProvider } from "../../runtime/actors/market/provider.ts"
import { startRequester, type RequesterActor } from "../../runtime/actors/market/requester.ts"
import { simWork } from "../faults/market.ts"

const scenario = parseScenario(`name: requester-lost-post
seed: 5
network:
  validators: 4
  stake: 10000
  providers: 2
  providerPrice: [10, 9]
  providerSpeed: [200ms, 150ms]
  requesters: 1
  jobRate: 1/100s
  jobDeadline: 20s
params:
  market.disputeWindow: 5s
  market.noShowTimeout: 3s
until: { time: 45s }
`, "requester-lost-post.yaml")

const UNITS = 10
const MAX_PRICE = 20n * TOKEN

interface User {
  requester: RequesterActor
  submitted: Promise<unknown>
  events: Array<{ kind: string; data: Record<string, unknown> }>
  balanceBefore: bigint
}

const fund = (world: ConsensusWorld, id: string, amount: bigint) => {
  const funded = world.ledger.economy.apply({ type: "transfer", from: REMAINDER_ACCOUNT, to: id, amount }, world.scheduler.now)
  if (Result.isFailure(funded)) throw new Error(funded.failure.message)
}

/** A market context for node `id` of the world, over `ledger` (default the world's). */
const contextOf = (world: ConsensusWorld, id: string, events: User["events"], ledger: MarketContext["ledger"] = world.ledger): MarketContext => ({
  name: id, clock: world.clock, now: () => world.scheduler.now, run: (e) => Effect.runSync(e),
  random: seededRandom(Prng.fromSeed(11).child(id)), network: attachSimNetwork(world.net, id).network, ledger,
  params: () => world.ledger.economy.params,
  emit: (kind, data) => void events.push({ kind, data }),
  fault: () => {},
})

/**
 * Requester `id` over the world's ledger, except that its first operation of type `lose` is applied
 * and answered with `ChainUnavailable` (a timed-out adapter whose transaction was mined), and its reads
 * of its jobs fail the same way until `readsFrom` (ms). It submits one job of `kind` at once.
 */
const startUser = (world: ConsensusWorld, id: string, readsFrom: number, lose: MarketOp["type"] = "postJob", kind = SIM_MARKET_KIND): User => {
  const economy = world.ledger.economy
  fund(world, id, 5_000n * TOKEN)
  let lostOne = false
  const ledger: MarketContext["ledger"] = {
    ...world.ledger,
    marketOp: <O extends MarketOp>(op: O) => {
      if (op.type !== lose || lostOne) return world.ledger.marketOp(op)
      lostOne = true
      return Effect.flatMap(world.ledger.marketOp(op), () => Effect.fail(new ChainUnavailable({ operation: `marketOp ${op.type}`, reason: "no answer within 30000 ms" })))
    },
    marketJobs: (filter) =>
      world.scheduler.now < readsFrom ? Effect.fail(new ChainUnavailable({ operation: "marketJobs", reason: "no answer within 30000 ms" })) : world.ledger.marketJobs(filter),
  } as MarketContext["ledger"]
  const events: User["events"] = []
  const balanceBefore = economy.balanceOf(id)
  const requester = startRequester(contextOf(world, id, events, ledger), {})
  const submitted = requester.submit({ kind, units: UNITS, maxPricePerUnit: MAX_PRICE, deadline: world.scheduler.now + 15_000 }).then(
    (r) => (lose === "postJob" ? expect.fail("the lost post resolved") : r),
    (e: unknown) => e,
  )
  return { requester, submitted, events, balanceBefore }
}

/** A provider of SOLO_KIND on the simulated network: p9 never delivers, p8 does (10 ms a unit). */
const SOLO_KIND = "infer:solo"
const startSoloProvider = (world: ConsensusWorld, id: string, events: User["events"], delivers: boolean) => {
  const bond = BigInt(world.ledger.economy.params["market.minProviderBond"]) * TOKEN
  fund(world, id, bond + TOKEN)
  startProvider(contextOf(world, id, events), { kind: SOLO_KIND, bond, pricePerUnit: TOKEN, capacity: 2, work: simWork(10, () => (delivers ? undefined : "no-show")) })
}

const run = () => {
  const seen: { world?: ConsensusWorld; u0?: User; u1?: User; u2?: User; u3?: User; providers: User["events"] } = { providers: [] }
  runScenario(scenario, {
    onWorld: (world) => {
      seen.world = world
      world.clock.setTimeout(() => {
        // u0 reads its jobs as soon as it wants; u1 only from 25 s, past its job's deadline (20 s).
        seen.u0 = startUser(world, "u0", 0)
        seen.u1 = startUser(world, "u1", 25_000)
      }, 5_000)
      // p9 alone serves SOLO_KIND when u2 submits; p8 comes once the job is p9's.
      world.clock.setTimeout(() => startSoloProvider(world, "p9", seen.providers, false), 4_000)
      world.clock.setTimeout(() => void (seen.u2 = startUser(world, "u2", 0, "reclaimNoShow", SOLO_KIND)), 5_000)
      world.clock.setTimeout(() => startSoloProvider(world, "p8", seen.providers, true), 6_500)
      world.clock.setTimeout(() => void (seen.u3 = startUser(world, "u3", 0, "assignJob")), 7_000)
    },
  })
  return { world: seen.world!, u0: seen.u0!, u1: seen.u1!, u2: seen.u2!, u3: seen.u3! }
}

describe("a post the ledger took without answering", () => {
  const { world, u0, u1, u2, u3 } = run()
  const economy = world.ledger.economy
  const jobsOf = (id: string) => economy.jobs().filter((j) => j.requester === id)

  it("is found on the ledger and run: routed, delivered, paid and settled, posted once, the budget accounted for", async () => {
    expect(await u0.submitted).toBeInstanceOf(ChainUnavailable)
    const jobs = jobsOf("u0")
    expect(jobs).toHaveLength(1)
    const job = jobs[0]!
    expect(job.state).toBe("settled")
    expect(job.paidUnits).toBe(BigInt(UNITS))
    expect(job.paid + job.feeBurnt + job.feeToStakers + job.returned + job.escrow).toBe(job.budget)
    expect(job.notes.every((n) => n.state === "paid")).toBe(true)
    expect(u0.events.map((e) => e.kind)).toEqual(expect.arrayContaining(["market.post-unanswered", "market.job.adopted", "market.job.assigned"]))
    expect(u0.events.find((e) => e.kind === "market.job.adopted")!.data.job).toBe(job.id)
    expect(u0.requester.finished().map((f) => [f.job, f.status])).toContainEqual([job.id, "settled"])
    // Paid what the providers delivered, nothing more: the rest of the budget came back.
    expect(economy.balanceOf("u0")).toBe(u0.balanceBefore - job.paid - job.feeBurnt - job.feeToStakers)
  })

  it("is refunded by its requester once found past its deadline: the whole budget back, nothing paid", async () => {
    expect(await u1.submitted).toBeInstanceOf(ChainUnavailable)
    const jobs = jobsOf("u1")
    expect(jobs).toHaveLength(1)
    const job = jobs[0]!
    expect(job.state).toBe("expired")
    expect(job.provider).toBeUndefined()
    expect([job.escrow, job.paid, job.returned]).toEqual([0n, 0n, job.budget])
    expect(economy.balanceOf("u1")).toBe(u1.balanceBefore)
    expect(u1.events.map((e) => e.kind)).not.toContain("market.job.adopted")
    expect(u1.events.find((e) => e.kind === "market.job.swept")?.data).toMatchObject({ job: job.id, state: "expired", returned: String(job.budget) })
  })

  it("a reclaim taken without an answer: the requester sees the job back on the ledger and fails it over", async () => {
    const jobs = jobsOf("u2")
    expect(jobs).toHaveLength(1)
    const job = jobs[0]!
    const assigned = u2.events.filter((e) => e.kind === "market.job.assigned").map((e) => e.data.provider)
    expect(assigned).toEqual(["p9", "p8"])
    expect(u2.events.find((e) => e.kind === "market.no-show")?.data).toMatchObject({ job: job.id, provider: "p9" })
    expect(job.state).toBe("settled")
    expect(job.provider).toBe("p8")
    expect(job.notes.every((n) => n.provider === "p8" && n.state === "paid")).toBe(true)
    expect(job.paid + job.feeBurnt + job.feeToStakers + job.returned + job.escrow).toBe(job.budget)
    // p9 paid the no-show penalty, once, to u2.
    const penalty = economy.provider("p9")!.penalized
    expect(penalty).toBeGreaterThan(0n)
    expect(job.compensation).toBe(penalty)
  })

  it("an assignment taken without an answer: the requester sees the provider holds the job and runs it with it", async () => {
    const jobs = jobsOf("u3")
    expect(jobs).toHaveLength(1)
    const job = jobs[0]!
    const assigned = u3.events.filter((e) => e.kind === "market.job.assigned").map((e) => e.data.provider)
    expect(assigned).toEqual([job.provider])
    expect(job.state).toBe("settled")
    expect(job.paid + job.feeBurnt + job.feeToStakers + job.returned + job.escrow).toBe(job.budget)
    expect(u3.requester.finished().map((f) => [f.job, f.status])).toEqual([[job.id, "settled"]])
  })
})
