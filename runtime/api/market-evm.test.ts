/**
 * The market part of the node API over the EVM Chain adapter (the ComputeMarket deployed on
 * Hardhat's in-process chain, as `dai chain deploy` leaves it): the same views, totals, refusals and
 * metrics as over the in-memory ledger (market.test.ts), so the endpoints answer alike on either
 * ledger. Provider announcements go over a real libp2p node.
 */
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { MarketOp } from "../core/market/index.ts"
import { TOKEN } from "../core/units.ts"
import { evmWorld, type EvmWorld } from "../adapters/evm/test-harness.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "../adapters/libp2p/test-harness.ts"
import { makeMarketApi, type MarketApi } from "./market-api.ts"
import { ApiRefusal } from "./node-api.ts"
import { MarketJobView, MarketOpResult, MarketProviderView, MarketTotals } from "./schemas.ts"
import { makeTelemetryHub } from "./telemetry-hub.ts"

let world: EvmWorld
let net: Libp2pHarness
let chain: ReturnType<EvmWorld["chain"]>
let chainNow = 0
const shaped = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown) =>
  Schema.decodeUnknownSync(schema)(value, { onExcessProperty: "error" })
const apiOf = (account: string): MarketApi =>
  makeMarketApi({ name: account, account, ledger: chain, network: net.networks[0]!, hub: makeTelemetryHub(), now: () => chainNow })
const op = (o: MarketOp) => Effect.runPromise(chain.marketOp(o))
const refusal = async (p: Promise<unknown>): Promise<ApiRefusal> => {
  try {
    await p
  } catch (e) {
    if (e instanceof ApiRefusal) return e
    throw e
  }
  throw new Error("expected a refusal")
}

beforeAll(async () => {
  world = await evmWorld()
  net = await startLibp2pNetworks(1)
  chain = world.chain()
  chainNow = ((await world.ethers.provider.getBlock("latest"))!.timestamp as number) * 1000
}, 120_000)
afterAll(async () => {
  await net?.close()
  await world?.close()
})

describe("the market API over ComputeMarket", () => {
  it("registers and announces a provider, posts and confirms a job; totals, views, refusals and metrics as on the in-memory ledger", async () => {
    const provider = apiOf("c0")
    const requester = apiOf("d0")
    expect(shaped(MarketTotals, await requester.market())).toMatchObject({ providers: 0, escrow: "0", bonds: "0" })
    const low = await refusal(provider.registerProvider({ bond: TOKEN.toString(), kinds: ["infer:mnist"], pricePerUnit: TOKEN.toString(), capacity: 2 }))
    expect([low.status, low.reason]).toEqual([422, expect.stringMatching(/^MarketInsufficientBond/)])
    const reg = shaped(MarketOpResult, await provider.registerProvider({ bond: (1_000n * TOKEN).toString(), kinds: ["infer:mnist"], pricePerUnit: TOKEN.toString(), capacity: 2 }))
    expect(reg).toMatchObject({ type: "registerProvider", account: "c0", advertised: ["market/infer:mnist"], provider: { address: "c0", bond: (1_000n * TOKEN).toString() } })
    expect((await Effect.runPromise(net.networks[0]!.findProviders("market/infer:mnist"))).map((p) => p.record)).toEqual([{ pricePerUnit: TOKEN, capacity: 2, queue: 0 }])

    const posted = shaped(MarketOpResult, await requester.postJob({ kind: "infer:mnist", units: "10", maxPricePerUnit: (2n * TOKEN).toString(), deadline: "1h" }))
    const id = posted.job!.id
    expect(posted.job).toMatchObject({ requester: "d0", state: "open", budget: (20n * TOKEN).toString(), escrow: (20n * TOKEN).toString() })
    await op({ type: "assignJob", job: id, provider: "c0", by: "d0" })
    await op({ type: "deliver", job: id, provider: "c0", units: 10n, resultHash: `0x${"12".repeat(32)}` })
    const other = await refusal(provider.confirmJob(id))
    expect([other.status, other.reason]).toEqual([422, expect.stringMatching(/^MarketNotRequester/)])
    const confirmed = shaped(MarketOpResult, await requester.confirmJob(id))
    expect(confirmed.job).toMatchObject({ state: "settled", paidUnits: "10", escrow: "0", returned: (10n * TOKEN).toString() })
    expect((await refusal(requester.confirmJob(99))).status).toBe(404)

    const totals = shaped(MarketTotals, await requester.market())
    expect(totals).toMatchObject({ providers: 1, activeProviders: 1, jobs: { settled: 1, open: 0 }, escrow: "0", bonds: (1_000n * TOKEN).toString(), paidUnits: "10" })
    expect(BigInt(totals.paid) + BigInt(totals.feeBurnt) + BigInt(totals.feeToStakers)).toBe(10n * TOKEN)
    expect(BigInt(totals.feeBurnt) + BigInt(totals.feeToStakers)).toBe(TOKEN / 2n) // 5 % of 10 tokens
    expect(shaped(Schema.Array(MarketProviderView), await requester.marketProviders())).toEqual([expect.objectContaining({ address: "c0", openJobs: 0, earned: (10n * TOKEN).toString() })])
    expect(shaped(Schema.Array(MarketJobView), await requester.marketJobs({ state: "settled", requester: "d0" })).map((j) => j.id)).toEqual([id])
    const samples = await requester.metrics()
    expect(samples.find((s) => s.name === "dai_market_jobs" && s.labels?.["state"] === "settled")?.value).toBe(1)
    expect(samples.find((s) => s.name === "dai_market_bonds_tokens")?.value).toBe(1000)
  })
})
