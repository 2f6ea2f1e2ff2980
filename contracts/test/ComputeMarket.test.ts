/**
 * ComputeMarket: every external function's happy path and every revert path. Each operation runs in
 * both worlds (`MarketWorld`: the TypeScript economy's market and the contract over the same token and
 * staking), so every case also checks the contract against the rules in TypeScript: same outcome, same
 * error name, identical providers, jobs, custody, balances, burn and staker rewards afterwards. The
 * budget invariant (escrow + payouts + fees + refunds = budget, to the wei) is checked on the chain's
 * jobs after every case; contract-only paths (roles, setup) are checked directly.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { MarketOp } from "../../runtime/core/market/types.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { connectChain, CONSENSUS_CHAIN_ID } from "./chain.ts"
import { budgetProblems, MarketWorld, REFEREE, verdictOp } from "./market-world.ts"
import { verdictDigestHex } from "../../runtime/core/market/verdict.ts"
import { maxNoteAmount, maxNoteUnits } from "../../runtime/core/market/math.ts"
import { DEFAULT_PARAMS, resolveParams } from "../../runtime/core/params.ts"
import { toMarketError } from "../../runtime/adapters/evm/market.ts"
import { Result } from "effect"

type Any = any
let ethers: Any
let m: MarketWorld

const H1 = `0x${"ab".repeat(32)}`
const H2 = `0x${"cd".repeat(32)}`
const WINDOW = 60n // market.disputeWindow, s
const NO_SHOW = 30n // market.noShowTimeout, s

/** Apply to both worlds; expect the same outcome (`"ok"` or an error name) and identical state. */
const both = async (op: MarketOp, expected: string, dt = 0n) => {
  const r = await m.op(op, dt)
  const name = (o: { ok: boolean; error?: string }) => (o.ok ? "ok" : o.error)
  expect({ ts: name(r.ts), chain: name(r.chain) }, JSON.stringify(op, (_, v) => (typeof v === "bigint" ? `${v}` : v))).toEqual({ ts: expected, chain: expected })
  expect(await m.diff()).toBeUndefined()
}
const reg = (provider = "c0", over: Partial<Extract<MarketOp, { type: "registerProvider" }>> = {}): MarketOp =>
  ({ type: "registerProvider", provider, bond: 1_000n * TOKEN, kinds: ["infer:mnist"], pricePerUnit: TOKEN, capacity: 2, ...over })
/** A job of 10 units at most 2 tokens each, due in an hour (from the time the op runs, `dt` later). */
const post = (requester = "d0", over: Partial<Extract<MarketOp, { type: "postJob" }>> = {}, dt = 0n): MarketOp =>
  ({ type: "postJob", requester, kind: "infer:mnist", units: 10n, maxPricePerUnit: 2n * TOKEN, deadline: Number(m.nowSec + dt + 3600n) * 1000, ...over })
const assign = (job = 1, provider = "c0", by = "d0"): MarketOp => ({ type: "assignJob", job, provider, by })
const deliver = (units: bigint, job = 1, provider = "c0", resultHash = H1): MarketOp => ({ type: "deliver", job, provider, units, resultHash })
/** c0 registered, d0's job 1 posted and assigned to it. */
const running = async () => {
  await both(reg(), "ok")
  await both(post(), "ok")
  await both(assign(), "ok")
}
const chainJob = async (id: number) => m.market.getJob(id)

beforeAll(async () => {
  ethers = (await connectChain()).ethers
  m = await MarketWorld.deploy(ethers)
}, 120_000)
beforeEach(async () => {
  await m.fresh()
})
// The budget identity holds on chain after every case, whatever it did.
afterEach(async () => {
  const [, ch] = await m.views()
  expect(budgetProblems((ch.jobs as Any[]).filter((j) => j !== undefined))).toEqual([])
  const c = ch.custody as { escrow: bigint; bonds: bigint; held: bigint }
  expect(c.escrow + c.bonds).toBe(c.held)
})

describe("providers", () => {
  it("registers with a bond moved into custody, once per account", async () => {
    await both(reg(), "ok")
    expect(await m.market.serves(m.addr("c0"), "infer:mnist")).toBe(true)
    await both(reg(), "MarketProviderExists")
  })

  it("refuses a bond below market.minProviderBond, a bad offer or kinds, and a bond the account does not hold", async () => {
    await both(reg("c0", { bond: 999n * TOKEN }), "MarketInsufficientBond")
    await both(reg("c0", { kinds: [] }), "MarketInvalidProvider")
    await both(reg("c0", { kinds: Array.from({ length: 17 }, (_, i) => `k${i}`) }), "MarketInvalidProvider")
    await both(reg("c0", { kinds: [""] }), "MarketInvalidProvider")
    await both(reg("c0", { kinds: ["x".repeat(65)] }), "MarketInvalidProvider")
    await both(reg("c0", { kinds: ["infer:mnist", "infer:mnist"] }), "MarketInvalidProvider")
    await both(reg("c0", { pricePerUnit: 0n }), "MarketInvalidProvider")
    await both(reg("c0", { pricePerUnit: 2n ** 128n }), "MarketInvalidProvider")
    await both(reg("c0", { capacity: 0 }), "MarketInvalidProvider")
    await both(reg("c0", { capacity: 1_000_001 }), "MarketInvalidProvider")
    await both(reg("c0", { bond: 2_000_000n * TOKEN }), "TokenInsufficientBalance")
    await both(reg("c0", { kinds: ["infer:mnist", "finetune:mnist", "x".repeat(64)], capacity: 1_000_000 }), "ok")
  })

  it("updates price and capacity; refuses an unknown or retired provider and a bad offer", async () => {
    await both({ type: "updateProvider", provider: "c0", pricePerUnit: TOKEN, capacity: 1 }, "MarketUnknownProvider")
    await both(reg(), "ok")
    await both({ type: "updateProvider", provider: "c0", pricePerUnit: 0n, capacity: 1 }, "MarketInvalidProvider")
    await both({ type: "updateProvider", provider: "c0", pricePerUnit: 3n * TOKEN, capacity: 5 }, "ok")
    await both({ type: "retireProvider", provider: "c0" }, "ok")
    await both({ type: "updateProvider", provider: "c0", pricePerUnit: TOKEN, capacity: 1 }, "MarketProviderRetired")
  })

  it("adds to a bond; refuses zero, an unknown or retired provider, a shortfall", async () => {
    await both({ type: "addBond", provider: "c0", amount: TOKEN }, "MarketUnknownProvider")
    await both(reg(), "ok")
    await both({ type: "addBond", provider: "c0", amount: 0n }, "MarketInvalidProvider")
    await both({ type: "addBond", provider: "c0", amount: 2_000_000n * TOKEN }, "TokenInsufficientBalance")
    await both({ type: "addBond", provider: "c0", amount: 500n * TOKEN }, "ok")
    await both({ type: "retireProvider", provider: "c0" }, "ok")
    await both({ type: "addBond", provider: "c0", amount: TOKEN }, "MarketProviderRetired")
  })

  it("retires once; withdraws the bond only retired and without open jobs", async () => {
    await both({ type: "retireProvider", provider: "c0" }, "MarketUnknownProvider")
    await both({ type: "withdrawBond", provider: "c0" }, "MarketUnknownProvider")
    await running()
    await both({ type: "withdrawBond", provider: "c0" }, "MarketProviderNotRetired")
    await both({ type: "retireProvider", provider: "c0" }, "ok")
    await both({ type: "retireProvider", provider: "c0" }, "MarketProviderRetired")
    await both({ type: "withdrawBond", provider: "c0" }, "MarketProviderBusy")
    await both(deliver(10n), "ok")
    await both({ type: "confirm", job: 1, by: "d0" }, "ok")
    await both({ type: "withdrawBond", provider: "c0" }, "ok")
    expect((await m.market.getProvider(m.addr("c0"))).bond).toBe(0n)
    await both({ type: "withdrawBond", provider: "c0" }, "ok") // nothing left: withdraws 0
    await both(reg(), "MarketProviderExists")
  })
})

describe("jobs", () => {
  it("posts a job with its budget escrowed; refuses a bad kind, units, price or deadline, and a shortfall", async () => {
    await both(post("d0", { kind: "" }), "MarketInvalidJob")
    await both(post("d0", { kind: "k".repeat(65) }), "MarketInvalidJob")
    await both(post("d0", { units: 0n }), "MarketInvalidJob")
    await both(post("d0", { maxPricePerUnit: 0n }), "MarketInvalidJob")
    await both(post("d0", { units: 2n ** 64n }), "MarketInvalidJob")
    await both(post("d0", { units: 1n, maxPricePerUnit: 2n ** 128n }), "MarketInvalidJob")
    await both(post("d0", { units: 2n ** 64n - 1n, maxPricePerUnit: 2n ** 128n - 1n }), "TokenInsufficientBalance")
    await both(post("d0", { deadline: Number(m.nowSec) * 1000 }), "MarketInvalidJob")
    await both(post("d0", { units: 1_000_000n, maxPricePerUnit: 2n * TOKEN }), "TokenInsufficientBalance")
    await both(post(), "ok")
    const j = await chainJob(1)
    expect(j.budget).toBe(20n * TOKEN)
    expect(j.escrow).toBe(20n * TOKEN)
  })

  it("assigns an open job to an eligible provider at its price; refuses every ineligible assignment", async () => {
    await both(assign(1), "MarketUnknownJob")
    await both(reg("c0", { capacity: 1 }), "ok")
    await both(reg("c1", { kinds: ["finetune:mnist"] }), "ok")
    await both(reg("d1", { pricePerUnit: 3n * TOKEN }), "ok")
    await both(post(), "ok")
    await both(assign(1, "c0", "d1"), "MarketNotRequester")
    await both(assign(1, "v2"), "MarketUnknownProvider")
    await both(assign(1, "c1"), "MarketKindNotServed")
    await both(assign(1, "d1"), "MarketPriceTooHigh")
    await both(assign(1, "c0"), "ok")
    expect((await chainJob(1)).pricePerUnit).toBe(TOKEN)
    await both(assign(1, "c0"), "MarketJobNotOpen")
    await both(post(), "ok")
    await both(assign(2, "c0"), "MarketProviderFull")
    await both({ type: "retireProvider", provider: "c1" }, "ok")
    await both(assign(2, "c1"), "MarketProviderRetired")
    await both(post("d0", { deadline: Number(m.nowSec + 10n) * 1000 }), "ok")
    await both(assign(3, "c0"), "MarketPastDeadline", 10n)
  })

  it("refuses a provider whose bond fell below the minimum, and one refuted on the job", async () => {
    await running()
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "ok", NO_SHOW)
    await both(assign(1, "c0"), "MarketInsufficientBond") // 1000 − 5 % < 1000
    await both({ type: "addBond", provider: "c0", amount: 100n * TOKEN }, "ok")
    await both(assign(1, "c0"), "ok")
    await both(deliver(2n), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    await both(verdictOp(1, false, 1, [REFEREE]), "ok")
    await both({ type: "addBond", provider: "c0", amount: 500n * TOKEN }, "ok")
    await both(assign(1, "c0"), "MarketProviderExcluded")
  })
})

describe("deliveries and payment", () => {
  it("delivers debit notes; refuses the wrong caller, zero units, over-delivery, past the deadline, an open or final job", async () => {
    await both(deliver(1n), "MarketUnknownJob")
    await both(reg(), "ok")
    await both(post(), "ok")
    await both(deliver(1n), "MarketJobNotAssigned")
    await both(assign(), "ok")
    await both(deliver(1n, 1, "c1"), "MarketNotProvider")
    await both(deliver(0n), "MarketInvalidDelivery")
    await both(deliver(11n), "MarketOverDelivery")
    await both(deliver(4n), "ok", 5n)
    await both(deliver(6n, 1, "c0", H2), "ok", 5n)
    await both(deliver(1n), "MarketOverDelivery")
    const j = await chainJob(1)
    expect(j.notes.map((n: Any) => [n.units, n.resultHash])).toEqual([[4n, H1], [6n, H2]])
    await both({ type: "confirm", job: 1, by: "d0" }, "ok")
    expect(Number((await chainJob(1)).state)).toBe(4) // settled: every unit paid
    await both(deliver(1n), "MarketJobFinal")
    await both(post("d0", { deadline: Number(m.nowSec + 10n) * 1000 }), "ok")
    await both(assign(2), "ok")
    await both(deliver(1n, 2), "MarketPastDeadline", 10n)
  })

  it("refuses a note larger than the bond answers for (MarketNoteTooLarge, to the wei), after the over-delivery check; no cap at p = 1 or p = 0", async () => {
    // Bond 1,000, 20 tokens a unit; slash 1, p 0.1 → at most 1,000 × 0.1 ÷ 0.9 = 111.1… tokens a note: 5 units.
    await both(reg("c0", { pricePerUnit: 20n * TOKEN }), "ok")
    await both(post("d0", { units: 12n, maxPricePerUnit: 20n * TOKEN }), "ok")
    await both(assign(), "ok")
    await both(deliver(13n), "MarketOverDelivery")
    await both(deliver(6n), "MarketNoteTooLarge")
    const max = maxNoteAmount(1_000n * TOKEN, DEFAULT_PARAMS)!
    expect(maxNoteUnits(1_000n * TOKEN, 20n * TOKEN, DEFAULT_PARAMS)).toBe(5n)
    const err = await m.market.connect(m.w.signer.c0).deliver.staticCall(1, 6n, H1).catch((e: unknown) => e)
    expect(toMarketError("deliver", err, m.book)).toMatchObject({ _tag: "MarketNoteTooLarge", job: 1, amount: 120n * TOKEN, maxAmount: max })
    await both(deliver(5n), "ok")
    await both(deliver(5n), "ok", 1n)
    // A top-up raises the cap with the bond: 2,000 bonded answer for 222.2… tokens, 11 units; 2 are left.
    await both({ type: "addBond", provider: "c0", amount: 1_000n * TOKEN }, "ok")
    await both(deliver(2n), "ok")
    // p = 1 (every note re-executed) and p = 0 (none: nothing to deter with) have no cap.
    for (const rate of [1, 0]) {
      await m.fresh(Result.getOrThrow(resolveParams({ "market.verificationRate": rate })))
      await both(reg("c0", { pricePerUnit: 20n * TOKEN }), "ok")
      await both(post("d0", { units: 12n, maxPricePerUnit: 20n * TOKEN }), "ok")
      await both(assign(), "ok")
      await both(deliver(12n), "ok")
    }
  })

  it("refuses deliveries from a provider whose bond fell below market.minProviderBond, on jobs it already holds", async () => {
    await both(reg("c0", { capacity: 2 }), "ok")
    await both(post(), "ok")
    await both(post("d1"), "ok")
    await both(assign(1), "ok")
    await both(assign(2, "c0", "d1"), "ok")
    await both(deliver(3n, 1), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    await both(verdictOp(1, false, 1, [REFEREE]), "ok")
    expect((await m.market.getProvider(m.addr("c0"))).bond).toBe(0n) // the whole bond slashed
    await both(deliver(1n, 2), "MarketInsufficientBond")
    const err = await m.market.connect(m.w.signer.c0).deliver.staticCall(2, 1n, H1).catch((e: unknown) => e)
    expect(toMarketError("deliver", err, m.book)).toMatchObject({ _tag: "MarketInsufficientBond", provider: "c0", bond: 0n, minimum: 1_000n * TOKEN })
    // Check order: an over-delivery is refused as one before the bond is looked at.
    await both(deliver(11n, 2), "MarketOverDelivery")
    // Topped up to the minimum it delivers again.
    await both({ type: "addBond", provider: "c0", amount: 1_000n * TOKEN }, "ok")
    await both(deliver(1n, 2), "ok")
  })

  it("confirm pays every pending note, the fee split by fees.burnFraction, and returns the unused escrow at completion", async () => {
    await both({ type: "confirm", job: 1, by: "d0" }, "MarketUnknownJob")
    await running()
    await both({ type: "confirm", job: 1, by: "d0" }, "MarketNothingToPay")
    await both(deliver(3n), "ok")
    await both({ type: "confirm", job: 1, by: "d1" }, "MarketNotRequester")
    const before = await m.w.token.balanceOf(m.addr("c0"))
    await both({ type: "confirm", job: 1, by: "d0" }, "ok")
    // 3 tokens, 5 % fee: the provider gets 2.85.
    expect((await m.w.token.balanceOf(m.addr("c0"))) - before).toBe(285n * TOKEN / 100n)
    await both(deliver(7n), "ok")
    await both({ type: "confirm", job: 1, by: "d0" }, "ok")
    const j = await chainJob(1)
    expect([j.paidUnits, j.escrow, j.returned]).toEqual([10n, 0n, 10n * TOKEN]) // 10 units × (2 − 1) back
    await both({ type: "confirm", job: 1, by: "d0" }, "MarketJobFinal")
  })

  it("settle pays (by anyone) only notes past the dispute window", async () => {
    await both({ type: "settle", job: 1 }, "MarketUnknownJob")
    await running()
    await both(deliver(2n), "ok")
    await both(deliver(3n), "ok", 30n)
    await both({ type: "settle", job: 1 }, "MarketNothingToPay", WINDOW - 31n)
    await both({ type: "settle", job: 1 }, "ok", 1n) // the first note's window closed, the second's not
    expect((await chainJob(1)).paidUnits).toBe(2n)
    await both({ type: "settle", job: 1 }, "ok", 30n)
    expect((await chainJob(1)).paidUnits).toBe(5n)
    await both({ type: "settle", job: 1 }, "MarketNothingToPay")
  })
})

describe("disputes", () => {
  it("the requester or a referee disputes within the window; nobody else, nothing pending, or too late", async () => {
    await both({ type: "dispute", job: 1, by: "d0" }, "MarketUnknownJob")
    await running()
    await both({ type: "dispute", job: 1, by: "d1" }, "MarketNotReferee")
    await both({ type: "dispute", job: 1, by: "d0" }, "MarketNothingToDispute")
    await both(deliver(2n), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "MarketDisputeWindowClosed", WINDOW)
    await both(deliver(2n), "ok")
    await both({ type: "dispute", job: 1, by: REFEREE }, "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "MarketJobDisputed")
    await both(deliver(1n), "MarketJobDisputed")
    await both({ type: "confirm", job: 1, by: "d0" }, "MarketJobDisputed")
    await both({ type: "settle", job: 1 }, "MarketJobDisputed")
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "MarketJobDisputed")
    await both({ type: "refund", job: 1 }, "MarketJobDisputed", 3600n)
  })

  it("a verdict for the provider pays the frozen notes and restarts the no-show clock", async () => {
    await both(verdictOp(1, true, 1, [REFEREE]), "MarketUnknownJob")
    await running()
    await both(deliver(4n), "ok")
    await both(verdictOp(1, true, 1, [REFEREE]), "MarketNotDisputed")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    await both(verdictOp(1, true, 1, [REFEREE]), "ok", 100n)
    const j = await chainJob(1)
    expect([j.paidUnits, Number(j.state), Number(j.lastActivity)]).toEqual([4n, 2, Number(m.nowSec)])
    expect((await m.market.getProvider(m.addr("c0"))).bond).toBe(1_000n * TOKEN)
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "MarketNoShowNotDue", NO_SHOW - 1n)
  })

  it("a verdict against the provider refutes the notes, slashes its bond (requester first, the rest burnt), reopens the job", async () => {
    await both(reg("c0", { bond: 10_000n * TOKEN }), "ok")
    await both(reg("c1"), "ok")
    await both(post(), "ok")
    await both(assign(), "ok")
    await both(deliver(5n), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    const before = await m.w.token.balanceOf(m.addr("d0"))
    await both(verdictOp(1, false, 1, [REFEREE]), "ok")
    // market.wrongResultSlash is the whole bond (1): 10,000 slashed, 5 (the refuted notes) to the requester, 9,995 burnt.
    expect((await m.w.token.balanceOf(m.addr("d0"))) - before).toBe(5n * TOKEN)
    const j = await chainJob(1)
    expect([Number(j.state), j.delivered, j.compensation, [...j.excluded]]).toEqual([1, 0n, 5n * TOKEN, [m.addr("c0")]])
    await both(verdictOp(1, false, 1, [REFEREE]), "MarketNotDisputed")
    await both(assign(1, "c1"), "ok")
    await both(deliver(10n, 1, "c1"), "ok")
    await both({ type: "confirm", job: 1, by: "d0" }, "ok")
    expect(Number((await chainJob(1)).state)).toBe(4)
  })
})

describe("verdicts: ≥ 2/3 of a Committee snapshot's power", () => {
  /** v1 joins with more stake than v0 (snapshot 2: neither alone holds 2/3), c0 runs job 1 with a disputed note. */
  const twoValidators = async () => {
    const r = await m.w.step(0n, { type: "registerValidator", operator: "v1", amount: 15_000n * TOKEN, tier: 0, commission: 0n })
    expect(r.ts !== "skipped" && r.ts.ok && r.chain !== "skipped" && r.chain.ok).toBe(true)
    expect(await m.takeSnapshot()).toBe(2)
    await running()
    await both(deliver(3n), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
  }

  it("refuses too little power, a signer outside the snapshot, a signer twice, an unknown or stale snapshot; takes a quorum", async () => {
    await twoValidators()
    expect(Number((await chainJob(1)).disputeSnapshot)).toBe(2)
    await both(verdictOp(1, false, 2, [REFEREE]), "CommitteeInsufficientPower")
    await both(verdictOp(1, false, 2, ["v1"]), "CommitteeInsufficientPower")
    await both(verdictOp(1, false, 2, []), "CommitteeInsufficientPower")
    await both(verdictOp(1, false, 2, ["v1", "d0"]), "CommitteeUnknownSigner")
    await both(verdictOp(1, false, 2, ["v1", "v1"]), "CommitteeDuplicateSigner")
    await both(verdictOp(1, false, 3, ["v1", REFEREE]), "CommitteeUnknownSnapshot")
    await both(verdictOp(1, false, 1, [REFEREE]), "CommitteeStaleSnapshot")
    await both(verdictOp(1, false, 0, [REFEREE]), "CommitteeStaleSnapshot")
    await both(verdictOp(1, false, 2, ["v1", REFEREE]), "ok")
  })

  it("refuses a job not disputed and a replayed verdict, also once the job is disputed again", async () => {
    await twoValidators()
    const verdict = verdictOp(1, true, 2, ["v1", REFEREE])
    const sigs = await Promise.all([m.w.keys.v1, m.w.keys[REFEREE]].map(async (k: Any) => k.signingKey.sign(await m.market.verdictDigest(1, true, 2)).serialized))
    await both(verdict, "ok")
    await both(verdict, "MarketNotDisputed")
    await both(deliver(1n), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    // The first verdict's signatures judged notes 1..1; this dispute froze note 2: they recover to strangers.
    await expect(m.market.connect(m.w.signer.d2).resolveDispute.staticCall(1, true, 2, sigs))
      .rejects.toSatisfy((e: Any) => m.committee.interface.parseError(e.data)?.name === "CommitteeUnknownSigner")
    await both(verdictOp(1, true, 2, ["v1", REFEREE]), "ok")
  })
})

describe("no-shows and refunds", () => {
  it("takes a job from a provider silent for market.noShowTimeout: a penalty to the requester, the job open again", async () => {
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "MarketUnknownJob")
    await both(reg(), "ok")
    await both(post(), "ok")
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "MarketJobNotAssigned")
    await both(assign(), "ok")
    await both({ type: "reclaimNoShow", job: 1, by: "d1" }, "MarketNotRequester")
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "MarketNoShowNotDue", NO_SHOW - 1n)
    await both(deliver(1n), "ok")
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "MarketNotesPending", NO_SHOW)
    await both({ type: "confirm", job: 1, by: "d0" }, "ok")
    await both({ type: "reclaimNoShow", job: 1, by: "d0" }, "ok")
    const j = await chainJob(1)
    expect([Number(j.state), j.compensation, j.delivered]).toEqual([1, 50n * TOKEN, 1n])
    expect((await m.market.getProvider(m.addr("c0"))).openJobs).toBe(0n)
  })

  it("refunds after the deadline and every window: pending notes paid, the rest returned (expired or settled)", async () => {
    await both({ type: "refund", job: 1 }, "MarketUnknownJob")
    await running()
    await both(deliver(3n), "ok")
    await both({ type: "refund", job: 1 }, "MarketBeforeDeadline", 3599n)
    await both(deliver(1n), "ok")
    await both({ type: "refund", job: 1 }, "MarketDisputeWindowOpen", 1n)
    await both({ type: "refund", job: 1 }, "ok", WINDOW)
    const j = await chainJob(1)
    expect([Number(j.state), j.paidUnits, j.escrow, j.returned]).toEqual([5, 4n, 0n, 20n * TOKEN - 4n * TOKEN])
    await both({ type: "refund", job: 1 }, "MarketJobFinal")
    // A job never assigned ends expired with its whole budget back; one fully delivered ends settled.
    await both(post(), "ok")
    await both({ type: "refund", job: 2 }, "ok", 3600n)
    await both(post(), "ok")
    await both(assign(3), "ok")
    await both(deliver(10n, 3), "ok")
    await both({ type: "refund", job: 3 }, "ok", 3600n)
    expect(Number((await chainJob(3)).state)).toBe(4)
  })
})

describe("the budget identity on sequences", () => {
  it("holds through failover, disputes both ways, partial settlement and a refund", async () => {
    await both(reg("c0"), "ok")
    await both(reg("c1", { pricePerUnit: TOKEN / 3n }), "ok")
    await both(reg("d2", { pricePerUnit: 7n * TOKEN / 11n, bond: 5_000n * TOKEN }), "ok")
    await both(post("d0", { units: 13n, maxPricePerUnit: TOKEN + 7n }), "ok")
    await both(post("d1", { units: 5n, maxPricePerUnit: TOKEN }), "ok")
    await both(assign(1, "c0"), "ok")
    await both(assign(2, "c1", "d1"), "ok")
    await both(deliver(3n, 1, "c0"), "ok", 1n)
    await both({ type: "dispute", job: 1, by: "d0" }, "ok", 1n)
    await both(verdictOp(1, true, 1, [REFEREE]), "ok", 1n)
    await both(deliver(2n, 2, "c1"), "ok", 1n)
    await both({ type: "settle", job: 2 }, "ok", WINDOW)
    await both({ type: "reclaimNoShow", job: 2, by: "d1" }, "ok", NO_SHOW)
    await both(assign(2, "d2", "d1"), "ok")
    await both(deliver(3n, 2, "d2"), "ok")
    await both({ type: "confirm", job: 2, by: "d1" }, "ok")
    await both(deliver(4n, 1, "c0"), "ok")
    await both({ type: "dispute", job: 1, by: REFEREE }, "ok")
    await both(verdictOp(1, false, 1, [REFEREE]), "ok")
    await both(assign(1, "d2"), "ok")
    await both(deliver(9n, 1, "d2"), "ok")
    await both({ type: "refund", job: 1 }, "ok", 3600n)
    const [, ch] = await m.views()
    const jobs = ch.jobs as Any[]
    expect(budgetProblems(jobs)).toEqual([])
    expect(jobs.map((j) => j.state)).toEqual(["expired", "settled"]) // job 1: 3 + 9 of 13 units paid, 4 refuted
  })
})

describe("contract-only rules", () => {
  it("refuses a zero address at construction", async () => {
    const f = await ethers.getContractFactory("ComputeMarket")
    const staking = await m.w.staking.getAddress()
    await expect(ethers.deployContract("ComputeMarket", [staking, ethers.ZeroAddress, await m.committee.getAddress(), m.w.admin.address])).rejects.toThrow()
    await expect(ethers.deployContract("ComputeMarket", [staking, await m.base.parts.constitution.getAddress(), ethers.ZeroAddress, m.w.admin.address])).rejects.toThrow()
    const data = f.interface.encodeErrorResult("MarketInvalidSetup", ["zero address"])
    expect(data.startsWith(f.interface.getError("MarketInvalidSetup")!.selector)).toBe(true)
  })

  it("only the admin grants COMMITTEE_ROLE (disputes); a verdict is sent by anyone, its signatures are what count", async () => {
    const role = await m.market.COMMITTEE_ROLE()
    await expect(m.market.connect(m.w.signer.d1).grantRole(role, m.addr("d1"))).rejects.toThrow()
    await running()
    await both(deliver(1n), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    await both(verdictOp(1, true, 1, [REFEREE], "c1"), "ok")
  })

  it("checks verdict signatures with real keys: the contract's digest is verdictDigest of core/market/verdict.ts", async () => {
    await running()
    await both(deliver(2n, 1, "c0", H1), "ok")
    await both(deliver(1n, 1, "c0", H2), "ok")
    await both({ type: "dispute", job: 1, by: "d0" }, "ok")
    const at = await m.market.getAddress()
    const digest = await m.market.verdictDigest(1, false, 1)
    const frozen = [{ id: 1, resultHash: H1 }, { id: 2, resultHash: H2 }]
    expect(digest).toBe(verdictDigestHex(CONSENSUS_CHAIN_ID, at, { job: 1, providerRight: false, snapshotId: 1 }, frozen))
    // A signature by a key outside the snapshot recovers to a stranger; one of the other verdict, too.
    const sign = (actor: string, d: string) => m.w.keys[actor].signingKey.sign(d).serialized
    const other = await m.market.verdictDigest(1, true, 1)
    const refused = async (sigs: string[], error: string) => {
      await expect(m.market.connect(m.w.signer.d2).resolveDispute.staticCall(1, false, 1, sigs)).rejects.toSatisfy((e: Any) => m.committee.interface.parseError(e.data)?.name === error)
    }
    await refused([sign("d0", digest)], "CommitteeUnknownSigner")
    await refused([sign(REFEREE, other)], "CommitteeUnknownSigner")
    await refused(["0x1234"], "CommitteeBadSignature")
    await (await m.market.connect(m.w.signer.d2).resolveDispute(1, false, 1, [sign(REFEREE, digest)])).wait()
    expect(Number((await chainJob(1)).state)).toBe(1) // open again
  })
})
