/**
 * The requester's `submit` (a job someone asked for, the node API's POST /market/jobs): on the
 * simulated market world (providers, referees, the one in-memory ledger), a submitted job is posted
 * by the requester's account, routed to a provider, delivered and settled through the same job
 * machine as the stream's; a post the ledger refuses rejects with the ledger's error and changes nothing;
 * a provider whose bond answers for no unit at its price (maxNoteUnits 0) is never given a job.
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
import type { PostJobReceipt } from "../../runtime/core/market/index.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { maxNoteUnits } from "../../runtime/core/market/math.ts"
import { marketKey, type MarketContext } from "../../runtime/actors/market/context.ts"
import { startRequester, type RequesterActor } from "../../runtime/actors/market/requester.ts"

// One stream requester (r0, a job every 100 s) is the scenario's minimum; u0 is the user, with submit only.
const scenario = parseScenario(`name: requester-submit
seed: 3
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
until: { time: 40s }
`, "requester-submit.yaml")

const LONE_KIND = "infer:lone"
const LONE_PRICE = 150n * TOKEN
const LONE_BOND = 1_000n * TOKEN

interface Seen {
  world: ConsensusWorld
  requester: RequesterActor
  accepted: Promise<PostJobReceipt>
  refused: Promise<PostJobReceipt>
  balanceBefore: bigint
  jobsBefore: number
  /** The ledger when the requester learnt of the refusal (the simulation runs synchronously: promises settle after it). */
  atRefusal?: { readonly balance: bigint; readonly jobs: number }
  /** A job of a kind only an under-bonded provider (p9) serves. */
  lone: Promise<PostJobReceipt>
  events: string[]
  assigned: string[]
}

const runWithUser = (): Seen => {
  const seen = { events: [] as string[], assigned: [] as string[] } as Partial<Seen> & { events: string[]; assigned: string[] }
  runScenario(scenario, {
    onWorld: (world) => {
      seen.world = world
      const economy = world.ledger.economy
      world.clock.setTimeout(() => {
        const funded = economy.apply({ type: "transfer", from: REMAINDER_ACCOUNT, to: "u0", amount: 5_000n * TOKEN }, world.scheduler.now)
        if (Result.isFailure(funded)) throw new Error(funded.failure.message)
        const ctx: MarketContext = {
          name: "u0", clock: world.clock, now: () => world.scheduler.now, run: (e) => Effect.runSync(e),
          random: seededRandom(Prng.fromSeed(7).child("u0")), network: attachSimNetwork(world.net, "u0").network, ledger: world.ledger,
          params: () => economy.params,
          emit: (kind, data) => {
            seen.events.push(kind)
            if (kind === "market.job.assigned") seen.assigned.push(String(data.provider))
            if (kind === "market.job.finished" && data.status === "rejected") seen.atRefusal ??= { balance: economy.balanceOf("u0"), jobs: economy.jobs().length }
          },
          fault: () => {},
        }
        const requester = seen.requester = startRequester(ctx, {})
        seen.balanceBefore = economy.balanceOf("u0")
        seen.jobsBefore = economy.jobs().length
        // Refused by the rules: zero units.
        seen.refused = requester.submit({ kind: SIM_MARKET_KIND, units: 0, maxPricePerUnit: 20n * TOKEN, deadline: world.scheduler.now + 20_000 })
        seen.refused.catch(() => {})
      }, 3_000)
      world.clock.setTimeout(() => {
        seen.accepted = seen.requester!.submit({ kind: SIM_MARKET_KIND, units: 10, maxPricePerUnit: 20n * TOKEN, deadline: world.scheduler.now + 20_000 })
      }, 6_000)
      world.clock.setTimeout(() => {
        // p9 serves LONE_KIND alone, at a price its bond answers for no unit of (maxNoteUnits 0).
        const funded = economy.apply({ type: "transfer", from: REMAINDER_ACCOUNT, to: "p9", amount: LONE_BOND + TOKEN }, world.scheduler.now)
        if (Result.isFailure(funded)) throw new Error(funded.failure.message)
        Effect.runSync(world.ledger.marketOp({ type: "registerProvider", provider: "p9", bond: LONE_BOND, kinds: [LONE_KIND], pricePerUnit: LONE_PRICE, capacity: 4 }))
        Effect.runSync(attachSimNetwork(world.net, "p9").network.provide(marketKey(LONE_KIND), { pricePerUnit: LONE_PRICE, capacity: 4, queue: 0 }))
      }, 7_000)
      world.clock.setTimeout(() => {
        seen.lone = seen.requester!.submit({ kind: LONE_KIND, units: 5, maxPricePerUnit: 200n * TOKEN, deadline: world.scheduler.now + 15_000 })
      }, 9_000)
    },
  })
  return seen as Seen
}

describe("requester.submit", () => {
  const seen = runWithUser()
  const economy = seen.world.ledger.economy

  it("refuses with the ledger's error unchanged, and the refusal changes nothing", async () => {
    const e = await seen.refused.then(() => expect.fail("a job of 0 units was posted"), (e: unknown) => e)
    expect((e as { _tag?: string })._tag).toMatch(/^Market/)
    expect(seen.atRefusal).toEqual({ balance: seen.balanceBefore, jobs: seen.jobsBefore })
  })

  it("posts a submitted job for its account, routes it to a provider that delivers, and settles it", async () => {
    const accepted = await seen.accepted
    const job = economy.job(accepted.job)!
    expect(job.requester).toBe("u0")
    expect(job.state).toBe("settled")
    expect(["p0", "p1"]).toContain(job.provider)
    expect(job.paidUnits).toBe(10n)
    expect(job.notes.every((n) => n.state === "paid")).toBe(true)
    // Paid for what was delivered, the rest returned: nothing of the budget is lost.
    expect(job.paid + job.feeBurnt + job.feeToStakers + job.returned).toBe(accepted.budget)
    const out = seen.requester.finished().find((f) => f.job === accepted.job)
    expect(out?.status).toBe("settled")
    expect(seen.events).toContain("market.job.assigned")
  })

  it("never gives a job to a provider whose bond answers for no unit at its price: the job waits and is refunded", async () => {
    expect(maxNoteUnits(LONE_BOND, LONE_PRICE, economy.params)).toBe(0n)
    const lone = await seen.lone
    const job = economy.job(lone.job)!
    expect(seen.events).toContain("market.under-bonded")
    expect(seen.assigned).not.toContain("p9")
    expect(job.provider).toBeUndefined()
    expect(job.state).toBe("expired")
    expect(job.returned).toBe(lone.budget)
  })
})
