import { Effect, Exit, Result } from "effect"
import { describe, expect, it } from "vitest"
import { ledgerAtGenesis } from "../core/app/ledger-genesis.ts"
import { testEconomy, SETUP, ok } from "../core/econ/testkit.ts"
import { DEFAULT_PARAMS } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../core/units.ts"
import type { Chain } from "./chain.ts"
import { makeMemoryChain } from "./memory-chain.ts"
import { ledgerMarket } from "./ledger-market.ts"
import { TEST_CHAIN_ID, toyVerify } from "../core/committee/testkit.ts"
import { ZERO_ADDRESS } from "../core/committee/digest.ts"
import { toHex } from "../core/crypto.ts"
import { signedVerdict } from "../core/market/testkit.ts"
import { frozenNotes, verdictDigestHex } from "../core/market/verdict.ts"

const HASH = `0x${"cd".repeat(32)}`
const T = TOKEN

/** A job's whole life through the port: register, post, assign, deliver, confirm; listings and refusals as the rules say. */
const lifeThroughThePort = async (chain: Pick<Chain["Service"], "marketOp" | "marketProvider" | "marketProviders" | "marketJob" | "marketJobs">, requester: string, provider: string) => {
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
  const reg = await run(chain.marketOp({ type: "registerProvider", provider, bond: 1_000n * T, kinds: ["infer:mnist"], pricePerUnit: 1n * T, capacity: 1 }))
  expect(reg).toEqual({ type: "registerProvider", provider, bond: 1_000n * T })
  const posted = await run(chain.marketOp({ type: "postJob", requester, kind: "infer:mnist", units: 2n, maxPricePerUnit: 2n * T, deadline: 1_000_000 }))
  expect(posted.budget).toBe(4n * T)
  await run(chain.marketOp({ type: "assignJob", job: posted.job, provider, by: requester }))
  const refused = await Effect.runPromiseExit(chain.marketOp({ type: "deliver", job: posted.job, provider: requester, units: 1n, resultHash: HASH }))
  expect(Exit.isFailure(refused) && JSON.stringify(refused.cause)).toMatch(/MarketNotProvider/)
  await run(chain.marketOp({ type: "deliver", job: posted.job, provider, units: 2n, resultHash: HASH }))
  const paid = await run(chain.marketOp({ type: "confirm", job: posted.job, by: requester }))
  expect(paid).toMatchObject({ type: "confirm", state: "settled", returned: 2n * T })
  expect((await run(chain.marketProvider(provider)))?.openJobs).toBe(0)
  expect((await run(chain.marketProviders)).map((p) => p.address)).toEqual([provider])
  expect((await run(chain.marketJob(posted.job)))?.notes.map((n) => n.state)).toEqual(["paid"])
  expect(await run(chain.marketJobs({ state: "open" }))).toEqual([])
  expect((await run(chain.marketJobs({ requester }))).map((j) => j.id)).toEqual([posted.job])
  expect(await run(chain.marketJob(99))).toBeUndefined()
}

describe("the Chain port's market over an in-memory ledger", () => {
  it("ledgerMarket over an Economy", async () => {
    const e = testEconomy()
    for (const op of SETUP) ok(e.apply(op, 0))
    await lifeThroughThePort(ledgerMarket({ economy: e, now: () => 1_000 }), "d0", "c0")
  })

  it("the in-memory Chain (the simulator's shared ledger; a node's own, on a clock never before the ledger's)", async () => {
    const economy = Result.getOrThrow(ledgerAtGenesis({
      chainId: 7, time: 0, params: DEFAULT_PARAMS,
      validators: [{ operator: "v0", address: `0x${"11".repeat(20)}`, amount: 10_000n * T, tier: 0, commission: 0n }],
      allocations: [{ address: "v0", amount: 20_000n * T }, { address: "r", amount: 10_000n * T }, { address: "p", amount: 10_000n * T }, { address: "rest", amount: TOTAL_SUPPLY - 40_000n * T }],
    }))
    ok(economy.apply({ type: "transfer", from: "rest", to: "r", amount: 1n }, 5_000))
    // As real-world.ts builds a node's own ledger: the wall clock (here 0), never before the ledger's.
    const chain = makeMemoryChain(economy, () => Math.max(0, economy.now))
    await lifeThroughThePort(chain, "r", "p")
    expect(economy.provider("p")?.registeredAt).toBe(5_000)
  })

  it("takes a verdict only with the committee's signatures over the digest it gives; without a chain id it takes none", async () => {
    const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
    const flip = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))
    const e = testEconomy()
    for (const op of SETUP) ok(e.apply(op, 0))
    const snap = ok(e.takeSnapshot("v0", 0))
    const chain = makeMemoryChain(e, () => 1_000, undefined, { consensusChainId: TEST_CHAIN_ID, verify: toyVerify })
    await run(chain.marketOp({ type: "registerProvider", provider: "c0", bond: 1_000n * T, kinds: ["infer:mnist"], pricePerUnit: T, capacity: 1 }))
    const job = (await run(chain.marketOp({ type: "postJob", requester: "d0", kind: "infer:mnist", units: 2n, maxPricePerUnit: T, deadline: 100_000 }))).job
    await run(chain.marketOp({ type: "assignJob", job, provider: "c0", by: "d0" }))
    await run(chain.marketOp({ type: "deliver", job, provider: "c0", units: 2n, resultHash: HASH }))
    expect(await flip(chain.marketVerdictDigest({ job, providerRight: true, snapshotId: snap.id }))).toMatchObject({ _tag: "MarketNotDisputed" })
    expect(await flip(chain.marketVerdictDigest({ job: 9, providerRight: true, snapshotId: snap.id }))).toMatchObject({ _tag: "MarketUnknownJob" })
    await run(chain.marketOp({ type: "dispute", job, by: "d0" }))
    const j = (await run(chain.marketJob(job)))!
    const digest = await run(chain.marketVerdictDigest({ job, providerRight: true, snapshotId: snap.id }))
    expect(toHex(digest)).toBe(verdictDigestHex(TEST_CHAIN_ID, ZERO_ADDRESS, { job, providerRight: true, snapshotId: snap.id }, frozenNotes(j)))
    const verdict = signedVerdict(snap, j, true, "d2")
    expect(await flip(chain.marketOp({ ...verdict, signatures: verdict.signatures.slice(0, 1) }))).toMatchObject({ _tag: "CommitteeInsufficientPower" })
    const bare = makeMemoryChain(e, () => 1_000)
    expect(await flip(bare.marketOp(verdict))).toMatchObject({ _tag: "ChainUnavailable" })
    expect(await run(chain.marketOp(verdict))).toMatchObject({ type: "resolveDispute", providerRight: true, state: "settled", snapshotId: snap.id })
  })
})
