/**
 * The epoch report (issue 12 plan §4): what the committee settles on the ledger after an epoch's
 * last block — downtime offenders, the contributors' scores and the fees it ordered — and its
 * digest, byte for byte the one contracts/Committee.sol recomputes:
 *
 *   keccak256(abi.encode(keccak256("dai/epoch-report/v1"), consensusChainId, ledger,
 *     epoch, snapshotId, fromTime, toTime,                      // times in SECONDS (⌊ms/1000⌋)
 *     keccak256(abi.encodePacked(downtime)), keccak256(abi.encodePacked(scored)), keccak256(abi.encodePacked(scores)),
 *     keccak256(abi.encodePacked(feePayers)), keccak256(abi.encodePacked(fees))))
 *
 * An account id that is not a 0x address (the simulator's "v0", "t3") is encoded as the last 20
 * bytes of keccak256(utf8(id)). A report counts once distinct signers of its snapshot with at
 * least the quorum (⌊2·total/3⌋ + 1) of the snapshot's power signed its digest.
 */
import { fromHex, keccak256, toHex, utf8ToBytes } from "../crypto.ts"
import type { CommitteeSnapshot } from "./committee.ts"

export interface EpochReport {
  readonly epoch: number
  readonly snapshotId: number
  /** ms (the digest uses whole seconds). */
  readonly fromTime: number
  readonly toTime: number
  /** Operator accounts to slash for downtime. */
  readonly downtime: readonly string[]
  /** Accounts paid the contributors' share pro rata of `scores` (same length). */
  readonly scored: readonly string[]
  readonly scores: readonly bigint[]
  /** Fees ordered in the epoch, base units (same length). */
  readonly feePayers: readonly string[]
  readonly fees: readonly bigint[]
}

/** One validator's signature of a report's digest (65 bytes r‖s‖v, hex). */
export interface ReportSignature {
  readonly signer: string
  readonly signature: string
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const ZERO_ADDRESS = `0x${"00".repeat(20)}`

/** The 20-byte account an id stands for on the ledger: itself if it is a 0x address, else the last 20 bytes of keccak256(id). */
export const accountWord = (id: string): Uint8Array =>
  ADDRESS.test(id) ? fromHex(id.toLowerCase()) : keccak256(utf8ToBytes(id)).slice(12)

const word = (x: bigint): Uint8Array => {
  const out = new Uint8Array(32)
  let v = x
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}
const addressWord = (a: Uint8Array): Uint8Array => {
  const out = new Uint8Array(32)
  out.set(a, 12)
  return out
}
const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
// abi.encodePacked of an array pads every element to 32 bytes.
const packedAccounts = (ids: readonly string[]) => keccak256(concat(ids.map((id) => addressWord(accountWord(id)))))
const packedAmounts = (xs: readonly bigint[]) => keccak256(concat(xs.map(word)))
const seconds = (ms: number) => BigInt(Math.floor(ms / 1000))

/** The digest validators sign; `ledger` is the Committee contract's address (the zero address in the simulator). */
export const reportDigest = (chainId: number, report: EpochReport, ledger: string = ZERO_ADDRESS): Uint8Array =>
  keccak256(concat([
    keccak256(utf8ToBytes("dai/epoch-report/v1")), word(BigInt(chainId)), addressWord(fromHex(ledger)),
    word(BigInt(report.epoch)), word(BigInt(report.snapshotId)), word(seconds(report.fromTime)), word(seconds(report.toTime)),
    packedAccounts(report.downtime), packedAccounts(report.scored), packedAmounts(report.scores),
    packedAccounts(report.feePayers), packedAmounts(report.fees),
  ]))

/** A key that names a report's content (two reports of one epoch conflict when theirs differ). */
export const reportKey = (chainId: number, report: EpochReport): string => toHex(reportDigest(chainId, report))

/** Why the signatures do not carry `report` for `snapshot`, or undefined when they hold the quorum of its power. */
export const reportShortfall = (
  chainId: number,
  report: EpochReport,
  snapshot: CommitteeSnapshot,
  signatures: readonly ReportSignature[],
  verify: (address: string, digest: Uint8Array, signature: Uint8Array) => boolean,
): string | undefined => {
  if (report.snapshotId !== snapshot.id) return `the report names snapshot ${report.snapshotId}, not ${snapshot.id}`
  if (report.scored.length !== report.scores.length) return "scored and scores differ in length"
  if (report.feePayers.length !== report.fees.length) return "feePayers and fees differ in length"
  const digest = reportDigest(chainId, report)
  const total = snapshot.validators.reduce((s, v) => s + v.power, 0n)
  const quorum = (total * 2n) / 3n + 1n
  const seen = new Set<string>()
  let power = 0n
  for (const s of signatures) {
    const signer = s.signer.toLowerCase()
    const member = snapshot.validators.find((v) => v.address === signer)
    if (member === undefined || seen.has(signer) || !verify(signer, digest, fromHex(s.signature))) continue
    seen.add(signer)
    power += member.power
  }
  return power >= quorum ? undefined : `the signatures hold ${power} of ${total} power, a report needs ${quorum}`
}
