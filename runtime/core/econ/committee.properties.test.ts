/**
 * Properties of the committee side of the ledger over random sequences mixing economic operations
 * (the economy's own generators), snapshots, fee deposits, epoch reports (some valid, some not) and
 * conflicting reports:
 *  - supply is conserved to the wei and every structural invariant holds after every step;
 *  - fee deposits add up (Σ per account = the escrow's balance), and no payer pays more than it
 *    deposited or than it was charged;
 *  - emission never exceeds the reserve at settlement, nor annualEmission × the elapsed seconds;
 *  - every refused committee operation changes nothing;
 *  - a report below quorum, for an unknown snapshot, repeated or badly formed is refused with the
 *    reason, and the same report without the defect is then accepted;
 *  - a conflicting report slashes exactly the validators that signed both reports.
 * Runs: DAI_COMMITTEE_RUNS (CI default 150), seed DAI_COMMITTEE_SEED, path DAI_COMMITTEE_PATH (scripts/property-env.ts).
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { emptyReport, quorumSigners, TEST_CHAIN_ID, toySignatures, toyVerify } from "../committee/testkit.ts"
import type { EpochReport, Snapshot } from "../committee/types.ts"
import { YEAR_SECONDS } from "../committee/settle.ts"
import { accountWord } from "../committee/digest.ts"
import { tokens } from "../units.ts"
import { FEE_ESCROW_ACCOUNT, RESERVE_ACCOUNT } from "./committee.ts"
import type { Economy } from "./economy.ts"
import { ACTORS, amountArb, dtArb, invariantViolations, ok, opSpecArb, resolveSpec, SETUP, snapshotKey, testEconomy, type OpSpec } from "./testkit.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const ENV = propertyEnv("COMMITTEE", 150)
const TIMEOUT = ENV.timeout(400)
const ctx = { chainId: TEST_CHAIN_ID, verify: toyVerify }

/** The setup of the economy's properties, plus a third validator with its own key and a fee deposit. */
const start = (): Economy => {
  const e = testEconomy()
  for (const op of SETUP) ok(e.apply(op, 0))
  ok(e.apply({ type: "registerValidator", operator: "v2", amount: 15_000n * 10n ** 18n, tier: 30, commission: 0n, signingKey: accountWord("key:v2") }, 0))
  ok(e.takeSnapshot("anyone", 0))
  return e
}

type Signers = { readonly kind: "quorum" } | { readonly kind: "all" } | { readonly kind: "mask"; readonly mask: number }
type Action =
  | { readonly type: "econ"; readonly spec: OpSpec }
  | { readonly type: "snapshot" }
  | { readonly type: "deposit"; readonly account: string; readonly amount: bigint }
  | { readonly type: "askWithdrawal"; readonly account: string; readonly per: number }
  | { readonly type: "withdraw"; readonly account: string }
  | {
    readonly type: "report"; readonly downtimeMask: number; readonly scored: ReadonlyArray<readonly [string, bigint]>
    readonly fees: ReadonlyArray<readonly [string, bigint]>; readonly signers: Signers; readonly snapshotBack: number; readonly epochSkip: number
  }
  | { readonly type: "conflict"; readonly back: number; readonly signers: Signers; readonly salt: bigint }

const signersArb: fc.Arbitrary<Signers> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Signers>({ kind: "quorum" }) },
  { weight: 1, arbitrary: fc.constant<Signers>({ kind: "all" }) },
  { weight: 2, arbitrary: fc.nat(255).map((mask): Signers => ({ kind: "mask", mask })) },
)
const account = fc.constantFrom(...ACTORS.filter((a) => a !== "reserve"), "t9")
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: opSpecArb.map((spec): Action => ({ type: "econ", spec })) },
  { weight: 1, arbitrary: fc.constant<Action>({ type: "snapshot" }) },
  { weight: 1, arbitrary: fc.record({ account, amount: amountArb }).map((o): Action => ({ type: "deposit", ...o })) },
  { weight: 1, arbitrary: fc.record({ account, per: fc.integer({ min: 0, max: 120 }) }).map((o): Action => ({ type: "askWithdrawal", ...o })) },
  { weight: 1, arbitrary: account.map((a): Action => ({ type: "withdraw", account: a })) },
  {
    weight: 3,
    arbitrary: fc.record({
      downtimeMask: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(15) }),
      scored: fc.uniqueArray(fc.tuple(account, fc.bigInt({ min: 0n, max: 1_000_000n })), { maxLength: 4, selector: (x) => x[0] }),
      fees: fc.uniqueArray(fc.tuple(account, fc.oneof(fc.constant(10n ** 16n), fc.bigInt({ min: 0n, max: 10n ** 22n }))), { maxLength: 4, selector: (x) => x[0] }),
      signers: signersArb,
      snapshotBack: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(3) }),
      epochSkip: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: 3 }) }),
    }).map((o): Action => ({ type: "report", ...o })),
  },
  { weight: 1, arbitrary: fc.record({ back: fc.nat(3), signers: signersArb, salt: fc.bigInt({ min: 1n, max: 1000n }) }).map((o): Action => ({ type: "conflict", ...o })) },
)
const stepsArb = fc.array(fc.record({ dt: dtArb, action: actionArb }), { minLength: 1, maxLength: 24 })

/** Toy signatures, or none when the report cannot even be hashed (an epoch below 1): the ledger must refuse it first. */
const signaturesOf = (snap: Snapshot, report: EpochReport, operators: readonly string[]) => {
  try {
    return toySignatures(snap, report, operators)
  } catch {
    return []
  }
}

const pickSigners = (snap: Snapshot, s: Signers): string[] => {
  if (s.kind === "quorum") return quorumSigners(snap)
  if (s.kind === "all") return snap.validators.map((v) => v.operator)
  return snap.validators.filter((_, i) => (s.mask >> i) & 1).map((v) => v.operator)
}

/** What the test keeps to check bounds the ledger's own state cannot show. */
interface Model {
  released: bigint
  due: bigint
  lastTo: bigint
  readonly genesisSec: bigint
  accepted: number
  refused: number
  doubleSigners: number
}

const checkState = (e: Economy): void => {
  expect(invariantViolations(e)).toEqual([])
  const snap = e.snapshot()
  const deposits = Object.values(snap.committee.feeDeposits)
  expect(deposits.every((d) => d > 0n)).toBe(true)
  expect(deposits.reduce((t, d) => t + d, 0n)).toBe(snap.committee.feeDepositTotal)
  expect(e.balanceOf(FEE_ESCROW_ACCOUNT)).toBe(snap.committee.feeDepositTotal)
}

/** Apply one action at `now`, checking what each must guarantee. */
const act = (e: Economy, m: Model, a: Action, now: number): void => {
  const before = snapshotKey(e.snapshot())
  const refused = (r: Result.Result<unknown, unknown>) => {
    if (Result.isFailure(r)) {
      m.refused++
      expect(snapshotKey(e.snapshot())).toBe(before)
    }
  }
  switch (a.type) {
    case "econ": return refused(e.apply(resolveSpec(e, a.spec, now), now))
    case "snapshot": return refused(e.takeSnapshot("anyone", now))
    case "deposit": return refused(e.depositFees(a.account, a.amount, now))
    case "askWithdrawal": return refused(e.requestFeeWithdrawal(a.account, (e.feeDeposit(a.account) * BigInt(a.per)) / 100n, now))
    case "withdraw": {
      const deposit = e.feeDeposit(a.account)
      const r = e.withdrawFees(a.account, now)
      refused(r)
      if (Result.isSuccess(r)) expect(r.success.amount).toBeLessThanOrEqual(deposit)
      return
    }
    case "report": {
      const latest = e.latestSnapshot()
      if (latest === undefined) return
      const snap = e.committeeSnapshot(Math.max(1, latest.id - a.snapshotBack))!
      const last = e.epochReport(e.committeeTotals().lastEpoch)
      const report: EpochReport = {
        epoch: e.committeeTotals().lastEpoch + a.epochSkip, snapshotId: snap.id, fromTime: last?.report.toTime ?? 0, toTime: now,
        downtime: snap.validators.filter((_, i) => (a.downtimeMask >> i) & 1).map((v) => v.operator),
        scored: a.scored.map((x) => x[0]), scores: a.scored.map((x) => x[1]), feePayers: a.fees.map((x) => x[0]), fees: a.fees.map((x) => x[1]),
      }
      const reserve = e.balanceOf(RESERVE_ACCOUNT)
      const deposits = new Map(report.feePayers.map((p) => [p, e.feeDeposit(p)]))
      const r = e.submitEpochReport(report, signaturesOf(snap, report, pickSigners(snap, a.signers)), "d0", ctx, now)
      refused(r)
      if (Result.isFailure(r)) return
      m.accepted++
      const em = r.success.settlement.emission
      expect(em.released).toBeLessThanOrEqual(reserve)
      expect(em.released).toBeLessThanOrEqual(em.due)
      expect(e.balanceOf(RESERVE_ACCOUNT)).toBe(reserve - em.released)
      m.released += em.released
      m.due += em.due
      if (em.to > m.lastTo) m.lastTo = em.to
      // Σ floor(a·dᵢ/Y) ≤ floor(a·Σdᵢ/Y): never more than the elapsed seconds allow.
      expect(m.due).toBeLessThanOrEqual((tokens(e.params["rewards.annualEmission"]) * (m.lastTo - m.genesisSec)) / YEAR_SECONDS)
      for (const p of r.success.settlement.fees.payments) {
        expect(p.paid).toBeLessThanOrEqual(p.ordered)
        expect(p.paid).toBeLessThanOrEqual(deposits.get(p.payer)!)
        expect(e.feeDeposit(p.payer)).toBe(deposits.get(p.payer)! - p.paid)
      }
      return
    }
    case "conflict": {
      const lastEpoch = e.committeeTotals().lastEpoch
      const accepted = e.epochReport(Math.max(1, lastEpoch - a.back))
      if (accepted === undefined) return
      const snap = e.committeeSnapshot(accepted.report.snapshotId)!
      const forged = { ...accepted.report, fees: [...accepted.report.fees, a.salt], feePayers: [...accepted.report.feePayers, `forged${a.salt}`] }
      const signers = pickSigners(snap, a.signers)
      const tombstonedBefore = new Set(e.pools().filter((p) => p.tombstoned).map((p) => p.id))
      const r = e.reportConflict(forged, toySignatures(snap, forged, signers), "d1", ctx, now)
      refused(r)
      const signedBoth = signers.filter((op) => accepted.signers.includes(op))
      const slashed = Result.isSuccess(r) ? r.success.slashes.map((s) => s.pool) : []
      m.doubleSigners += slashed.length
      expect(slashed.every((op) => signedBoth.includes(op))).toBe(true)
      // Every double signer not tombstoned before is slashed now; nobody else is tombstoned.
      expect(e.pools().filter((p) => p.tombstoned && !tombstonedBefore.has(p.id)).map((p) => p.id).sort()).toEqual([...slashed].sort())
      for (const op of signedBoth) if (!tombstonedBefore.has(op)) expect(slashed).toContain(op)
    }
  }
}

describe("committee ledger (properties)", () => {
  it("conserves supply, keeps deposits, emission and fees within bounds; refusals change nothing", () => {
    let accepted = 0
    let refused = 0
    let doubleSigners = 0
    fc.assert(
      fc.property(stepsArb, (steps) => {
        ENV.tick()
        const e = start()
        const m: Model = { released: 0n, due: 0n, lastTo: 0n, genesisSec: 0n, accepted: 0, refused: 0, doubleSigners: 0 }
        let now = 0
        for (const s of steps) {
          now += s.dt
          act(e, m, s.action, now)
          checkState(e)
        }
        accepted += m.accepted
        refused += m.refused
        doubleSigners += m.doubleSigners
      }),
      ENV.params,
    )
    console.info(`committee: ${accepted} reports accepted, ${doubleSigners} double signers slashed, ${refused} operations refused over ${ENV.runs} sequences`)
    expect(accepted).toBeGreaterThan(0)
  }, TIMEOUT)

  type Defect = "belowQuorum" | "unknownSnapshot" | "malformed" | "badSignature"
  it("a report below quorum, for an unknown snapshot, badly formed or badly signed is refused with why; fixed, it is accepted; repeated, refused", () => {
    fc.assert(
      fc.property(stepsArb, fc.constantFrom<Defect>("belowQuorum", "unknownSnapshot", "malformed", "badSignature"), (steps, defect) => {
        ENV.tick()
        const e = start()
        const m: Model = { released: 0n, due: 0n, lastTo: 0n, genesisSec: 0n, accepted: 0, refused: 0, doubleSigners: 0 }
        let now = 0
        for (const s of steps) {
          now += s.dt
          act(e, m, s.action, now)
        }
        now += 1_000
        const snap = ok(e.takeSnapshot("anyone", now))
        fc.pre(snap.validators.length > 0)
        const last = e.epochReport(e.committeeTotals().lastEpoch)
        const report = emptyReport(e.committeeTotals().lastEpoch + 1, snap.id, last?.report.toTime ?? 0, now)
        const signers = quorumSigners(snap)
        const before = snapshotKey(e.snapshot())
        const expected: Record<Defect, string> = {
          belowQuorum: "CommitteeInsufficientPower", unknownSnapshot: "CommitteeUnknownSnapshot", malformed: "CommitteeBadReport", badSignature: "CommitteeBadSignature",
        }
        const bad =
          defect === "belowQuorum" ? e.submitEpochReport(report, toySignatures(snap, report, signers.slice(0, -1)), "d0", ctx, now)
          : defect === "unknownSnapshot" ? e.submitEpochReport({ ...report, snapshotId: snap.id + 1 }, [], "d0", ctx, now)
          : defect === "malformed" ? e.submitEpochReport({ ...report, scored: ["c0"] }, toySignatures(snap, report, signers), "d0", ctx, now)
          : e.submitEpochReport(report, toySignatures(snap, { ...report, toTime: now - 1_000 }, signers), "d0", ctx, now)
        expect(Result.isFailure(bad) && bad.failure._tag).toBe(expected[defect])
        expect(Result.isFailure(bad) && bad.failure.message.length).toBeGreaterThan(20)
        expect(snapshotKey(e.snapshot())).toBe(before)
        ok(e.submitEpochReport(report, toySignatures(snap, report, signers), "d0", ctx, now))
        const after = snapshotKey(e.snapshot())
        const again = e.submitEpochReport(report, toySignatures(snap, report, signers), "d0", ctx, now)
        expect(Result.isFailure(again) && again.failure._tag).toBe("CommitteeEpochReported")
        expect(snapshotKey(e.snapshot())).toBe(after)
      }),
      { ...ENV.params, numRuns: Math.max(1, Math.ceil(ENV.runs / 2)) },
    )
  }, TIMEOUT)
})
