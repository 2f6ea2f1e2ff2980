/**
 * The committee side of the ledger: signing keys at registration, snapshots, fee deposits, epoch
 * reports settled or refused (changing nothing), and conflicting reports slashing the double
 * signers. Properties over random sequences are in committee.properties.test.ts.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { accountWord, conflictEvidenceId, downtimeEvidenceId } from "../committee/digest.ts"
import { emptyReport, quorumSigners, TEST_CHAIN_ID, toySignatures, toyVerify } from "../committee/testkit.ts"
import type { EpochReport } from "../committee/types.ts"
import { votingPowers, powerParams } from "../consensus/power.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, WAD } from "../units.ts"
import { FEE_ESCROW_ACCOUNT, FEE_WITHDRAWAL_DELAY_MS, RESERVE_ACCOUNT } from "./committee.ts"
import type { Economy } from "./economy.ts"
import { failTag, invariantViolations, ok, snapshotKey, testEconomy } from "./testkit.ts"
import { REWARD_RESERVE_ACCOUNT } from "../app/genesis.ts"

const ctx = { chainId: TEST_CHAIN_ID, verify: toyVerify }
const keyOf = (operator: string) => accountWord(`key:${operator}`)

/** v0..v3 registered with their own keys (stakes 40k, 30k, 20k, 10k), c0 a trainer, d0 a delegator of v0. */
const committeeEconomy = (): Economy => {
  const e = testEconomy()
  ;[40n, 30n, 20n, 10n].forEach((k, i) => {
    const operator = i < 3 ? `v${i}` : "d2"
    ok(e.apply({ type: "registerValidator", operator, amount: k * 1_000n * TOKEN, tier: 0, commission: 0n, signingKey: keyOf(operator) }, 0))
  })
  ok(e.apply({ type: "bondContributor", owner: "c0", amount: 500n * TOKEN, tier: 0 }, 0))
  ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * TOKEN, tier: 0 }, 0))
  return e
}

const unchanged = (e: Economy, f: () => unknown): void => {
  const before = snapshotKey(e.snapshot())
  f()
  expect(snapshotKey(e.snapshot())).toBe(before)
}

const supplyParts = (e: Economy): bigint => {
  const s = e.supply()
  return s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt
}

it("releases emission from the genesis reward reserve's account", () => {
  expect(RESERVE_ACCOUNT).toBe(REWARD_RESERVE_ACCOUNT)
})

describe("registerValidator's signing key", () => {
  it("records the given key (lowercased), or the operator's chain address by default", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n, signingKey: "0x00000000000000000000000000000000000000AB" }, 0))
    ok(e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))
    expect(e.signingKeyOf("v0")).toBe("0x00000000000000000000000000000000000000ab")
    expect(e.signingKeyOf("v1")).toBe(accountWord("v1"))
  })

  it("refuses a malformed or zero key and a key another validator holds, changing nothing", () => {
    const e = testEconomy()
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n, signingKey: keyOf("v0") }, 0))
    const reg = (signingKey: string) => e.apply({ type: "registerValidator", operator: "v1", amount: 10_000n * TOKEN, tier: 0, commission: 0n, signingKey }, 0)
    unchanged(e, () => {
      expect(failTag(reg("0x1234"))).toBe("StakingInvalidSigningKey")
      expect(failTag(reg(`0x${"0".repeat(40)}`))).toBe("StakingInvalidSigningKey")
      expect(failTag(reg(keyOf("v0").toUpperCase().replace("0X", "0x")))).toBe("StakingSigningKeyInUse")
    })
    const r = reg(keyOf("v0"))
    expect(Result.isFailure(r) && r.failure.message).toContain("already registered by validator v0")
  })
})

describe("snapshots", () => {
  it("record active validators with votingPowers' power, the trainers, the params; ids count up; never change", () => {
    const e = committeeEconomy()
    const s1 = ok(e.takeSnapshot("anyone", 1_000))
    expect(s1.id).toBe(1)
    const expected = votingPowers(
      e.pools().filter((p) => p.kind === "validator").map((p) => ({ address: p.operator, stake: p.tokens, multiplierWad: WAD, contribution: 0n })),
      powerParams(DEFAULT_PARAMS),
    )
    expect(s1.validators.map((v) => ({ address: v.operator, power: v.power }))).toEqual(expected)
    expect(s1.validators.find((v) => v.operator === "v0")).toMatchObject({ signingKey: keyOf("v0"), stake: 41_000n * TOKEN, multiplierWad: WAD, contribution: 0n })
    expect(s1.trainers).toEqual([{ owner: "c0", stake: 500n * TOKEN }])
    expect(s1.params).toBe(DEFAULT_PARAMS)
    expect(s1.totalPower).toBe(s1.validators.reduce((t, v) => t + v.power, 0n))
    expect(s1.quorum).toBe((s1.totalPower * 2n) / 3n + 1n)
    const frozen = JSON.stringify(s1, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))
    ok(e.apply({ type: "slash", pool: "v1", infraction: "downtime", infractionTime: 1_000, evidenceId: "x" }, 2_000))
    const s2 = ok(e.takeSnapshot("anyone", 2_000))
    expect(s2.id).toBe(2)
    expect(s2.validators.map((v) => v.operator)).not.toContain("v1") // jailed validators leave
    expect(JSON.stringify(e.committeeSnapshot(1), (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))).toBe(frozen)
    expect(e.latestSnapshot()).toBe(s2)
    expect(e.committeeSnapshot(3)).toBeUndefined()
  })
})

describe("fee deposits", () => {
  it("move tokens into the escrow and count per account; a deposit beyond the balance changes nothing", () => {
    const e = committeeEconomy()
    const r = ok(e.depositFees("d1", 5n * TOKEN, 0))
    expect(r).toEqual({ type: "depositFees", account: "d1", amount: 5n * TOKEN, deposit: 5n * TOKEN })
    expect(e.feeDeposit("d1")).toBe(5n * TOKEN)
    expect(e.balanceOf(FEE_ESCROW_ACCOUNT)).toBe(5n * TOKEN)
    unchanged(e, () => {
      expect(failTag(e.depositFees("d1", 10n ** 30n, 0))).toBe("TokenInsufficientBalance")
      expect(failTag(e.depositFees("d1", 0n, 0))).toBe("TokenInvalidAmount")
      expect(failTag(e.depositFees("", 1n, 0))).toBe("TokenInvalidAddress")
    })
  })
})

describe("fee withdrawals", () => {
  it("pay back what was asked a day later, or what fees have left of it; early, unasked or too much changes nothing", () => {
    const e = committeeEconomy()
    ok(e.depositFees("d1", 5n * TOKEN, 0))
    unchanged(e, () => {
      expect(failTag(e.withdrawFees("d1", 0))).toBe("CommitteeNoWithdrawal")
      expect(failTag(e.requestFeeWithdrawal("d1", 6n * TOKEN, 0))).toBe("CommitteeInsufficientDeposit")
      expect(failTag(e.requestFeeWithdrawal("d1", 0n, 0))).toBe("TokenInvalidAmount")
    })
    expect(ok(e.requestFeeWithdrawal("d1", 4n * TOKEN, 1_000))).toMatchObject({ amount: 4n * TOKEN, readyAt: 1_000 + FEE_WITHDRAWAL_DELAY_MS })
    unchanged(e, () => expect(failTag(e.withdrawFees("d1", FEE_WITHDRAWAL_DELAY_MS))).toBe("CommitteeWithdrawalNotReady"))
    // A report charges 2 of the 5 in the meantime: 3 are left, so 3 come back, not 4.
    const snap = ok(e.takeSnapshot("v0", 2_000))
    const report = { ...emptyReport(1, snap.id, 0, 2_000), feePayers: ["d1"], fees: [2n * TOKEN] }
    ok(e.submitEpochReport(report, toySignatures(snap, report, quorumSigners(snap)), "v0", ctx, 2_000))
    const before = e.balanceOf("d1")
    expect(ok(e.withdrawFees("d1", 1_000 + FEE_WITHDRAWAL_DELAY_MS))).toEqual({ type: "withdrawFees", account: "d1", amount: 3n * TOKEN, deposit: 0n })
    expect(e.balanceOf("d1") - before).toBe(3n * TOKEN)
    expect(e.feeDeposit("d1")).toBe(0n)
    expect(e.balanceOf(FEE_ESCROW_ACCOUNT)).toBe(0n)
    expect(supplyParts(e)).toBe(e.supply().minted)
  })
})

describe("epoch reports", () => {
  const setup = () => {
    const e = committeeEconomy()
    const snap = ok(e.takeSnapshot("v0", 0))
    ok(e.depositFees("d1", 2n * TOKEN, 0))
    const report: EpochReport = {
      ...emptyReport(1, snap.id, 0, 3_600_000), downtime: ["d2"], scored: ["c0", "v1"], scores: [3n, 1n], feePayers: ["d1"], fees: [TOKEN],
    }
    return { e, snap, report }
  }

  it("settle: the downtime offender is slashed and jailed, emission leaves the reserve, fees leave the deposits; supply is conserved", () => {
    const { e, snap, report } = setup()
    const reserve = e.balanceOf(RESERVE_ACCOUNT)
    const c0 = e.balanceOf("c0")
    const r = ok(e.submitEpochReport(report, toySignatures(snap, report, quorumSigners(snap)), "v0", ctx, 3_600_000))
    expect(r.slashes.map((s) => [s.pool, s.infraction, s.evidenceId])).toEqual([["d2", "downtime", downtimeEvidenceId(1, "d2")]])
    expect(e.pool("d2")?.jailed).toBe(true)
    const emission = r.settlement.emission
    expect(emission.due).toBe((20_000_000n * TOKEN * 3_600n) / 31_536_000n)
    expect(e.balanceOf(RESERVE_ACCOUNT)).toBe(reserve - emission.released)
    expect(e.balanceOf("c0") - c0).toBe(emission.payouts[0]!.amount)
    expect(e.feeDeposit("d1")).toBe(TOKEN)
    expect(r.settlement.fees).toMatchObject({ paid: TOKEN, burnt: (TOKEN * 3n) / 10n })
    expect(supplyParts(e)).toBe(e.supply().minted)
    expect(invariantViolations(e)).toEqual([])
    expect(e.epochReport(1)).toMatchObject({ digest: r.digest, signers: quorumSigners(snap), submitter: "v0", acceptedAt: 3_600_000 })
    // The report's scores are the next snapshot's contributions.
    const next = ok(e.takeSnapshot("v0", 3_600_000))
    expect(next.validators.find((v) => v.operator === "v1")?.contribution).toBe(1n)
    expect(next.validators.find((v) => v.operator === "v0")?.contribution).toBe(0n)
  })

  it("refuse, changing nothing: unknown snapshot, badly formed, below quorum, bad signer, repeated, conflicting, stale", () => {
    const { e, snap, report } = setup()
    const signers = quorumSigners(snap)
    const submit = (r: EpochReport, who: readonly string[] = signers, now = 3_600_000) => e.submitEpochReport(r, toySignatures(snap, r, who), "v0", ctx, now)
    unchanged(e, () => {
      expect(failTag(e.submitEpochReport({ ...report, snapshotId: 9 }, [], "v0", ctx, 3_600_000))).toBe("CommitteeUnknownSnapshot")
      expect(failTag(e.submitEpochReport(null as never, [], "v0", ctx, 3_600_000))).toBe("CommitteeBadReport")
      expect(failTag(e.reportConflict(null as never, [], "v0", ctx, 3_600_000))).toBe("CommitteeBadReport")
      expect(failTag(submit({ ...report, scores: [1n] }))).toBe("CommitteeBadReport")
      expect(failTag(submit(report, signers, 3_599_999))).toBe("CommitteeBadReport")
      expect(failTag(submit(report, signers.slice(0, -1)))).toBe("CommitteeInsufficientPower")
      expect(failTag(e.submitEpochReport(report, [...toySignatures(snap, report, signers), { signer: keyOf("nobody"), signature: "0x" }], "v0", ctx, 3_600_000))).toBe("CommitteeUnknownSigner")
      expect(failTag(e.submitEpochReport(report, toySignatures(snap, report, [...signers, signers[0]!]), "v0", ctx, 3_600_000))).toBe("CommitteeDuplicateSigner")
      expect(failTag(e.submitEpochReport(report, toySignatures(snap, { ...report, fees: [2n] }, signers), "v0", ctx, 3_600_000))).toBe("CommitteeBadSignature")
      expect(failTag(e.submitEpochReport(report, toySignatures(snap, report, signers, TEST_CHAIN_ID + 1n), "v0", ctx, 3_600_000))).toBe("CommitteeBadSignature")
    })
    ok(submit(report))
    unchanged(e, () => {
      const again = submit(report)
      expect(failTag(again)).toBe("CommitteeEpochReported")
      expect(Result.isFailure(again) && again.failure.message).toContain("this very report")
      const other = submit({ ...report, fees: [2n] })
      expect(Result.isFailure(other) && other.failure.message).toContain("reportConflict")
    })
    ok(submit({ ...emptyReport(3, snap.id, 3_600_000, 3_600_000) }))
    unchanged(e, () => expect(failTag(submit(emptyReport(2, snap.id, 3_600_000, 3_600_000)))).toBe("CommitteeStaleEpoch"))
  })

  it("refuse a report naming a snapshot older than the last accepted report's", () => {
    const { e, snap, report } = setup()
    const newer = ok(e.takeSnapshot("v0", 1))
    const r2 = emptyReport(1, newer.id, 0, 2)
    ok(e.submitEpochReport(r2, toySignatures(newer, r2, quorumSigners(newer)), "v0", ctx, 2))
    const old = { ...report, epoch: 2, fromTime: 2, toTime: 3 }
    unchanged(e, () => expect(failTag(e.submitEpochReport(old, toySignatures(snap, old, quorumSigners(snap)), "v0", ctx, 3))).toBe("CommitteeStaleSnapshot"))
  })
})

describe("conflicting reports", () => {
  it("slash exactly the validators that signed both, once; nothing else moves", () => {
    const e = committeeEconomy()
    const snap = ok(e.takeSnapshot("v0", 0))
    const accepted = emptyReport(1, snap.id, 0, 1_000)
    ok(e.submitEpochReport(accepted, toySignatures(snap, accepted, ["v0", "v1", "v2"]), "v0", ctx, 1_000))
    const forged = { ...accepted, downtime: ["v0"] }
    // v1 and v2 signed the accepted report too; d2 did not.
    const r = ok(e.reportConflict(forged, toySignatures(snap, forged, ["v1", "d2", "v2"]), "d0", ctx, 2_000))
    expect(r.slashes.map((s) => [s.pool, s.infraction, s.evidenceId, s.tombstoned])).toEqual([
      ["v1", "doubleSign", conflictEvidenceId(1, "v1"), true], ["v2", "doubleSign", conflictEvidenceId(1, "v2"), true],
    ])
    expect(e.pools().filter((p) => p.tombstoned).map((p) => p.id)).toEqual(["v1", "v2"])
    expect(supplyParts(e)).toBe(e.supply().minted)
    unchanged(e, () => {
      const notConflicting = (r: ReturnType<Economy["reportConflict"]>, reason: RegExp) => {
        expect(failTag(r)).toBe("CommitteeNotConflicting")
        expect(Result.isFailure(r) && r.failure.message).toMatch(reason)
      }
      notConflicting(e.reportConflict(forged, toySignatures(snap, forged, ["v1"]), "d0", ctx, 2_000), /no unslashed signer/) // slashed once only
      notConflicting(e.reportConflict(accepted, toySignatures(snap, accepted, ["v0"]), "d0", ctx, 2_000), /the accepted report itself/)
      notConflicting(e.reportConflict(forged, toySignatures(snap, forged, ["d2"]), "d0", ctx, 2_000), /no unslashed signer/) // d2 signed only one
      notConflicting(e.reportConflict({ ...forged, epoch: 2 }, toySignatures(snap, { ...forged, epoch: 2 }, ["v0"]), "d0", ctx, 2_000), /no accepted report/)
      const badSig = [{ signer: keyOf("v0"), signature: toySignatures(snap, accepted, ["v0"])[0]!.signature }]
      expect(failTag(e.reportConflict(forged, badSig, "d0", ctx, 2_000))).toBe("CommitteeBadSignature")
      expect(failTag(e.reportConflict(forged, toySignatures(snap, forged, ["v0", "v0"]), "d0", ctx, 2_000))).toBe("CommitteeDuplicateSigner")
    })
  })
})
