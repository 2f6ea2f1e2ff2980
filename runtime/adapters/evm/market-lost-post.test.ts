/**
 * A post whose answer the EVM adapter gave up on (issue 13, reliability), on Hardhat's in-process
 * chain with the contracts `deployContracts` deploys: with automine off, `postJob` is sent but not
 * mined within the adapter's timeout, so `marketOp` fails with `ChainUnavailable`; the next block
 * mines it all the same. The requester (runtime/actors/market/requester.ts) over that adapter:
 *  - finds the job among its own (`marketJobs({ requester })`) and runs it: with no provider to
 *    route to, the job machine refunds it at its deadline, the whole budget back to the requester;
 *  - refunds a job of its account that no run of it holds once past its deadline (a job of an
 *    earlier run of the node): its periodic sweep.
 * The market actors run on the wall clock and the chain's time (Hardhat's clock follows the wall clock).
 */
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest"
import { makeFiberRunner, wallClock } from "../clock.ts"
import { cryptoRandom } from "../random.ts"
import { TOKEN } from "../../core/units.ts"
import { ChainUnavailable } from "../../services/chain.ts"
import type { Network } from "../../services/network.ts"
import type { MarketContext } from "../../actors/market/context.ts"
import { startRequester, type RequesterActor } from "../../actors/market/requester.ts"
import type { EvmChain } from "./chain.ts"
import { evmWorld, type EvmWorld } from "./test-harness.ts"

type Any = any
const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)

let world: EvmWorld
let chain: EvmChain
let chainNow: () => Promise<number>
const started: RequesterActor[] = []

beforeAll(async () => {
  world = await evmWorld()
  // A block mined now: after a revert the latest block is the snapshot's, seconds behind the chain's clock.
  chainNow = async () => {
    await world.ethers.provider.send("evm_mine", [])
    return ((await world.ethers.provider.getBlock("latest"))!.timestamp as number) * 1000
  }
}, 120_000)
afterAll(async () => {
  for (const r of started.splice(0)) r.stop()
  await world.close()
})
beforeEach(async () => {
  for (const r of started.splice(0)) r.stop()
  await world.ethers.provider.send("evm_setAutomine", [true])
  await world.reset()
  // A short timeout: the adapter gives up on an unmined transaction quickly.
  chain = world.chain({ timeoutMs: 2_000 })
})

/** A network with nobody on it: no provider of any kind is found, nothing arrives. */
const nobody: Network["Service"] = {
  self: "d0",
  publish: () => Effect.void,
  send: () => Effect.void,
  subscribe: () => Effect.succeed(Effect.void),
  report: () => Effect.void,
  peers: Effect.succeed([]),
  provide: () => Effect.void,
  unprovide: () => Effect.void,
  findProviders: () => Effect.succeed([]),
}

/** d0's requester over `chain`, on the chain's time (the wall clock, offset to the latest block's). */
const requesterOf = async (o: { sweepInterval?: number } = {}) => {
  const offset = (await chainNow()) - Date.now()
  const events: Array<{ kind: string; data: Record<string, unknown> }> = []
  const ctx: MarketContext = {
    name: "d0", clock: wallClock, now: () => Date.now() + offset, run: makeFiberRunner().run, random: cryptoRandom, network: nobody,
    ledger: chain as Any, params: () => world.params,
    emit: (kind, data) => void events.push({ kind, data }),
    fault: () => {},
  }
  const requester = startRequester(ctx, { account: "d0", pollInterval: 200, ...o })
  started.push(requester)
  return { requester, events, now: ctx.now }
}

describe("the requester over the EVM adapter", () => {
  it("runs a post the adapter timed out on but the chain mined: found among its jobs, refunded whole at its deadline", async () => {
    const { requester, events, now } = await requesterOf()
    // The allowance first (mined), so that the post itself is the transaction left unmined.
    const token: Any = new (await import("ethers")).Contract(world.deployment.contracts.DAIToken, ["function approve(address,uint256) returns (bool)"], world.signers.d0)
    await (await token.approve(world.deployment.contracts.ComputeMarket, 1_000n * TOKEN)).wait()
    const balance = await run(chain.balanceOf("d0"))
    await world.ethers.provider.send("evm_setAutomine", [false])
    const refusal = await requester.submit({ kind: "infer:mnist", units: 10, maxPricePerUnit: 2n * TOKEN, deadline: now() + 12_000 }).then(
      () => expect.fail("the unmined post resolved"),
      (e: unknown) => e,
    )
    expect(refusal).toBeInstanceOf(ChainUnavailable)
    // The chain mines it after all.
    await world.ethers.provider.send("evm_mine", [])
    await world.ethers.provider.send("evm_setAutomine", [true])
    const jobs = await run(chain.marketJobs({ requester: "d0" }))
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[1, "open"]])
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toContain("market.job.adopted"), { timeout: 20_000, interval: 100 })
    expect(events.find((e) => e.kind === "market.job.adopted")!.data).toMatchObject({ job: 1, budget: String(20n * TOKEN) })
    // Nobody serves the kind: the job machine refunds it at its deadline.
    await vi.waitFor(async () => expect((await run(chain.marketJob(1)))!.state).toBe("expired"), { timeout: 40_000, interval: 250 })
    const job = (await run(chain.marketJob(1)))!
    expect([job.escrow, job.paid, job.returned]).toEqual([0n, 0n, 20n * TOKEN])
    expect(await run(chain.balanceOf("d0"))).toBe(balance)
    expect(requester.finished().map((f) => [f.job, f.status])).toContainEqual([1, "expired"])
    expect((await run(chain.marketJobs({ requester: "d0" }))).map((j) => j.id)).toEqual([1])
  }, 90_000)

  it("refunds a job of its account that none of its runs holds, once past its deadline", async () => {
    const balance = await run(chain.balanceOf("d0"))
    // Posted before this requester started (an earlier run of the node), due in 3 s.
    const posted = await run(chain.marketOp({ type: "postJob", requester: "d0", kind: "infer:mnist", units: 5n, maxPricePerUnit: TOKEN, deadline: (await chainNow()) + 3_000 }))
    const { events } = await requesterOf({ sweepInterval: 500 })
    await vi.waitFor(async () => expect((await run(chain.marketJob(posted.job)))!.state).toBe("expired"), { timeout: 40_000, interval: 250 })
    const job = (await run(chain.marketJob(posted.job)))!
    expect([job.escrow, job.paid, job.returned]).toEqual([0n, 0n, 5n * TOKEN])
    expect(await run(chain.balanceOf("d0"))).toBe(balance)
    await vi.waitFor(() => expect(events.find((e) => e.kind === "market.job.swept")?.data).toMatchObject({ job: posted.job, state: "expired", returned: String(5n * TOKEN) }), { timeout: 10_000 })
    expect(events.map((e) => e.kind)).not.toContain("market.job.adopted")
  }, 90_000)
})
