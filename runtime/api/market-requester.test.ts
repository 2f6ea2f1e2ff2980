/**
 * POST /market/jobs through the node market's requester (makeMarketApi's `requester`): the job is
 * posted by the node's account and taken by the requester to route; the response has the same shape as
 * a direct post, and a refusal is the same 422 naming the same rule as a direct post's, changing nothing.
 */
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startRequester, type RequesterActor } from "../actors/market/requester.ts"
import { TOKEN } from "../core/units.ts"
import { makeMarketApi, type MarketApi } from "./market-api.ts"
import { ApiRefusal } from "./node-api.ts"
import { MarketOpResult } from "./schemas.ts"
import { startTestNode, type TestNode } from "./test-node.ts"

let t: TestNode
let requester: RequesterActor
let routed: MarketApi
let direct: MarketApi

beforeAll(async () => {
  t = await startTestNode()
  requester = startRequester(t.node.ctx, { account: "v0" })
  const common = { name: "v0", account: "v0", ledger: t.node.ledger, network: t.network, hub: t.hub, now: () => t.node.ctx.now() }
  routed = makeMarketApi({ ...common, requester })
  direct = makeMarketApi(common)
}, 60_000)
afterAll(async () => {
  requester?.stop()
  await t?.close()
})

const refusalOf = (p: Promise<unknown>) => p.then(() => expect.fail("posted"), (e: unknown) => e as ApiRefusal)
const economy = () => t.node.ownLedger!.economy

describe("postJob through the requester", () => {
  it("refuses what the ledger refuses, with the same 422 as a direct post, and changes nothing", async () => {
    const balance = economy().balanceOf("v0")
    const jobs = economy().jobs().length
    for (const req of [
      { kind: "infer:mnist", units: "0", maxPricePerUnit: TOKEN.toString(), deadline: "60s" },
      { kind: "infer:mnist", units: "10", maxPricePerUnit: (10n ** 12n * TOKEN).toString(), deadline: "60s" },
    ]) {
      const viaRequester = await refusalOf(routed.postJob(req))
      const viaLedger = await refusalOf(direct.postJob(req))
      expect(viaRequester).toBeInstanceOf(ApiRefusal)
      expect(viaRequester.status).toBe(422)
      expect({ status: viaRequester.status, reason: viaRequester.reason }).toEqual({ status: viaLedger.status, reason: viaLedger.reason })
    }
    expect(economy().balanceOf("v0")).toBe(balance)
    expect(economy().jobs().length).toBe(jobs)
  })

  it("posts for the node's account and answers as a direct post does; the requester runs the job", async () => {
    const before = requester.posted()
    const r = Schema.decodeUnknownSync(MarketOpResult)(JSON.parse(JSON.stringify(await routed.postJob({ kind: "infer:mnist", units: "4", maxPricePerUnit: TOKEN.toString(), deadline: "60s" }))), { onExcessProperty: "error" })
    expect(r.type).toBe("postJob")
    expect(r.account).toBe("v0")
    const id = (r.receipt as { job: number }).job
    expect(r.job).toMatchObject({ id, requester: "v0", units: "4", budget: (4n * TOKEN).toString(), state: "open" })
    expect(requester.posted()).toBe(before + 1)
    expect(economy().job(id)?.requester).toBe("v0")
  })
})
