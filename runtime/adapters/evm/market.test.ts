/**
 * The market members of the EVM Chain adapter (market.ts, wired in by chain.ts) over the deployed ComputeMarket (`deployContracts`, as
 * `dai chain deploy` leaves it): a job's life through `marketOp` with the economy's receipts, the views
 * read back as the port's `ProviderView` / `JobView`, reverts as the market's tagged errors (times in
 * ms, accounts as ids), and the committee's verdict: signed with a validator's real signing key over
 * the digest the port gives (`marketVerdictDigest`), checked by the contract against the Committee's
 * snapshot, refused with the Committee's errors when the signatures do not carry 2/3 of its power.
 */
import { Effect } from "effect"
import { Interface, keccak256, toUtf8Bytes, Wallet } from "ethers"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { TOKEN } from "../../core/units.ts"
import type { MarketOp } from "../../core/market/types.ts"
import { wrongResultSlash } from "../../core/market/math.ts"
import type { EvmChain } from "./chain.ts"
import { evmWorld, type EvmWorld } from "./test-harness.ts"

type Any = any
const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(e))
const H = `0x${"12".repeat(32)}`

let world: EvmWorld
let market: EvmChain
let nowMs: () => Promise<number>

beforeAll(async () => {
  world = await evmWorld()
  nowMs = async () => ((await world.ethers.provider.getBlock("latest"))!.timestamp as number) * 1000
}, 120_000)
afterAll(async () => {
  await world.close()
})
beforeEach(async () => {
  await world.reset()
  // The adapter as a node builds it (chain.ts wires market.ts in).
  market = world.chain()
})

/** v0 a validator signing with `VALIDATOR_KEY`, alone in the Committee's snapshot 1. */
const VALIDATOR_KEY = new Wallet(keccak256(toUtf8Bytes("dai market verdict test key")))
const committeeOfOne = async () => {
  await run(market.submit({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n, signingKey: VALIDATOR_KEY.address }))
  return run(market.snapshot("v0"))
}

const op = <O extends MarketOp>(o: O) => run(market.marketOp(o))
const registered = () => op({ type: "registerProvider", provider: "c0", bond: 1_000n * TOKEN, kinds: ["infer:mnist"], pricePerUnit: TOKEN, capacity: 2 })
const posted = async () => op({ type: "postJob", requester: "d0", kind: "infer:mnist", units: 10n, maxPricePerUnit: 2n * TOKEN, deadline: (await nowMs()) + 3_600_000 })

describe("a job's life through the port", () => {
  it("registers, posts, assigns, delivers and confirms, with the economy's receipts and views", async () => {
    expect(await registered()).toEqual({ type: "registerProvider", provider: "c0", bond: 1_000n * TOKEN })
    const p = await posted()
    expect(p).toMatchObject({ type: "postJob", job: 1, requester: "d0", kind: "infer:mnist", budget: 20n * TOKEN })
    expect(await op({ type: "assignJob", job: 1, provider: "c0", by: "d0" })).toEqual({ type: "assignJob", job: 1, provider: "c0", pricePerUnit: TOKEN })
    expect(await op({ type: "deliver", job: 1, provider: "c0", units: 10n, resultHash: H })).toEqual({
      type: "deliver", job: 1, provider: "c0", note: 1, units: 10n, amount: 10n * TOKEN, delivered: 10n,
    })
    const c = await op({ type: "confirm", job: 1, by: "d0" })
    expect(c).toMatchObject({ type: "confirm", job: 1, returned: 10n * TOKEN, state: "settled" })
    expect(c.payments).toHaveLength(1)
    const pay = c.payments[0]!
    expect([pay.note, pay.provider, pay.units, pay.amount, pay.toProvider + pay.fee, pay.burnt + pay.toStakers]).toEqual([1, "c0", 10n, 10n * TOKEN, 10n * TOKEN, pay.fee])
    expect(pay.fee).toBe(TOKEN / 2n) // 5 % of 10 tokens
    const job = (await run(market.marketJob(1)))!
    expect(job).toMatchObject({ id: 1, requester: "d0", provider: "c0", state: "settled", paidUnits: 10n, escrow: 0n, deadline: p.deadline })
    expect(job.notes).toEqual([{ id: 1, provider: "c0", units: 10n, pricePerUnit: TOKEN, amount: 10n * TOKEN, resultHash: H, deliveredAt: job.notes[0]!.deliveredAt, state: "paid" }])
    expect(job.paid + job.feeBurnt + job.feeToStakers + job.returned + job.escrow).toBe(job.budget)
    expect(await run(market.marketJobs())).toEqual([job])
    expect(await run(market.marketProvider("c0"))).toMatchObject({ address: "c0", bond: 1_000n * TOKEN, kinds: ["infer:mnist"], openJobs: 0, retired: false })
    expect((await run(market.marketProviders)).map((x) => x.address)).toEqual(["c0"])
    expect(await run(market.marketProvider("c1"))).toBeUndefined()
    expect(await run(market.marketJob(2))).toBeUndefined()
  })

  it("settles and refunds as the adapter's own account; the committee's signed verdict refutes and slashes", async () => {
    const snap = await committeeOfOne()
    await registered()
    await posted()
    await op({ type: "assignJob", job: 1, provider: "c0", by: "d0" })
    await op({ type: "deliver", job: 1, provider: "c0", units: 4n, resultHash: H })
    expect(await fail(market.marketVerdictDigest({ job: 1, providerRight: false, snapshotId: snap.id }))).toMatchObject({ _tag: "MarketNotDisputed", job: 1 })
    expect(await op({ type: "dispute", job: 1, by: "d0" })).toEqual({ type: "dispute", job: 1, by: "d0", notes: [1], amount: 4n * TOKEN })
    const digest = await run(market.marketVerdictDigest({ job: 1, providerRight: false, snapshotId: snap.id }))
    const signatures = [{ signer: VALIDATOR_KEY.address.toLowerCase(), signature: VALIDATOR_KEY.signingKey.sign(digest).serialized }]
    const verdict = { type: "resolveDispute", job: 1, providerRight: false, snapshotId: snap.id, signatures, by: "d2" } as const
    expect(await fail(market.marketOp({ ...verdict, signatures: [] }))).toMatchObject({ _tag: "CommitteeInsufficientPower", snapshotId: 1, power: 0n })
    expect(await fail(market.marketOp({ ...verdict, snapshotId: 2 }))).toMatchObject({ _tag: "CommitteeUnknownSnapshot", snapshotId: 2, latest: 1 })
    expect(await fail(market.marketOp({ ...verdict, signatures: [...signatures, ...signatures] }))).toMatchObject({ _tag: "CommitteeDuplicateSigner" })
    expect(await fail(market.marketOp({ ...verdict, providerRight: true }))).toMatchObject({ _tag: "CommitteeUnknownSigner" })
    const r = await op(verdict)
    expect(r).toEqual({
      type: "resolveDispute", providerRight: false, provider: "c0", refuted: [1], job: 1, payments: [], returned: 0n, state: "open",
      slash: { provider: "c0", ...wrongResultSlash(1_000n * TOKEN, 4n * TOKEN, world.params) }, snapshotId: 1, signers: ["v0"], power: snap.totalPower,
    })
    expect(await fail(market.marketOp(verdict))).toMatchObject({ _tag: "MarketNotDisputed", job: 1, state: "open" })
    expect((await run(market.marketJob(1)))!.excluded).toEqual(["c0"])
    await world.advance(3_600_000)
    expect(await op({ type: "refund", job: 1 })).toEqual({ type: "refund", job: 1, payments: [], returned: 20n * TOKEN, state: "expired" })
  })
})

describe("refusals as the market's tagged errors", () => {
  it("maps reverts by name with the economy's fields, and the token's shortfall", async () => {
    await registered()
    expect(await fail(market.marketOp({ type: "registerProvider", provider: "c0", bond: 1_000n * TOKEN, kinds: ["x"], pricePerUnit: TOKEN, capacity: 1 })))
      .toMatchObject({ _tag: "MarketProviderExists", provider: "c0" })
    await posted()
    await op({ type: "assignJob", job: 1, provider: "c0", by: "d0" })
    expect(await fail(market.marketOp({ type: "deliver", job: 1, provider: "c1", units: 1n, resultHash: H })))
      .toMatchObject({ _tag: "MarketNotProvider", job: 1, caller: "c1", provider: "c0" })
    expect(await fail(market.marketOp({ type: "assignJob", job: 1, provider: "c0", by: "d0" }))).toMatchObject({ _tag: "MarketJobNotOpen", job: 1, state: "assigned" })
    const e = (await fail(market.marketOp({ type: "refund", job: 1 }))) as Any
    expect(e._tag).toBe("MarketBeforeDeadline")
    expect(e.deadline - e.now).toBeGreaterThan(3_500_000)
    expect(e.deadline % 1000).toBe(0)
    expect(await fail(market.marketOp({ type: "resolveDispute", job: 1, providerRight: true, snapshotId: 1, signatures: [], by: "d0" })))
      .toMatchObject({ _tag: "MarketNotDisputed", job: 1, state: "assigned" })
    expect(await fail(market.marketOp({ type: "postJob", requester: "d1", kind: "infer:mnist", units: 10n ** 7n, maxPricePerUnit: TOKEN, deadline: (await nowMs()) + 60_000 })))
      .toMatchObject({ _tag: "TokenInsufficientBalance", address: "d1" })
    expect(await fail(market.marketOp({ type: "confirm", job: 7, by: "d0" }))).toMatchObject({ _tag: "MarketUnknownJob", job: 7 })
    expect(await fail(market.marketOp({ type: "confirm", job: 1, by: "nobody-known" }))).toMatchObject({ _tag: "TokenInvalidAddress" })
  })
})

describe("marketJobs on a long-lived node", () => {
  /** An adapter whose reads are counted: the `getJob` calls it makes to the chain. */
  const counting = () => {
    const selector = new Interface(["function getJob(uint256)"]).getFunction("getJob")!.selector
    let reads = 0
    const inner = world.ethers.provider
    const provider = new Proxy(inner, {
      get(target, key) {
        const v = Reflect.get(target, key, target)
        if (key === "call") return (tx: { data?: string }) => {
          if (typeof tx.data === "string" && tx.data.startsWith(selector)) reads++
          return v.call(target, tx)
        }
        return typeof v === "function" ? v.bind(target) : v
      },
    })
    return { chain: world.chain({ provider }), reads: () => reads }
  }
  const settle = async (job: number) => {
    await op({ type: "assignJob", job, provider: "c0", by: "d0" })
    await op({ type: "deliver", job, provider: "c0", units: 10n, resultHash: H })
    await op({ type: "confirm", job, by: "d0" })
  }

  it("reads a final job once and another requester's never again, and answers as a read of every job", async () => {
    await registered()
    for (let i = 0; i < 3; i++) await posted()
    await op({ type: "postJob", requester: "d1", kind: "infer:mnist", units: 10n, maxPricePerUnit: 2n * TOKEN, deadline: (await nowMs()) + 3_600_000 })
    await settle(1)
    await settle(2)
    const { chain, reads } = counting()
    /** Every job read one by one: what `marketJobs` must answer. */
    const everyJob = async () => Promise.all([1, 2, 3, 4].map(async (id) => (await run(market.marketJob(id)))!))
    const jobs = async (filter?: Parameters<EvmChain["marketJobs"]>[0]) => {
      const before = reads()
      const js = await run(chain.marketJobs(filter))
      return { ids: js.map((j) => j.id), calls: reads() - before, js }
    }

    const first = await jobs()
    expect([first.ids, first.calls]).toEqual([[1, 2, 3, 4], 4])
    expect(first.js).toEqual(await everyJob())
    // Jobs 1 and 2 are settled: not read again.
    const second = await jobs()
    expect([second.ids, second.calls]).toEqual([[1, 2, 3, 4], 2])
    expect(second.js).toEqual(await everyJob())
    expect(await jobs({ requester: "d1" })).toMatchObject({ ids: [4], calls: 1 })
    expect(await jobs({ requester: "d0", state: "settled" })).toMatchObject({ ids: [1, 2], calls: 1 })
    // A job that settles between two polls is read once more, then kept.
    await settle(3)
    const third = await jobs({ provider: "c0" })
    expect([third.ids, third.calls]).toEqual([[1, 2, 3], 2])
    expect(third.js).toEqual((await everyJob()).slice(0, 3))
    expect(await jobs()).toMatchObject({ ids: [1, 2, 3, 4], calls: 1 })
    expect(await jobs({ state: "open" })).toMatchObject({ ids: [4], calls: 1 })
  })
})
