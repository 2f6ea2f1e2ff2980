/**
 * Chain compliance, the committee (snapshots, fee deposits, epoch reports, conflicting reports):
 * every backend must take the same snapshots, settle the same signed report and refuse the same
 * bad ones with the same tagged errors, leaving the state as it was. Signatures are real secp256k1
 * over core/committee `reportDigest` (the contract recovers them), with the backend's consensus
 * chain id and ledger address (the Committee contract's; the zero address in the simulator).
 *
 * Times: a report's times are taken from the snapshot's (the ledger's clock) plus what the test
 * advanced, so no test assumes an absolute time.
 */
import { Effect, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { reportDigest } from "../../../core/committee/digest.ts"
import type { EpochReport, ReportSignature, Snapshot } from "../../../core/committee/types.ts"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes } from "../../../core/crypto.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../../core/units.ts"
import type { TestSetup } from "../test-setup.ts"
import { type ChainHarness, ok, run, state } from "./harness.ts"

/** A chain at genesis (harness.ts) whose committee checks reports of `consensusChainId` for the ledger at `ledgerAddress`. */
export interface CommitteeHarness extends ChainHarness {
  readonly consensusChainId: bigint
  /** The address in the digest: the Committee contract's, or the zero address in the simulator. */
  readonly ledgerAddress: string
}

export type CommitteeSetup = TestSetup<CommitteeHarness>

const keyOf = (name: string) => keccak256(utf8ToBytes(`dai-test/compliance/committee/${name}`))
const VALIDATORS = ["v0", "v1", "v2"] as const

/** The error an effect fails with (throws if it succeeds). */
const refusal = async (e: Effect.Effect<unknown, unknown>): Promise<{ readonly _tag: string; readonly message: string }> => {
  const r = await run(Effect.result(e))
  if (Result.isSuccess(r)) throw new Error("expected a refusal")
  return r.failure as { readonly _tag: string; readonly message: string }
}

/** Three validators with their own secp256k1 signing keys, a trainer, a delegation; then a snapshot. */
const committee = async (h: CommitteeHarness): Promise<Snapshot> => {
  for (const [i, v] of VALIDATORS.entries()) {
    await ok(h.chain, { type: "registerValidator", operator: v, amount: BigInt(30 + 10 * i) * 1_000n * TOKEN, tier: 0, commission: 0n, signingKey: addressOfPrivateKey(keyOf(v)) })
  }
  await ok(h.chain, { type: "bondContributor", owner: "c0", amount: 500n * TOKEN, tier: 0 })
  await h.advance(1_000)
  return run(h.chain.snapshot("d0"))
}

const sign = (h: CommitteeHarness, report: EpochReport, signers: readonly string[]): ReportSignature[] => {
  const digest = reportDigest(h.consensusChainId, h.ledgerAddress, report)
  return signers.map((v) => ({ signer: addressOfPrivateKey(keyOf(v)), signature: toHex(signDigest(keyOf(v), digest)) }))
}

/** The supply identity (fee deposits and the reserve are balances of accounts the ledger holds). */
const expectSupply = async (h: CommitteeHarness, step: string) => {
  const s = await run(h.chain.supply)
  expect(s.minted, step).toBe(TOTAL_SUPPLY)
  expect(s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt, `${step}: supply identity`).toBe(s.minted)
}

/** The committee tests, each on a fresh chain from `common`. */
export const committeeTests = (common: CommitteeSetup): void => {
  describe("committee", () => {
    afterEach(() => common.teardown())

    it("a snapshot records the active validators with their signing keys and voting power, the trainers; it never changes", async () => {
      const h = await common.setup()
      const snap = await committee(h)
      expect(snap.id).toBe(1)
      expect([...snap.validators].map((v) => v.operator).sort()).toEqual([...VALIDATORS])
      for (const v of snap.validators) {
        expect(v.signingKey.toLowerCase()).toBe(addressOfPrivateKey(keyOf(v.operator)))
        expect(v.power).toBeGreaterThan(0n)
        expect(v.contribution).toBe(0n)
      }
      expect(snap.totalPower).toBe(snap.validators.reduce((t, v) => t + v.power, 0n))
      expect(snap.quorum).toBe((snap.totalPower * 2n) / 3n + 1n)
      expect(snap.trainers).toEqual([{ owner: "c0", stake: 500n * TOKEN }])
      await ok(h.chain, { type: "delegate", owner: "d0", validator: "v0", amount: 10_000n * TOKEN, tier: 0 })
      await h.advance(1_000)
      const second = await run(h.chain.snapshot("d1"))
      expect(second.id).toBe(2)
      expect((await run(h.chain.latestSnapshot))?.id).toBe(2)
      expect((await run(h.chain.committee(1)))?.validators).toEqual(snap.validators)
      expect(await run(h.chain.committee(3))).toBeUndefined()
    })

    it("a report signed by more than 2/3 of the snapshot's power settles: fees from the deposit, the pot to the scored, downtime slashed", async () => {
      const h = await common.setup()
      const snap = await committee(h)
      await ok(h.chain, { type: "transfer", from: "d1", to: "d1", amount: 1n }) // a plain op between, as on a live chain
      expect(await run(h.chain.depositFees("d1", 5n * TOKEN))).toMatchObject({ account: "d1", amount: 5n * TOKEN, deposit: 5n * TOKEN })
      await h.advance(3_600_000)
      const report: EpochReport = {
        epoch: 1, snapshotId: snap.id, fromTime: snap.time, toTime: snap.time + 3_600_000, downtime: ["v0"], scored: ["c0"], scores: [7n],
        feePayers: ["d1"], fees: [2n * TOKEN],
      }
      const c0 = await run(h.chain.balanceOf("c0"))
      const r = await run(h.chain.submitEpochReport(report, sign(h, report, VALIDATORS), "d2"))
      expect(r).toMatchObject({ epoch: 1, snapshotId: snap.id, power: snap.totalPower, totalPower: snap.totalPower })
      expect(r.slashes.map((s) => [s.pool, s.infraction])).toEqual([["v0", "downtime"]])
      expect((await run(h.chain.pools)).find((p) => p.id === "v0")?.jailed).toBe(true)
      expect(await run(h.chain.feeDeposit("d1"))).toBe(3n * TOKEN)
      expect(r.settlement.fees).toMatchObject({ paid: 2n * TOKEN, unpaid: 0n })
      const payout = r.settlement.emission.payouts[0]!.amount
      expect(payout).toBe(r.settlement.emission.pot)
      expect((await run(h.chain.balanceOf("c0"))) - c0).toBe(payout)
      expect(await run(h.chain.epochReport(1))).toMatchObject({ report, digest: r.digest, power: snap.totalPower })
      await expectSupply(h, "after the settlement")
      // The report's scores are the next snapshot's contributions (c0 is no validator: all stay 0).
      await h.advance(1_000)
      expect((await run(h.chain.snapshot("d0"))).validators.every((v) => v.contribution === 0n)).toBe(true)
    })

    it("refuses, changing nothing: 2/3 or less, an unknown signer, a signer twice, a bad signature, an unknown snapshot, a bad form, a repeat", async () => {
      const h = await common.setup()
      const snap = await committee(h)
      await h.advance(60_000)
      const report: EpochReport = { epoch: 1, snapshotId: snap.id, fromTime: snap.time, toTime: snap.time + 60_000, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }
      const smallest = [...snap.validators].sort((a, b) => (a.power < b.power ? -1 : 1))
      const below = smallest.slice(0, 2).map((v) => v.operator)
      const before = await state(h.chain)
      const tagOf = async (r: EpochReport, sigs: ReportSignature[]) => (await refusal(h.chain.submitEpochReport(r, sigs, "d0")))._tag
      if (smallest[0]!.power + smallest[1]!.power < snap.quorum) expect(await tagOf(report, sign(h, report, below))).toBe("CommitteeInsufficientPower")
      const stranger = { signer: addressOfPrivateKey(keyOf("z")), signature: toHex(signDigest(keyOf("z"), reportDigest(h.consensusChainId, h.ledgerAddress, report))) }
      expect(await tagOf(report, [...sign(h, report, VALIDATORS), stranger])).toBe("CommitteeUnknownSigner")
      expect(await tagOf(report, sign(h, report, ["v0", "v1", "v2", "v0"]))).toBe("CommitteeDuplicateSigner")
      // A signature of another report: the contract recovers some other address (an unknown signer); a ledger
      // that checks the claimed signer (the simulator's) finds the signature wrong. Both refuse.
      expect(["CommitteeUnknownSigner", "CommitteeBadSignature"]).toContain(await tagOf(report, sign(h, { ...report, toTime: report.toTime - 1_000 }, VALIDATORS)))
      expect(await tagOf({ ...report, snapshotId: 9 }, sign(h, { ...report, snapshotId: 9 }, VALIDATORS))).toBe("CommitteeUnknownSnapshot")
      expect(await tagOf({ ...report, scored: ["c0"] }, [])).toMatch(/^Committee/)
      expect(await state(h.chain)).toEqual(before)
      expect(await run(h.chain.epochReport(1))).toBeUndefined()
      await run(h.chain.submitEpochReport(report, sign(h, report, VALIDATORS), "d0"))
      const after = await state(h.chain)
      expect(await tagOf(report, sign(h, report, VALIDATORS))).toBe("CommitteeEpochReported")
      expect(await state(h.chain)).toEqual(after)
    })

    it("a conflicting report slashes and tombstones exactly the validators that signed both, once", async () => {
      const h = await common.setup()
      const snap = await committee(h)
      await h.advance(60_000)
      const report: EpochReport = { epoch: 1, snapshotId: snap.id, fromTime: snap.time, toTime: snap.time + 60_000, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }
      await run(h.chain.submitEpochReport(report, sign(h, report, ["v1", "v2", "v0"]), "d0"))
      await h.advance(1_000)
      const forged = { ...report, downtime: ["v0"] }
      const r = await run(h.chain.reportConflict(forged, sign(h, forged, ["v1", "v2"]), "d1"))
      expect(r.slashes.map((s) => [s.pool, s.infraction, s.tombstoned])).toEqual([["v1", "doubleSign", true], ["v2", "doubleSign", true]])
      expect((await run(h.chain.pools)).filter((p) => p.tombstoned).map((p) => p.id).sort()).toEqual(["v1", "v2"])
      const after = await state(h.chain)
      expect((await refusal(h.chain.reportConflict(forged, sign(h, forged, ["v1"]), "d1")))._tag).toBe("CommitteeNotConflicting")
      expect((await refusal(h.chain.reportConflict(report, sign(h, report, ["v0"]), "d1")))._tag).toBe("CommitteeNotConflicting")
      expect(await state(h.chain)).toEqual(after)
      await expectSupply(h, "after the conflict")
    })
  })
}
