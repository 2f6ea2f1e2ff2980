/** The committee of the stake: snapshots, epoch reports, their digest, their verification and their settlement rule (pure). */
export type { AcceptedReportView, Account, EpochReport, ReportSignature, Snapshot, SnapshotTrainer, SnapshotValidator } from "./types.ts"
export { accountBytes, isHexAddress } from "./abi.ts"
export { accountWord, conflictEvidenceId, downtimeEvidenceId, REPORT_TAG, reportDigest, reportDigestHex, secondsOf, ZERO_ADDRESS } from "./digest.ts"
export { checkReport, MAX_TOTAL_SCORE, quorumOf, validSigners, verifyReport, type ReportVerifier, type VerifiedSigners } from "./verify.ts"
export { settlement, YEAR_SECONDS, type DowntimeSlash, type EmissionSplit, type FeeSettlement, type Settlement, type SettlementInput } from "./settle.ts"
export * from "./errors.ts"
