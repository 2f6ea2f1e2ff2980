/**
 * A dispute bisected in the simulated market (runtime/actors/market/bisect.ts over the world's
 * network, ledger and validators): a provider that computes the simulator's layered model right up to
 * layer k and wrong from there (its word commits to that trace, and it defends it honestly) is caught
 * by every referee at exactly layer k, after ⌈log2(L + 1)⌉ hash queries and one query of the agreed
 * input, and the committee's verdict slashes it and refunds the requester; the same job done right
 * by an honest provider is never disputed.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { attachSimNetwork } from "../adapters/network.ts"
import { seededRandom } from "../adapters/random.ts"
import { Prng } from "../kernel/index.ts"
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import type { ConsensusWorld } from "./world.ts"
import { REMAINDER_ACCOUNT } from "../../runtime/core/app/genesis.ts"
import { traceDepth, traceRoot } from "../../runtime/core/market/bisection.ts"
import type { PostJobReceipt } from "../../runtime/core/market/index.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import type { MarketContext } from "../../runtime/actors/market/context.ts"
import { marketKey } from "../../runtime/actors/market/context.ts"
import { startProvider } from "../../runtime/actors/market/provider.ts"
import { startRequester, type RequesterActor } from "../../runtime/actors/market/requester.ts"
import { UNIT_LAYERS, unitProviderTrace, unitTrace, unitWord, type MarketWork } from "../../runtime/actors/market/work.ts"

const scenario = parseScenario(`name: market-bisection
seed: 11
network:
  validators: 4
  stake: 10000
  providers: 1
  providerPrice: 10
  providerSpeed: 200ms
  requesters: 1
  jobRate: 1/100s
  jobDeadline: 20s
params:
  market.disputeWindow: 10s
  market.noShowTimeout: 5s
  market.verificationRate: 1
until: { time: 60s }
`, "market-bisection.yaml")

const FAULT_LAYER = 5
const BOND = 1_000n * TOKEN
const PRICE = 10n * TOKEN

/** A provider's work: the layered model, wrong from layer `fault` on when given (its word commits to that trace). */
const layeredWork = (fault: number | undefined): MarketWork => (task) => {
  const trace = unitTrace(task, fault)
  return { ms: 100 * task.units, resultHash: unitWord(task, traceRoot(trace.hashes)), trace }
}

interface Seen {
  world: ConsensusWorld
  lines: Array<Record<string, unknown>>
  jobs: Map<string, Promise<PostJobReceipt>>
  requester: RequesterActor
}

/** A world where `pz` (wrong from FAULT_LAYER) and `ph` (honest) each serve a kind only they serve, and `uz` submits one job to each. */
const runBisection = (): Seen => {
  const seen = { lines: [] as Array<Record<string, unknown>>, jobs: new Map<string, Promise<PostJobReceipt>>() } as Partial<Seen> & { lines: Array<Record<string, unknown>>; jobs: Map<string, Promise<PostJobReceipt>> }
  runScenario(scenario, {
    sink: (line) => {
      if (line.includes("market.bisection") || line.includes("market.referee.judged") || line.includes("market.resolved")) seen.lines.push(JSON.parse(line) as Record<string, unknown>)
    },
    onWorld: (world) => {
      seen.world = world
      const economy = world.ledger.economy
      const ctxOf = (id: string): MarketContext => ({
        name: id, clock: world.clock, now: () => world.scheduler.now, run: (e) => Effect.runSync(e),
        random: seededRandom(Prng.fromSeed(3).child(id)), network: attachSimNetwork(world.net, id).network, ledger: world.ledger,
        params: () => economy.params, emit: () => {}, fault: () => {},
      })
      const fund = (id: string, amount: bigint) => {
        const r = economy.apply({ type: "transfer", from: REMAINDER_ACCOUNT, to: id, amount }, world.scheduler.now)
        if (Result.isFailure(r)) throw new Error(r.failure.message)
      }
      world.clock.setTimeout(() => {
        fund("pz", BOND + TOKEN)
        fund("ph", BOND + TOKEN)
        fund("uz", 1_000n * TOKEN)
        startProvider(ctxOf("pz"), { kind: "infer:faulty", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(FAULT_LAYER) })
        startProvider(ctxOf("ph"), { kind: "infer:honest", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(undefined), trace: unitProviderTrace })
        seen.requester = startRequester(ctxOf("uz"), {})
      }, 2_000)
      world.clock.setTimeout(() => {
        for (const kind of ["infer:faulty", "infer:honest"]) {
          seen.jobs.set(kind, seen.requester!.submit({ kind, units: 5, maxPricePerUnit: 20n * TOKEN, deadline: world.scheduler.now + 25_000 }))
        }
      }, 4_000)
    },
  })
  return seen as Seen
}

describe("a dispute bisected in the simulated market", () => {
  const seen = runBisection()
  const economy = seen.world.ledger.economy

  it("catches a provider wrong from layer k at exactly layer k, slashes it and refunds the requester", async () => {
    const receipt = await seen.jobs.get("infer:faulty")!
    const job = economy.job(receipt.job)!
    // Its note was refuted by the committee's verdict; it was paid nothing for it.
    expect(job.notes.length).toBeGreaterThan(0)
    expect(job.notes.every((n) => n.provider !== "pz" || n.state === "refuted")).toBe(true)
    expect(economy.provider("pz")!.bond).toBe(0n) // market.wrongResultSlash 1: the whole bond
    // The requester got its budget back and was compensated from the slash (the job had no other provider).
    expect(job.paid).toBe(0n)
    expect(job.returned).toBe(receipt.budget)
    expect(job.compensation).toBeGreaterThan(0n)
    // Every referee that judged it found the fault at layer k, after ⌈log2(L + 1)⌉ hash queries and one input query.
    const bisections = seen.lines.filter((l) => l.kind === "market.bisection" && l.job === receipt.job)
    expect(bisections.length).toBeGreaterThanOrEqual(3)
    for (const b of bisections) expect(b).toMatchObject({ provider: "pz", outcome: "wrong", layer: FAULT_LAYER, queries: traceDepth(UNIT_LAYERS + 1), inputQueries: 1 })
    const judged = seen.lines.filter((l) => l.kind === "market.referee.judged" && l.job === receipt.job)
    expect(judged.length).toBeGreaterThanOrEqual(3)
    for (const j of judged) expect(j).toMatchObject({ providerRight: false, layer: FAULT_LAYER })
    expect(seen.lines.some((l) => l.kind === "market.resolved" && l.job === receipt.job && l.providerRight === false && l.provider === "pz")).toBe(true)
  })

  it("never disputes the same work done right: the honest provider is paid and keeps its bond", async () => {
    const receipt = await seen.jobs.get("infer:honest")!
    const job = economy.job(receipt.job)!
    expect(job.state).toBe("settled")
    expect(job.notes.every((n) => n.state === "paid")).toBe(true)
    expect(economy.provider("ph")!.bond).toBe(BOND)
    expect(seen.lines.some((l) => l.job === receipt.job)).toBe(false)
    expect(marketKey("infer:honest")).toBe("market/infer:honest")
  })
})
