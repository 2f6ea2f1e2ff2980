/**
 * The market's REST endpoints over real HTTP against a chain-less validator (its in-memory ledger):
 * responses match their Schemas; registering advertises the node on the network; a job posted
 * through the API escrows its budget; confirm pays, dispute freezes, refund returns the escrow; bad
 * input is a 400 naming the field and a ledger refusal a 422 naming the rule, both changing nothing;
 * /metrics and the telemetry stream carry the market.
 */
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { MarketOp } from "../core/market/index.ts"
import { TOKEN } from "../core/units.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { MarketJobView, MarketOpResult, MarketProviderView, MarketTotals } from "./schemas.ts"
import { httpRequest, startTestNode, TEST_TOKEN, type TestNode } from "./test-node.ts"

let t: TestNode
const events: TelemetryEvent[] = []
const get = (path: string) => httpRequest(t.server.url, { path })
const post = (path: string, body: unknown = {}) =>
  httpRequest(t.server.url, { method: "POST", path, headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) })
const shaped = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown) =>
  Schema.decodeUnknownSync(schema)(value, { onExcessProperty: "error" })
/** An operation straight on the node's ledger (what another account or the market actors do). */
const ledgerOp = (op: MarketOp) => Effect.runPromise(t.node.ledger.marketOp(op)) as Promise<{ readonly job?: number }>
const economy = () => t.node.ownLedger!.economy
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`
const providerBody = { bond: (1_000n * TOKEN).toString(), kinds: ["infer:mnist"], pricePerUnit: (2n * TOKEN).toString(), capacity: 2 }

beforeAll(async () => {
  t = await startTestNode()
  t.hub.subscribe((e) => void events.push(e))
}, 60_000)
afterAll(async () => {
  await t?.close()
})

describe("market reads", () => {
  it("GET /market: an empty market at genesis", async () => {
    const totals = shaped(MarketTotals, (await get("/market")).json)
    expect(totals).toEqual({
      providers: 0, activeProviders: 0, jobs: { open: 0, assigned: 0, disputed: 0, settled: 0, expired: 0 },
      escrow: "0", bonds: "0", paid: "0", paidUnits: "0", feeBurnt: "0", feeToStakers: "0", returned: "0", compensation: "0",
    })
    expect((await get("/market/providers")).json).toEqual([])
    expect((await get("/market/jobs")).json).toEqual([])
  })

  it("query and path parameters are checked and named", async () => {
    expect((await get("/market/jobs?state=done")).json).toEqual({ error: 'state: expected one of open, assigned, disputed, settled, expired, got "done"', field: "state" })
    expect((await get("/market/jobs?colour=red")).json).toEqual({ error: "colour: unknown query parameter", field: "colour" })
    expect((await get("/market/jobs/0")).json).toMatchObject({ field: "id" })
    expect((await get("/market/jobs/99999")).status).toBe(404)
  })
})

describe("POST /market/providers", () => {
  it("refuses bad input naming the field, and a bond under the minimum naming the rule; nothing changes", async () => {
    const balance = economy().balanceOf("v0")
    for (const [body, field] of [
      [{ ...providerBody, bond: undefined }, "bond"],
      [{ ...providerBody, kinds: [] }, "kinds"],
      [{ ...providerBody, kinds: ["has space"] }, "kinds.0"],
      [{ ...providerBody, pricePerUnit: "0" }, "pricePerUnit"],
      [{ ...providerBody, capacity: 0 }, "capacity"],
      [{ ...providerBody, capacity: 1.5 }, "capacity"],
      [{ ...providerBody, colour: "red" }, "colour"],
      [{ ...providerBody, kinds: ["infer:mnist", "infer:mnist"] }, "kinds"],
    ] as const) {
      const r = await post("/market/providers", body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect((r.json as { field: string }).field).toBe(field)
    }
    const low = await post("/market/providers", { ...providerBody, bond: (10n * TOKEN).toString() })
    expect(low.status).toBe(422)
    expect((low.json as { error: string }).error).toMatch(/^MarketInsufficientBond: provider v0's bond of 10 tokens is below market\.minProviderBond/)
    expect(economy().providers()).toEqual([])
    expect(economy().balanceOf("v0")).toBe(balance)
    expect(await Effect.runPromise(t.network.findProviders("market/infer:mnist"))).toEqual([])
  })

  it("registers the node's account with its bond, announces it under market/<kind>; a second registration is a 409", async () => {
    const balance = economy().balanceOf("v0")
    const r = await post("/market/providers", providerBody)
    expect(r.status).toBe(200)
    const body = shaped(MarketOpResult, r.json)
    expect(body).toMatchObject({ type: "registerProvider", account: "v0", advertised: ["market/infer:mnist"] })
    expect(body.provider).toMatchObject({ address: "v0", bond: providerBody.bond, kinds: ["infer:mnist"], pricePerUnit: providerBody.pricePerUnit, capacity: 2, openJobs: 0, retired: false, earned: "0" })
    expect(economy().balanceOf("v0")).toBe(balance - 1_000n * TOKEN)
    const found = await Effect.runPromise(t.network.findProviders("market/infer:mnist"))
    expect(found.map((p) => p.record)).toEqual([{ pricePerUnit: 2n * TOKEN, capacity: 2, queue: 0 }])
    const again = await post("/market/providers", providerBody)
    expect(again.status).toBe(409)
    expect((again.json as { error: string }).error).toMatch(/^MarketProviderExists: v0 is already a registered provider/)
    expect(shaped(MarketOpResult, (await post("/market/providers/advertise")).json).advertised).toEqual(["market/infer:mnist"])
    expect(shaped(Schema.Array(MarketProviderView), (await get("/market/providers")).json).map((p) => p.address)).toEqual(["v0"])
  })
})

describe("jobs through the API", () => {
  it("POST /market/jobs refuses a bad deadline, zero units or a budget over the balance; nothing is escrowed", async () => {
    const job = { kind: "infer:mnist", units: "4", maxPricePerUnit: (3n * TOKEN).toString(), deadline: "60s" }
    expect((await post("/market/jobs", { ...job, deadline: "soon" })).json).toMatchObject({ field: "deadline" })
    expect((await post("/market/jobs", { ...job, deadline: "0s" })).json).toMatchObject({ field: "deadline" })
    expect((await post("/market/jobs", { ...job, units: "0" })).json).toMatchObject({ field: "units" })
    expect((await post("/market/jobs", { ...job, maxPricePerUnit: "-1" })).json).toMatchObject({ field: "maxPricePerUnit" })
    const rich = await post("/market/jobs", { ...job, units: "1000000000" })
    expect(rich.status).toBe(422)
    expect((rich.json as { error: string }).error).toMatch(/^TokenInsufficientBalance/)
    expect(economy().jobs()).toEqual([])
  })

  it("posts, confirms a delivery (the provider paid, fees burnt and shared), refuses what the rules refuse", async () => {
    const posted = await post("/market/jobs", { kind: "infer:mnist", units: 4, maxPricePerUnit: (3n * TOKEN).toString(), deadline: "10m" })
    expect(posted.status).toBe(200)
    const body = shaped(MarketOpResult, posted.json)
    const id = body.job!.id
    expect(body.job).toMatchObject({ requester: "v0", state: "open", units: "4", budget: (12n * TOKEN).toString(), escrow: (12n * TOKEN).toString(), provider: null })
    expect(shaped(MarketJobView, (await get(`/market/jobs/${id}`)).json).state).toBe("open")
    expect(shaped(Schema.Array(MarketJobView), (await get("/market/jobs?state=open&requester=v0")).json).map((j) => j.id)).toEqual([id])
    expect((await get("/market/jobs?state=settled")).json).toEqual([])

    // Another account serves it; the requester (this node) assigns it, as the requester actor will.
    await ledgerOp({ type: "registerProvider", provider: "d0", bond: 1_000n * TOKEN, kinds: ["infer:mnist"], pricePerUnit: TOKEN, capacity: 1 })
    await ledgerOp({ type: "assignJob", job: id, provider: "d0", by: "v0" })
    expect((await post(`/market/jobs/${id}/confirm`)).json).toMatchObject({ error: expect.stringMatching(/^MarketNothingToPay/) })
    expect((await post(`/market/jobs/${id}/dispute`)).json).toMatchObject({ error: expect.stringMatching(/^MarketNothingToDispute/) })
    await ledgerOp({ type: "deliver", job: id, provider: "d0", units: 2n, resultHash: hash(1) })
    const before = economy().balanceOf("d0")
    const confirmed = shaped(MarketOpResult, (await post(`/market/jobs/${id}/confirm`)).json)
    expect(confirmed.job).toMatchObject({ state: "assigned", paidUnits: "2", provider: "d0" })
    expect(confirmed.job!.notes.map((n) => n.state)).toEqual(["paid"])
    // 2 units at d0's 1 token: 5 % fee (market.protocolFee), the rest to d0.
    expect(economy().balanceOf("d0") - before).toBe(2n * TOKEN - (2n * TOKEN) / 20n)
    const totals = shaped(MarketTotals, (await get("/market")).json)
    expect(totals.jobs.assigned).toBe(1)
    expect(BigInt(totals.feeBurnt) + BigInt(totals.feeToStakers)).toBe((2n * TOKEN) / 20n)
    expect(BigInt(totals.paid)).toBe(2n * TOKEN - (2n * TOKEN) / 20n)
    expect(BigInt(totals.bonds)).toBe(2_000n * TOKEN)
    const d0 = shaped(Schema.Array(MarketProviderView), (await get("/market/providers")).json).find((p) => p.address === "d0")!
    expect(d0).toMatchObject({ openJobs: 1, earned: (2n * TOKEN).toString() })

    // A second delivery, disputed by the requester: the job waits for a verdict.
    await ledgerOp({ type: "deliver", job: id, provider: "d0", units: 1n, resultHash: hash(2) })
    const disputed = shaped(MarketOpResult, (await post(`/market/jobs/${id}/dispute`)).json)
    expect(disputed.job).toMatchObject({ state: "disputed" })
    expect((await post(`/market/jobs/${id}/confirm`)).json).toMatchObject({ error: expect.stringMatching(/^MarketJobDisputed/) })
    expect((await post("/market/jobs/4242/confirm")).status).toBe(404)
  })

  it("refund: refused before the deadline and for another's job; after it, the escrow goes back to the requester", async () => {
    const now = Math.max(Date.now(), economy().now)
    // A deadline far enough ahead that the post itself cannot miss it on a loaded machine (the ledger's
    // clock is the wall clock: a deadline of now + 1 ms was already past when the op ran, once in CI).
    const deadline = now + 1_000
    const own = (await ledgerOp({ type: "postJob", requester: "v0", kind: "infer:mnist", units: 1n, maxPricePerUnit: TOKEN, deadline }))
    const later = shaped(MarketOpResult, (await post("/market/jobs", { kind: "infer:mnist", units: "1", maxPricePerUnit: TOKEN.toString(), deadline: "1h" })).json).job!
    expect((await post(`/market/jobs/${later.id}/refund`)).json).toMatchObject({ error: expect.stringMatching(/^MarketBeforeDeadline/) })
    const theirs = await ledgerOp({ type: "postJob", requester: "d0", kind: "infer:mnist", units: 1n, maxPricePerUnit: TOKEN, deadline: now + 3_600_000 })
    expect((await post(`/market/jobs/${theirs.job}/confirm`)).json).toMatchObject({ error: expect.stringMatching(/^MarketNotRequester/) })
    while (Date.now() <= deadline) await new Promise((r) => setTimeout(r, 20))
    const balance = economy().balanceOf("v0")
    const refunded = shaped(MarketOpResult, (await post(`/market/jobs/${own.job}/refund`)).json)
    expect(refunded.job).toMatchObject({ state: "expired", escrow: "0", returned: TOKEN.toString() })
    expect(economy().balanceOf("v0") - balance).toBe(TOKEN)
  })
})

describe("market telemetry and metrics", () => {
  it("/metrics has jobs by state, escrow, bonds and fees", async () => {
    const text = (await get("/metrics")).text
    const totals = shaped(MarketTotals, (await get("/market")).json)
    for (const state of ["open", "assigned", "disputed", "settled", "expired"] as const) {
      expect(text).toContain(`dai_market_jobs{state="${state}"} ${totals.jobs[state]}`)
    }
    expect(text).toMatch(/^dai_market_providers 2$/m)
    expect(text).toMatch(/^dai_market_bonds_tokens 2000$/m)
    expect(text).toMatch(/^# TYPE dai_market_fees_burnt_tokens_total counter$/m)
    expect(text).toMatch(/^dai_market_escrow_tokens \d/m)
  })

  it("every operation through the API is an event, and a market snapshot follows the next block", async () => {
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(["market.registerProvider", "market.postJob", "market.confirm", "market.dispute", "market.refund"]))
    for (let waited = 0; ; waited += 20) {
      const last = events.filter((e) => e.kind === "market").at(-1)
      const totals = last?.data["totals"] as { jobs?: { disputed?: number; expired?: number } } | undefined
      if (totals?.jobs?.disputed === 1 && totals.jobs.expired === 1) break
      if (waited > 20_000) throw new Error(`no market snapshot with the disputed and the expired job: ${JSON.stringify(last?.data["totals"])}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const snapshot = events.filter((e) => e.kind === "market").at(-1)!
    expect((snapshot.data["providers"] as { address: string }[]).map((p) => p.address)).toEqual(["v0", "d0"])
    expect(t.failures).toEqual([])
  })
})
