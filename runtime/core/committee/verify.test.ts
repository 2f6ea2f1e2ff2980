/** verifyReport and checkReport: who may sign, with what power, and every refusal saying why. */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes, verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { reportDigest, ZERO_ADDRESS } from "./digest.ts"
import { emptyReport } from "./testkit.ts"
import type { ReportSignature, Snapshot } from "./types.ts"
import { checkReport, quorumOf, verifyReport } from "./verify.ts"

const keyOf = (name: string) => keccak256(utf8ToBytes(`test-key/${name}`))
const names = ["a", "b", "c", "d"]
const powers = [40n, 30n, 20n, 10n]
const snapshot: Snapshot = {
  id: 2, time: 1_000, params: DEFAULT_PARAMS, totalPower: 100n, quorum: quorumOf(100n), trainers: [],
  validators: names.map((n, i) => ({
    operator: n, signingKey: addressOfPrivateKey(keyOf(n)), stake: powers[i]! * 10n ** 18n, multiplierWad: 10n ** 18n, contribution: 0n, power: powers[i]!,
  })),
}
const report = { ...emptyReport(5, 2, 0, 60_000), downtime: ["d"], scored: ["t0"], scores: [3n], feePayers: ["a"], fees: [10n] }
const digest = reportDigest(1n, ZERO_ADDRESS, report)
const sig = (n: string, d: Uint8Array = digest): ReportSignature => ({ signer: addressOfPrivateKey(keyOf(n)), signature: toHex(signDigest(keyOf(n), d)) })
const tag = <A, E extends { _tag: string }>(r: Result.Result<A, E>) => (Result.isFailure(r) ? r.failure._tag : "ok")

describe("verifyReport (secp256k1 signatures, as the contract recovers them)", () => {
  it("accepts distinct valid signers holding more than 2/3 of the power, and counts it", () => {
    expect(snapshot.quorum).toBe(67n)
    const r = Result.getOrThrow(verifyReport(snapshot, digest, [sig("a"), sig("b")], verifySignature))
    expect(r).toMatchObject({ power: 70n, total: 100n, quorum: 67n, signers: ["a", "b"] })
  })

  it("refuses exactly 2/3 or less, with the numbers", () => {
    const r = verifyReport(snapshot, digest, [sig("a"), sig("c")], verifySignature)
    expect(tag(r)).toBe("CommitteeInsufficientPower")
    const e = Result.isFailure(r) ? r.failure : undefined
    expect(e).toMatchObject({ power: 60n, quorum: 67n, total: 100n, signers: 2 })
    expect(e?.message).toContain("needs at least 67")
    expect(tag(verifyReport(snapshot, digest, [], verifySignature))).toBe("CommitteeInsufficientPower")
  })

  it("refuses an unknown signer, a signer twice, and a signature of another report or by another key", () => {
    const stranger = { signer: addressOfPrivateKey(keyOf("z")), signature: toHex(signDigest(keyOf("z"), digest)) }
    expect(tag(verifyReport(snapshot, digest, [sig("a"), sig("b"), stranger], verifySignature))).toBe("CommitteeUnknownSigner")
    expect(tag(verifyReport(snapshot, digest, [sig("a"), sig("b"), sig("a")], verifySignature))).toBe("CommitteeDuplicateSigner")
    const other = reportDigest(1n, ZERO_ADDRESS, { ...report, fees: [11n] })
    expect(tag(verifyReport(snapshot, digest, [sig("a"), sig("b", other)], verifySignature))).toBe("CommitteeBadSignature")
    expect(tag(verifyReport(snapshot, digest, [sig("a"), { signer: sig("b").signer, signature: sig("c").signature }], verifySignature))).toBe("CommitteeBadSignature")
    expect(tag(verifyReport(snapshot, digest, [sig("a"), { signer: sig("b").signer, signature: "0x1234" }], verifySignature))).toBe("CommitteeBadSignature")
    expect(tag(verifyReport(snapshot, digest, [sig("a"), { signer: sig("b").signer, signature: "zz" }], verifySignature))).toBe("CommitteeBadSignature")
    expect(tag(verifyReport(snapshot, digest, "nope" as never, verifySignature))).toBe("CommitteeBadSignature")
    expect(tag(verifyReport(snapshot, digest, [null as never], verifySignature))).toBe("CommitteeUnknownSigner")
  })

  it("matches signers case-insensitively (a checksummed address is the same key)", () => {
    const s = sig("a")
    expect(tag(verifyReport(snapshot, digest, [{ ...s, signer: s.signer.toUpperCase().replace("0X", "0x") }, sig("b")], verifySignature))).toBe("ok")
  })
})

describe("checkReport", () => {
  const bad = (r: unknown, now = 60_000) => checkReport(r as typeof report, snapshot, now)?.reason
  it("accepts a well-formed report", () => expect(checkReport(report, snapshot, 60_000)).toBeUndefined())
  it("says what is wrong with a badly formed one", () => {
    expect(bad({ ...report, epoch: 0 })).toMatch(/epoch/)
    expect(bad({ ...report, snapshotId: 1.5 })).toMatch(/snapshot id/)
    expect(bad({ ...report, fromTime: 70_000 })).toMatch(/starts .* after it ends/)
    expect(bad(report, 59_999)).toMatch(/after the ledger's time/)
    expect(bad({ ...report, toTime: 60_999 })).toBeUndefined() // the same second as the ledger's time: the contract cannot tell them apart
    expect(bad({ ...report, scores: [] })).toMatch(/1 scored accounts but 0 scores/)
    expect(bad({ ...report, fees: [10n, 1n] })).toMatch(/1 fee payers but 2 fees/)
    expect(bad({ ...report, scores: [-1n] })).toMatch(/scores\[0\]/)
    expect(bad({ ...report, fees: [1n << 256n] })).toMatch(/fees\[0\]/)
    expect(bad({ ...report, scored: ["t0", "t0"], scores: [1n, 1n] })).toMatch(/t0 appears twice in scored/)
    expect(bad({ ...report, scored: ["t0", "t1"], scores: [1n << 95n, 1n << 95n] })).toMatch(/sum to .* not below 2\^96/)
    expect(bad({ ...report, scored: ["t0", "t1"], scores: [1n << 95n, (1n << 95n) - 1n] })).toBeUndefined()
    expect(bad({ ...report, downtime: ["x"] })).toMatch(/x, which is not a validator of snapshot 2/)
    expect(bad({ ...report, feePayers: [""] })).toMatch(/not an account id/)
    expect(bad({ ...report, downtime: "d" })).toMatch(/not a list/)
  })
})
