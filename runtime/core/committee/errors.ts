/**
 * Every way the ledger refuses a committee operation. Names follow the custom errors of
 * contracts/Committee.sol (`Committee<Problem>`), so a revert and a simulator refusal read alike.
 * A refused operation changes nothing.
 */
import { Data } from "effect"

export class CommitteeUnknownSnapshot extends Data.TaggedError("CommitteeUnknownSnapshot")<{
  readonly snapshotId: number
  /** The newest snapshot id (0: none taken yet). */
  readonly latest: number
}> {
  override get message() {
    return `no committee snapshot ${this.snapshotId}: ${this.latest === 0 ? "none has been taken yet (call snapshot first)" : `the newest is ${this.latest}`}`
  }
}

export class CommitteeBadReport extends Data.TaggedError("CommitteeBadReport")<{
  readonly epoch: unknown
  readonly reason: string
}> {
  override get message() {
    return `epoch report ${String(this.epoch)} is badly formed: ${this.reason}`
  }
}

export class CommitteeEpochReported extends Data.TaggedError("CommitteeEpochReported")<{
  readonly epoch: number
  /** True when the report is the one already accepted (a repeat), false when it differs (a conflict). */
  readonly same: boolean
}> {
  override get message() {
    return this.same
      ? `epoch ${this.epoch} is already reported with this very report; nothing to do`
      : `epoch ${this.epoch} is already reported with a different report: a second report for one epoch is evidence (submit it with reportConflict to slash who signed both)`
  }
}

export class CommitteeStaleEpoch extends Data.TaggedError("CommitteeStaleEpoch")<{
  readonly epoch: number
  readonly latest: number
}> {
  override get message() {
    return `epoch ${this.epoch} is older than the last reported epoch ${this.latest}; reports are accepted in epoch order`
  }
}

export class CommitteeStaleSnapshot extends Data.TaggedError("CommitteeStaleSnapshot")<{
  readonly snapshotId: number
  readonly latest: number
}> {
  override get message() {
    return `the report names snapshot ${this.snapshotId}, older than snapshot ${this.latest} of the last accepted report; an epoch's committee is never older than the previous one's`
  }
}

export class CommitteeUnknownSigner extends Data.TaggedError("CommitteeUnknownSigner")<{
  readonly signer: string
  readonly snapshotId: number
}> {
  override get message() {
    return `signer ${this.signer} is not the signing key of any validator of snapshot ${this.snapshotId}`
  }
}

export class CommitteeDuplicateSigner extends Data.TaggedError("CommitteeDuplicateSigner")<{
  readonly signer: string
}> {
  override get message() {
    return `signer ${this.signer} signs twice; each validator's power counts once`
  }
}

export class CommitteeBadSignature extends Data.TaggedError("CommitteeBadSignature")<{
  readonly signer: string
  readonly reason: string
}> {
  override get message() {
    return `the signature claimed for ${this.signer} does not verify: ${this.reason}`
  }
}

export class CommitteeInsufficientPower extends Data.TaggedError("CommitteeInsufficientPower")<{
  readonly snapshotId: number
  /** Σ power of the distinct valid signers. */
  readonly power: bigint
  readonly quorum: bigint
  readonly total: bigint
  readonly signers: number
}> {
  override get message() {
    return `${this.signers} signer(s) hold ${this.power} of ${this.total} voting power in snapshot ${this.snapshotId}; a report needs at least ${this.quorum} (more than 2/3), ${this.quorum - this.power} more`
  }
}

export class CommitteeNotConflicting extends Data.TaggedError("CommitteeNotConflicting")<{
  readonly epoch: number
  readonly reason: string
}> {
  override get message() {
    return `not evidence of a conflicting report for epoch ${this.epoch}: ${this.reason}`
  }
}

export class CommitteeInsufficientDeposit extends Data.TaggedError("CommitteeInsufficientDeposit")<{
  readonly account: string
  readonly deposit: bigint
  readonly needed: bigint
}> {
  override get message() {
    return `${this.account}'s fee deposit holds ${this.deposit} base units, less than the ${this.needed} asked for`
  }
}

export class CommitteeNoWithdrawal extends Data.TaggedError("CommitteeNoWithdrawal")<{ readonly account: string }> {
  override get message() {
    return `${this.account} has not asked to withdraw any fee deposit (requestFeeWithdrawal first, then wait a day)`
  }
}

export class CommitteeWithdrawalNotReady extends Data.TaggedError("CommitteeWithdrawalNotReady")<{
  readonly account: string
  readonly readyAt: number
  readonly now: number
}> {
  override get message() {
    return `${this.account}'s fee withdrawal is ready at t=${this.readyAt}ms, ${this.readyAt - this.now} ms from now (a day after asking, so a payer cannot empty its deposit just before the report that charges it)`
  }
}

export type CommitteeError =
  | CommitteeUnknownSnapshot | CommitteeBadReport | CommitteeEpochReported | CommitteeStaleEpoch | CommitteeStaleSnapshot
  | CommitteeUnknownSigner | CommitteeDuplicateSigner | CommitteeBadSignature | CommitteeInsufficientPower
  | CommitteeNotConflicting | CommitteeInsufficientDeposit | CommitteeNoWithdrawal | CommitteeWithdrawalNotReady
