/**
 * The epoch-report digest against ethers' own ABI encoder (tests may import ethers; core may not):
 * the exact bytes contracts/Committee.sol hashes. A fast-check property compares random reports;
 * a fixed vector pins the bytes so that the Solidity side can assert the same number.
 */
import fc from "fast-check"
import { AbiCoder, keccak256, solidityPacked, toUtf8Bytes } from "ethers"
import { describe, expect, it } from "vitest"
import { toHex } from "../crypto.ts"
import { accountWord, conflictEvidenceId, downtimeEvidenceId, reportDigest, reportDigestHex, ZERO_ADDRESS } from "./digest.ts"
import type { EpochReport } from "./types.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const DIGEST = propertyEnv("DIGEST", 300)

const coder = AbiCoder.defaultAbiCoder()

/** The digest as the plan writes it, through ethers. */
const ethersDigest = (chainId: bigint, ledger: string, r: EpochReport): string => {
  const addresses = (xs: readonly string[]) => keccak256(solidityPacked(["address[]"], [xs.map(accountWord)]))
  const uints = (xs: readonly bigint[]) => keccak256(solidityPacked(["uint256[]"], [xs]))
  return keccak256(coder.encode(
    ["bytes32", "uint256", "address", "uint64", "uint64", "uint64", "uint64", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32"],
    [
      keccak256(toUtf8Bytes("dai/epoch-report/v1")), chainId, ledger, r.epoch, r.snapshotId, Math.floor(r.fromTime / 1000), Math.floor(r.toTime / 1000),
      addresses(r.downtime), addresses(r.scored), uints(r.scores), addresses(r.feePayers), uints(r.fees),
    ],
  ))
}

const account = fc.oneof(
  fc.constantFrom("v0", "v1", "t3", "reserve"),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b)),
)
const amount = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n })
const reportArb: fc.Arbitrary<EpochReport> = fc.record({
  epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  snapshotId: fc.integer({ min: 1, max: 1_000_000 }),
  fromTime: fc.integer({ min: 0, max: 2 ** 45 }),
  span: fc.integer({ min: 0, max: 10 ** 9 }),
  downtime: fc.array(account, { maxLength: 4 }),
  scoredPairs: fc.array(fc.tuple(account, amount), { maxLength: 4 }),
  feePairs: fc.array(fc.tuple(account, amount), { maxLength: 4 }),
}).map((x) => ({
  epoch: x.epoch, snapshotId: x.snapshotId, fromTime: x.fromTime, toTime: x.fromTime + x.span, downtime: x.downtime,
  scored: x.scoredPairs.map((p) => p[0]), scores: x.scoredPairs.map((p) => p[1]), feePayers: x.feePairs.map((p) => p[0]), fees: x.feePairs.map((p) => p[1]),
}))

describe("reportDigest", () => {
  it("equals keccak256(abi.encode(...)) of the plan, computed by ethers, for any report (property)", () => {
    fc.assert(
      fc.property(reportArb, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(), (r, chainId, zero) => {
        const ledger = zero ? ZERO_ADDRESS : "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        expect(reportDigestHex(chainId, ledger, r)).toBe(ethersDigest(chainId, ledger, r))
      }),
      DIGEST.params,
    )
  }, DIGEST.timeout(20))

  it("pins a vector (the same number Committee.sol's test must compute)", () => {
    const r: EpochReport = {
      epoch: 7, snapshotId: 3, fromTime: 1_700_000_000_999, toTime: 1_700_000_600_000, downtime: ["v2"],
      scored: ["t0", "0x00000000000000000000000000000000000000aa"], scores: [600_000n, 400_000n], feePayers: ["v0"], fees: [10n ** 16n],
    }
    const hex = reportDigestHex(31337n, ZERO_ADDRESS, r)
    expect(hex).toBe(ethersDigest(31337n, ZERO_ADDRESS, r))
    expect(hex).toBe("0xfa8a76efd88995616b50cc8a08640e658f9cc63c28e598426485150b90a1b842")
  })

  it("keeps times in whole seconds: ms within one second give one digest", () => {
    const r: EpochReport = { epoch: 1, snapshotId: 1, fromTime: 5_000, toTime: 9_000, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }
    expect(toHex(reportDigest(1, ZERO_ADDRESS, r))).toBe(toHex(reportDigest(1, ZERO_ADDRESS, { ...r, fromTime: 5_999, toTime: 9_999 })))
    expect(toHex(reportDigest(1, ZERO_ADDRESS, r))).not.toBe(toHex(reportDigest(1, ZERO_ADDRESS, { ...r, toTime: 10_000 })))
  })

  it("refuses values outside their Solidity types", () => {
    const r: EpochReport = { epoch: 1, snapshotId: 1, fromTime: 0, toTime: 0, downtime: [], scored: [], scores: [-1n], feePayers: [], fees: [] }
    expect(() => reportDigest(1, ZERO_ADDRESS, r)).toThrow(RangeError)
    expect(() => reportDigest(1, "nope", { ...r, scores: [] })).toThrow(RangeError)
  })
})

describe("accountWord", () => {
  it("is a 0x address itself (lowercased), else the last 20 bytes of keccak256(utf8(id))", () => {
    expect(accountWord("0x00000000000000000000000000000000000000AA")).toBe("0x00000000000000000000000000000000000000aa")
    expect(accountWord("v0")).toBe(`0x${keccak256(toUtf8Bytes("v0")).slice(26)}`)
  })
})

describe("evidence ids", () => {
  it("are keccak256(abi.encode(tag hash, epoch, operator)), distinct per epoch, operator and kind", () => {
    const expected = keccak256(coder.encode(["bytes32", "uint256", "address"], [keccak256(toUtf8Bytes("dai/downtime/v1")), 4, accountWord("v1")]))
    expect(downtimeEvidenceId(4, "v1")).toBe(expected)
    expect(conflictEvidenceId(4, "v1")).toBe(keccak256(coder.encode(["bytes32", "uint256", "address"], [keccak256(toUtf8Bytes("dai/epoch-report-conflict/v1")), 4, accountWord("v1")])))
    expect(new Set([downtimeEvidenceId(4, "v1"), downtimeEvidenceId(5, "v1"), downtimeEvidenceId(4, "v2"), conflictEvidenceId(4, "v1")]).size).toBe(4)
  })
})
