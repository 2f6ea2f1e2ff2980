/**
 * The verdict digest against ethers' own ABI encoder (tests may import ethers; core may not): the bytes
 * contracts/ComputeMarket.sol `verdictDigest` hashes (ComputeMarket.test.ts checks the contract's number
 * against this function on a real job). A fast-check property over random verdicts and frozen notes.
 */
import fc from "fast-check"
import { AbiCoder, keccak256, solidityPacked, toUtf8Bytes } from "ethers"
import { describe, expect, it } from "vitest"
import { toHex } from "../crypto.ts"
import { ZERO_ADDRESS } from "../committee/digest.ts"
import { frozenNotes, verdictDigest, verdictDigestHex, type MarketVerdict } from "./verdict.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const VERDICT = propertyEnv("VERDICT_DIGEST", 200)
const coder = AbiCoder.defaultAbiCoder()

const ethersDigest = (chainId: bigint, ledger: string, v: MarketVerdict, notes: ReadonlyArray<{ id: number; resultHash: string }>): string =>
  keccak256(coder.encode(
    ["bytes32", "uint256", "address", "uint256", "bool", "uint64", "uint256", "uint256", "bytes32"],
    [
      keccak256(toUtf8Bytes("dai/market-verdict/v1")), chainId, ledger, v.job, v.providerRight, v.snapshotId, notes[0]!.id, notes[notes.length - 1]!.id,
      keccak256(solidityPacked(["bytes32[]"], [notes.map((n) => n.resultHash)])),
    ],
  ))

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b))

describe("verdictDigest", () => {
  it("equals keccak256(abi.encode(...)) of verdict.ts's header, computed by ethers, for any verdict (property)", () => {
    fc.assert(
      fc.property(
        fc.record({ job: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), providerRight: fc.boolean(), snapshotId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) }),
        fc.integer({ min: 1, max: 1_000 }), fc.array(hash32, { minLength: 1, maxLength: 6 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(),
        (v, first, hashes, chainId, zero) => {
          VERDICT.tick()
          const notes = hashes.map((resultHash, i) => ({ id: first + i, resultHash }))
          const ledger = zero ? ZERO_ADDRESS : "0x5FbDB2315678afecb367f032d93F642f64180aa3"
          expect(verdictDigestHex(chainId, ledger, v, notes)).toBe(ethersDigest(chainId, ledger, v, notes))
        },
      ),
      VERDICT.params,
    )
  }, VERDICT.timeout(20))

  it("takes only the frozen notes, and refuses what Solidity's types cannot hold", () => {
    const notes = [
      { id: 1, resultHash: `0x${"11".repeat(32)}`, state: "paid" as const },
      { id: 2, resultHash: `0x${"22".repeat(32)}`, state: "disputed" as const },
    ]
    expect(frozenNotes({ notes: notes as never }).map((n) => n.id)).toEqual([2])
    const v = { job: 1, providerRight: true, snapshotId: 1 }
    expect(() => verdictDigest(1n, ZERO_ADDRESS, v, [])).toThrow(RangeError)
    expect(() => verdictDigest(1n, "0x12", v, notes)).toThrow(RangeError)
    expect(() => verdictDigest(1n, ZERO_ADDRESS, { ...v, job: 0 }, notes)).toThrow(RangeError)
    expect(() => verdictDigest(1n, ZERO_ADDRESS, { ...v, snapshotId: -1 }, notes)).toThrow(RangeError)
    // Each field changes the digest: the provider's side, the snapshot, the notes judged.
    const d = verdictDigestHex(1n, ZERO_ADDRESS, v, notes)
    expect(verdictDigestHex(1n, ZERO_ADDRESS, { ...v, providerRight: false }, notes)).not.toBe(d)
    expect(verdictDigestHex(1n, ZERO_ADDRESS, { ...v, snapshotId: 2 }, notes)).not.toBe(d)
    expect(verdictDigestHex(1n, ZERO_ADDRESS, v, notes.slice(1))).not.toBe(d)
  })
})
