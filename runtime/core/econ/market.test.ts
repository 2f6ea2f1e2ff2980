import { describe, expect, it } from "vitest"
import { Result } from "effect"
import { DEFAULT_PARAMS, resolveParams } from "../params.ts"
import { TOKEN } from "../units.ts"
import type { MarketOp } from "../market/types.ts"
import { MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT } from "./market.ts"
import type { Economy } from "./economy.ts"
import { failTag, invariantViolations, ok, SETUP, snapshotKey, testEconomy } from "./testkit.ts"
import { toySign } from "../committee/testkit.ts"
import { signedVerdict, TEST_VERDICT_CTX, toyVerdictSignatures } from "../market/testkit.ts"

const HASH = `0x${"ab".repeat(32)}`
const T = TOKEN

/** An economy with validators (the referees v0, v1; committee snapshot 1), provider c0 (price 2 tokens/unit, capacity 2) and c1 (price 1). */
const market = (): Economy => {
  // The numbers below are for a 20 % wrong-result slash, whatever the registry's default.
  const e = testEconomy(Result.getOrThrow(resolveParams({ "market.wrongResultSlash": 0.2 })))
  for (const op of SETUP) ok(e.apply(op, 0))
  ok(e.takeSnapshot("v0", 0))
  ok(e.marketOp({ type: "registerProvider", provider: "c0", bond: 1_000n * T, kinds: ["infer:mnist"], pricePerUnit: 2n * T, capacity: 2 }, 0))
  ok(e.marketOp({ type: "registerProvider", provider: "c1", bond: 2_000n * T, kinds: ["infer:mnist", "finetune:mnist"], pricePerUnit: 1n * T, capacity: 1 }, 0))
  return e
}

/** d0 posts 10 units at ≤ 3 tokens/unit, deadline t=100s, and gives it to c0. */
const posted = (e: Economy, provider = "c0"): number => {
  const job = ok(e.marketOp({ type: "postJob", requester: "d0", kind: "infer:mnist", units: 10n, maxPricePerUnit: 3n * T, deadline: 100_000 }, 0)).job
  ok(e.marketOp({ type: "assignJob", job, provider, by: "d0" }, 0))
  return job
}

/** The error of a refused op (throws on success). */
const failOf = <A, E>(r: Result.Result<A, E>): E => {
  if (Result.isSuccess(r)) throw new Error("expected a refusal")
  return r.failure
}

/** Apply `op` expecting a refusal with `tag`, and that the state did not change. */
const refused = (e: Economy, op: MarketOp, now: number, tag: string): void => {
  const before = snapshotKey(e.snapshot())
  expect(failTag(e.marketOp(op, now, TEST_VERDICT_CTX))).toBe(tag)
  expect(snapshotKey(e.snapshot())).toBe(before)
}

/** budget = paid + fees + returned + escrow left, and the escrow account holds every job's escrow. */
const accounted = (e: Economy): void => {
  for (const j of e.jobs()) expect(j.paid + j.feeBurnt + j.feeToStakers + j.returned + j.escrow).toBe(j.budget)
  expect(e.balanceOf(MARKET_ESCROW_ACCOUNT)).toBe(e.jobs().reduce((t, j) => t + j.escrow, 0n))
  expect(e.balanceOf(MARKET_BONDS_ACCOUNT)).toBe(e.providers().reduce((t, p) => t + p.bond, 0n))
  expect(invariantViolations(e)).toEqual([])
}

describe("compute market on the ledger", () => {
  it("a job delivered in two notes, confirmed, then settled after the window: paid as delivered, the fee split, the unused escrow returned", () => {
    const e = market()
    const d0 = e.balanceOf("d0")
    const burnt = e.supply().burnt
    const job = posted(e)
    expect(e.balanceOf("d0")).toBe(d0 - 30n * T)
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 4n, resultHash: HASH }, 1_000))
    const c = ok(e.marketOp({ type: "confirm", job, by: "d0" }, 2_000))
    expect(c.payments).toEqual([{ note: 1, provider: "c0", units: 4n, amount: 8n * T, toProvider: 76n * T / 10n, fee: 4n * T / 10n, burnt: 12n * T / 100n, toStakers: 28n * T / 100n }])
    expect(c.state).toBe("assigned")
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 6n, resultHash: HASH }, 3_000))
    refused(e, { type: "settle", job }, 62_999, "MarketNothingToPay")
    const s = ok(e.marketOp({ type: "settle", job }, 63_000))
    expect(s.state).toBe("settled")
    expect(s.returned).toBe(10n * T) // 10 units × (3 − 2)
    const j = e.job(job)!
    expect(j).toMatchObject({ state: "settled", paidUnits: 10n, escrow: 0n, paid: 19n * T, feeBurnt: 3n * T / 10n, feeToStakers: 7n * T / 10n })
    expect(e.balanceOf("d0")).toBe(d0 - 20n * T)
    expect(e.supply().burnt - burnt).toBe(3n * T / 10n)
    expect(e.provider("c0")!.openJobs).toBe(0)
    expect(e.marketTotals()).toMatchObject({ escrow: 0n, bonds: 3_000n * T, paid: 19n * T, feeBurnt: 3n * T / 10n, feeToStakers: 7n * T / 10n, returned: 10n * T })
    accounted(e)
  })

  it("refuses what the rules forbid, changing nothing", () => {
    const e = market()
    refused(e, { type: "registerProvider", provider: "c0", bond: 1_000n * T, kinds: ["x"], pricePerUnit: 1n, capacity: 1 }, 0, "MarketProviderExists")
    refused(e, { type: "registerProvider", provider: "d1", bond: 999n * T, kinds: ["x"], pricePerUnit: 1n, capacity: 1 }, 0, "MarketInsufficientBond")
    refused(e, { type: "registerProvider", provider: "d1", bond: 1_000n * T, kinds: [], pricePerUnit: 1n, capacity: 1 }, 0, "MarketInvalidProvider")
    refused(e, { type: "registerProvider", provider: "d1", bond: 1_000n * T, kinds: ["x", "x"], pricePerUnit: 1n, capacity: 1 }, 0, "MarketInvalidProvider")
    refused(e, { type: "registerProvider", provider: "d1", bond: 1_000n * T, kinds: ["x"], pricePerUnit: 0n, capacity: 1 }, 0, "MarketInvalidProvider")
    refused(e, { type: "registerProvider", provider: "d1", bond: 1_000n * T, kinds: ["x"], pricePerUnit: 1n, capacity: 0 }, 0, "MarketInvalidProvider")
    refused(e, { type: "registerProvider", provider: "nobody", bond: 1_000n * T, kinds: ["x"], pricePerUnit: 1n, capacity: 1 }, 0, "TokenInsufficientBalance")
    refused(e, { type: "postJob", requester: "d0", kind: "infer:mnist", units: 0n, maxPricePerUnit: 1n, deadline: 10 }, 0, "MarketInvalidJob")
    refused(e, { type: "postJob", requester: "d0", kind: "infer:mnist", units: 2n ** 64n, maxPricePerUnit: 1n, deadline: 10 }, 0, "MarketInvalidJob")
    refused(e, { type: "postJob", requester: "d0", kind: "infer:mnist", units: 1n, maxPricePerUnit: 2n ** 128n, deadline: 10 }, 0, "MarketInvalidJob")
    refused(e, { type: "registerProvider", provider: "d1", bond: 1_000n * T, kinds: ["x"], pricePerUnit: 2n ** 128n, capacity: 1 }, 0, "MarketInvalidProvider")
    refused(e, { type: "postJob", requester: "d0", kind: "infer:mnist", units: 1n, maxPricePerUnit: 1n, deadline: 0 }, 0, "MarketInvalidJob")
    refused(e, { type: "postJob", requester: "d0", kind: "", units: 1n, maxPricePerUnit: 1n, deadline: 10 }, 0, "MarketInvalidJob")
    refused(e, { type: "postJob", requester: "nobody", kind: "infer:mnist", units: 1n, maxPricePerUnit: 1n, deadline: 10 }, 0, "TokenInsufficientBalance")
    const job = ok(e.marketOp({ type: "postJob", requester: "d0", kind: "finetune:mnist", units: 5n, maxPricePerUnit: 1n * T, deadline: 100_000 }, 0)).job
    refused(e, { type: "assignJob", job: 99, provider: "c1", by: "d0" }, 0, "MarketUnknownJob")
    refused(e, { type: "assignJob", job, provider: "c1", by: "d1" }, 0, "MarketNotRequester")
    refused(e, { type: "assignJob", job, provider: "c0", by: "d0" }, 0, "MarketKindNotServed")
    refused(e, { type: "assignJob", job, provider: "zz", by: "d0" }, 0, "MarketUnknownProvider")
    refused(e, { type: "assignJob", job, provider: "c1", by: "d0" }, 100_000, "MarketPastDeadline")
    refused(e, { type: "deliver", job, provider: "c1", units: 1n, resultHash: HASH }, 0, "MarketJobNotAssigned")
    ok(e.marketOp({ type: "updateProvider", provider: "c1", pricePerUnit: 2n * T, capacity: 1 }, 0))
    refused(e, { type: "assignJob", job, provider: "c1", by: "d0" }, 0, "MarketPriceTooHigh")
    ok(e.marketOp({ type: "updateProvider", provider: "c1", pricePerUnit: 1n * T, capacity: 1 }, 0))
    ok(e.marketOp({ type: "assignJob", job, provider: "c1", by: "d0" }, 0))
    refused(e, { type: "assignJob", job, provider: "c1", by: "d0" }, 0, "MarketJobNotOpen")
    const other = ok(e.marketOp({ type: "postJob", requester: "d1", kind: "infer:mnist", units: 1n, maxPricePerUnit: 1n * T, deadline: 100_000 }, 0)).job
    refused(e, { type: "assignJob", job: other, provider: "c1", by: "d1" }, 0, "MarketProviderFull")
    refused(e, { type: "deliver", job, provider: "c0", units: 1n, resultHash: HASH }, 0, "MarketNotProvider")
    refused(e, { type: "deliver", job, provider: "c1", units: 6n, resultHash: HASH }, 0, "MarketOverDelivery")
    refused(e, { type: "deliver", job, provider: "c1", units: 1n, resultHash: "0x12" }, 0, "MarketInvalidDelivery")
    refused(e, { type: "deliver", job, provider: "c1", units: 1n, resultHash: HASH }, 100_000, "MarketPastDeadline")
    refused(e, { type: "confirm", job, by: "d0" }, 0, "MarketNothingToPay")
    refused(e, { type: "dispute", job, by: "d0" }, 0, "MarketNothingToDispute")
    refused(e, { type: "dispute", job, by: "d1" }, 0, "MarketNotReferee")
    refused(e, { type: "resolveDispute", job, providerRight: true, snapshotId: 1, signatures: [], by: "v0" }, 0, "MarketNotDisputed")
    refused(e, { type: "refund", job }, 99_999, "MarketBeforeDeadline")
    refused(e, { type: "reclaimNoShow", job, by: "d0" }, 29_999, "MarketNoShowNotDue")
    refused(e, { type: "withdrawBond", provider: "c1" }, 0, "MarketProviderNotRetired")
    ok(e.marketOp({ type: "retireProvider", provider: "c1" }, 0))
    refused(e, { type: "retireProvider", provider: "c1" }, 0, "MarketProviderRetired")
    refused(e, { type: "withdrawBond", provider: "c1" }, 0, "MarketProviderBusy")
    refused(e, { type: "updateProvider", provider: "c1", pricePerUnit: 1n, capacity: 1 }, 0, "MarketProviderRetired")
    accounted(e)
  })

  it("a refuted result: the provider slashed (requester compensated first, the rest burnt), its notes never paid, the job to another provider", () => {
    const e = market()
    const job = posted(e)
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 4n, resultHash: HASH }, 1_000))
    refused(e, { type: "dispute", job, by: "d0" }, 61_000, "MarketDisputeWindowClosed")
    const d = ok(e.marketOp({ type: "dispute", job, by: "v1" }, 60_999))
    expect(d).toEqual({ type: "dispute", job, by: "v1", notes: [1], amount: 8n * T })
    refused(e, { type: "deliver", job, provider: "c0", units: 1n, resultHash: HASH }, 61_000, "MarketJobDisputed")
    refused(e, { type: "settle", job }, 70_000, "MarketJobDisputed")
    const d0 = e.balanceOf("d0")
    const burnt = e.supply().burnt
    const r = ok(e.marketOp(signedVerdict(e.latestSnapshot()!, e.job(job)!, false, "d0"), 70_000, TEST_VERDICT_CTX))
    expect(r).toMatchObject({ snapshotId: 1, signers: ["v0", "v1"] })
    expect(r.slash).toEqual({ provider: "c0", slashed: 200n * T, toRequester: 8n * T, burnt: 192n * T })
    expect(r.state).toBe("open")
    expect(e.balanceOf("d0") - d0).toBe(8n * T)
    expect(e.supply().burnt - burnt).toBe(192n * T)
    expect(e.job(job)).toMatchObject({ delivered: 0n, paid: 0n, escrow: 30n * T, compensation: 8n * T, excluded: ["c0"], provider: undefined })
    expect(e.provider("c0")).toMatchObject({ bond: 800n * T, openJobs: 0, penalized: 200n * T })
    refused(e, { type: "assignJob", job, provider: "c0", by: "d0" }, 70_000, "MarketProviderExcluded")
    ok(e.marketOp({ type: "assignJob", job, provider: "c1", by: "d0" }, 70_000))
    ok(e.marketOp({ type: "deliver", job, provider: "c1", units: 10n, resultHash: HASH }, 71_000))
    const done = ok(e.marketOp({ type: "confirm", job, by: "d0" }, 71_000))
    expect(done).toMatchObject({ state: "settled", returned: 20n * T })
    expect(e.job(job)!.notes.map((n) => n.state)).toEqual(["refuted", "paid"])
    accounted(e)
  })

  it("a referee that confirms the result pays the provider and the job goes on", () => {
    const e = market()
    const job = posted(e)
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 3n, resultHash: HASH }, 1_000))
    ok(e.marketOp({ type: "dispute", job, by: "d0" }, 2_000))
    const r = ok(e.marketOp(signedVerdict(e.latestSnapshot()!, e.job(job)!, true, "v1"), 50_000, TEST_VERDICT_CTX))
    expect(r).toMatchObject({ providerRight: true, slash: undefined, state: "assigned", refuted: [] })
    expect(r.payments.map((p) => p.amount)).toEqual([6n * T])
    expect(e.provider("c0")).toMatchObject({ bond: 1_000n * T, penalized: 0n })
    // The no-show clock restarted at the verdict.
    refused(e, { type: "reclaimNoShow", job, by: "d0" }, 79_999, "MarketNoShowNotDue")
    accounted(e)
  })

  it("a verdict needs ≥ 2/3 of a snapshot's power: one validator alone, a stranger, a signer twice, an unknown or stale snapshot, no verifier, a replay are refused", () => {
    const e = market()
    const snap = e.latestSnapshot()!
    expect(snap.validators.map((v) => v.operator)).toEqual(["v0", "v1"])
    const job = posted(e)
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 3n, resultHash: HASH }, 1_000))
    refused(e, { type: "resolveDispute", job, providerRight: true, snapshotId: 1, signatures: [], by: "v0" }, 2_000, "MarketNotDisputed")
    refused(e, { type: "resolveDispute", job: 99, providerRight: true, snapshotId: 1, signatures: [], by: "v0" }, 2_000, "MarketUnknownJob")
    ok(e.marketOp({ type: "dispute", job, by: "d0" }, 2_000))
    const j = e.job(job)!
    expect(j.disputeSnapshot).toBe(1)
    // Each validator alone holds less than the quorum: a single referee can no longer decide.
    for (const v of ["v0", "v1"]) refused(e, signedVerdict(snap, j, false, v, [v]), 3_000, "CommitteeInsufficientPower")
    refused(e, { ...signedVerdict(snap, j, false, "v0"), signatures: [] }, 3_000, "CommitteeInsufficientPower")
    const sigs = toyVerdictSignatures(snap, j, false)
    refused(e, { ...signedVerdict(snap, j, false, "v0"), signatures: [...sigs, sigs[0]!] }, 3_000, "CommitteeDuplicateSigner")
    const stranger = `0x${"77".repeat(20)}`
    const strangerSig = { signer: stranger, signature: toySign(stranger, new Uint8Array(32)) }
    refused(e, { ...signedVerdict(snap, j, false, "v0"), signatures: [...sigs, strangerSig] }, 3_000, "CommitteeUnknownSigner")
    // Signatures of the other verdict are not this one's.
    refused(e, { ...signedVerdict(snap, j, false, "v0"), signatures: toyVerdictSignatures(snap, j, true) }, 3_000, "CommitteeBadSignature")
    refused(e, { ...signedVerdict(snap, j, false, "v0"), snapshotId: 2 }, 3_000, "CommitteeUnknownSnapshot")
    refused(e, { ...signedVerdict(snap, j, false, "v0"), snapshotId: 0 }, 3_000, "CommitteeStaleSnapshot")
    refused(e, { ...signedVerdict(snap, j, false, "v0"), by: "" }, 3_000, "TokenInvalidAddress")
    const before = snapshotKey(e.snapshot())
    expect(failTag(e.marketOp(signedVerdict(snap, j, true, "v0"), 3_000))).toBe("CommitteeBadSignature") // a ledger without a verifier
    expect(snapshotKey(e.snapshot())).toBe(before)
    const verdict = signedVerdict(snap, j, true, "v0")
    ok(e.marketOp(verdict, 3_000, TEST_VERDICT_CTX))
    refused(e, verdict, 3_000, "MarketNotDisputed")
    // Disputed again under a newer snapshot: the old verdict's signatures are not this dispute's, and snapshot 1 is now too old.
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 1n, resultHash: HASH }, 4_000))
    ok(e.takeSnapshot("v1", 4_000))
    ok(e.marketOp({ type: "dispute", job, by: "d0" }, 5_000))
    expect(e.job(job)!.disputeSnapshot).toBe(2)
    refused(e, { ...verdict, snapshotId: 2 }, 6_000, "CommitteeBadSignature")
    refused(e, signedVerdict(snap, e.job(job)!, true, "v0"), 6_000, "CommitteeStaleSnapshot")
    const r = ok(e.marketOp(signedVerdict(e.latestSnapshot()!, e.job(job)!, true, "d2"), 6_000, TEST_VERDICT_CTX))
    expect(r.payments.map((p) => p.note)).toEqual([2])
    accounted(e)
  })

  it("a no-show loses the job and pays the penalty; past the deadline the rest is refunded once every window closed", () => {
    const e = market()
    const job = posted(e)
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 2n, resultHash: HASH }, 5_000))
    refused(e, { type: "reclaimNoShow", job, by: "d0" }, 40_000, "MarketNotesPending")
    ok(e.marketOp({ type: "confirm", job, by: "d0" }, 40_000))
    refused(e, { type: "reclaimNoShow", job, by: "d1" }, 40_000, "MarketNotRequester")
    const n = ok(e.marketOp({ type: "reclaimNoShow", job, by: "d0" }, 40_000))
    expect(n).toEqual({ type: "reclaimNoShow", job, provider: "c0", penalty: 50n * T })
    refused(e, { type: "assignJob", job, provider: "c0", by: "d0" }, 41_000, "MarketInsufficientBond")
    expect(ok(e.marketOp({ type: "addBond", provider: "c0", amount: 50n * T }, 41_000)).bond).toBe(1_000n * T)
    ok(e.marketOp({ type: "assignJob", job, provider: "c0", by: "d0" }, 41_000)) // a no-show is not excluded
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 3n, resultHash: HASH }, 99_000))
    refused(e, { type: "refund", job }, 100_000, "MarketDisputeWindowOpen")
    const d0 = e.balanceOf("d0")
    const r = ok(e.marketOp({ type: "refund", job }, 159_000))
    expect(r.state).toBe("expired")
    expect(r.payments.map((p) => p.units)).toEqual([3n])
    // 30 budget − 4 (2 units paid) − 6 (3 units paid) = 20 back.
    expect(r.returned).toBe(20n * T)
    expect(e.balanceOf("d0") - d0).toBe(20n * T)
    refused(e, { type: "refund", job }, 160_000, "MarketJobFinal")
    ok(e.marketOp({ type: "retireProvider", provider: "c0" }, 160_000))
    const w = ok(e.marketOp({ type: "withdrawBond", provider: "c0" }, 160_000))
    expect(w.amount).toBe(1_000n * T)
    accounted(e)
  })

  it("market state survives clone and snapshot independently", () => {
    const e = market()
    const job = posted(e)
    const copy = e.clone()
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 2n, resultHash: HASH }, 5_000))
    expect(copy.job(job)!.notes).toEqual([])
    expect(snapshotKey(copy.snapshot())).not.toBe(snapshotKey(e.snapshot()))
    expect(Result.isFailure(e.marketOp({ type: "settle", job }, 4_000))).toBe(true) // time went backwards
  })

  it("refuses a debit note larger than the provider's bond answers for, and any delivery from a provider below the minimum bond", () => {
    // c0: bond 1,000, 2 tokens a unit; 20 % slash, p = 0.1 → at most 200 × 0.1 ÷ 0.9 = 22.2… tokens a note: 11 units.
    const e = market()
    const job = ok(e.marketOp({ type: "postJob", requester: "d0", kind: "infer:mnist", units: 40n, maxPricePerUnit: 3n * T, deadline: 100_000 }, 0)).job
    ok(e.marketOp({ type: "assignJob", job, provider: "c0", by: "d0" }, 0))
    const max = (200n * T * 10n ** 17n) / (9n * 10n ** 17n)
    expect(failOf(e.marketOp({ type: "deliver", job, provider: "c0", units: 12n, resultHash: HASH }, 1_000))).toMatchObject({ _tag: "MarketNoteTooLarge", job, amount: 24n * T, maxAmount: max })
    refused(e, { type: "deliver", job, provider: "c0", units: 12n, resultHash: HASH }, 1_000, "MarketNoteTooLarge")
    // Check order: an over-delivery is one before it is too large (rule 23: a huge value is never an overflow).
    refused(e, { type: "deliver", job, provider: "c0", units: 41n, resultHash: HASH }, 1_000, "MarketOverDelivery")
    ok(e.marketOp({ type: "deliver", job, provider: "c0", units: 11n, resultHash: HASH }, 1_000))
    // A refuted result slashes 20 %: 800 left, below the 1,000 minimum. Another job it holds takes no more notes.
    const other = ok(e.marketOp({ type: "postJob", requester: "d1", kind: "infer:mnist", units: 10n, maxPricePerUnit: 3n * T, deadline: 100_000 }, 1_000)).job
    ok(e.marketOp({ type: "assignJob", job: other, provider: "c0", by: "d1" }, 1_000))
    ok(e.marketOp({ type: "dispute", job, by: "d0" }, 2_000))
    ok(e.marketOp(signedVerdict(e.latestSnapshot()!, e.job(job)!, false, "d0"), 3_000, TEST_VERDICT_CTX))
    expect(e.provider("c0")!.bond).toBe(800n * T)
    expect(failOf(e.marketOp({ type: "deliver", job: other, provider: "c0", units: 1n, resultHash: HASH }, 4_000)))
      .toMatchObject({ _tag: "MarketInsufficientBond", provider: "c0", bond: 800n * T, minimum: 1_000n * T })
    refused(e, { type: "deliver", job: other, provider: "c0", units: 1n, resultHash: HASH }, 4_000, "MarketInsufficientBond")
    // Topped up to the minimum it delivers again, within the cap of its bond.
    ok(e.marketOp({ type: "addBond", provider: "c0", amount: 200n * T }, 4_000))
    ok(e.marketOp({ type: "deliver", job: other, provider: "c0", units: 10n, resultHash: HASH }, 4_000))
    accounted(e)
  })
})
