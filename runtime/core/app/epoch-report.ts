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
import { fromHex, toHex } from "../crypto.ts"
import { reportDigest as committeeDigest, ZERO_ADDRESS } from "../committee/digest.ts"
import type { EpochReport } from "../committee/types.ts"
import type { CommitteeSnapshot } from "./committee.ts"

// One report format and one digest for the network and the ledger: runtime/core/committee's.
export type { EpochReport } from "../committee/types.ts"

/** One validator's signature of a report's digest (65 bytes r‖s‖v, hex). */
export interface ReportSignature {
  readonly signer: string
  readonly signature: string
}

/** The digest validators sign; `ledger` is the Committee contract's address (the zero address in the simulator). */
export const reportDigest = (chainId: number, report: EpochReport, ledger: string = ZERO_ADDRESS): Uint8Array =>
  committeeDigest(chainId, ledger, report)

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
