/**
 * The committee's data as the ledger holds it: immutable snapshots of the validator set (the
 * stake the BFT network is the committee of) and the epoch reports the committee signs.
 *
 * Account ids are the economy's (`Address`: "v0" in the simulator, a 0x address on a real chain);
 * times are ms in these objects (the digest and the settlement use whole seconds, ⌊ms/1000⌋, as the
 * contract does). Amounts are bigint base units.
 */
import type { Params } from "../params.ts"

/** An account id, as the economy names it. */
export type Account = string

/** One validator of a snapshot: its pool, its signing key and its voting power then. */
export interface SnapshotValidator {
  /** The validator's operator account (its pool id). */
  readonly operator: Account
  /** The address its consensus key signs with (votes, epoch reports): 0x + 40 lowercase hex. */
  readonly signingKey: string
  /** Bonded tokens of the pool at the snapshot. */
  readonly stake: bigint
  /** The pool's average lock multiplier (weighted shares / shares) as a wad. */
  readonly multiplierWad: bigint
  /** Its score in the last accepted epoch report (0 when it scored nothing). */
  readonly contribution: bigint
  /** Voting power by runtime/core/consensus/power.ts `votingPowers`. */
  readonly power: bigint
}

/** A bonded trainer of a snapshot (an active contributor pool). */
export interface SnapshotTrainer {
  readonly owner: Account
  readonly stake: bigint
}

/** The committee at one instant: who may sign, with what power, under which parameters. Never changes once taken. */
export interface Snapshot {
  /** 1, 2, 3, … in the order taken. */
  readonly id: number
  /** Ledger time it was taken at, ms. */
  readonly time: number
  /** Validators with power > 0, in validator-set order (power descending, then operator). */
  readonly validators: readonly SnapshotValidator[]
  /** Active contributor pools, in the order they were created. */
  readonly trainers: readonly SnapshotTrainer[]
  /** The parameters in force when it was taken. */
  readonly params: Params
  /** Σ power. */
  readonly totalPower: bigint
  /** Smallest power > 2/3 of the total (⌊2·total/3⌋ + 1): what a report's signers must reach. */
  readonly quorum: bigint
}

/**
 * What the committee settles on the ledger for one epoch (the plan's exact fields). `scored` and
 * `scores` have the same length, as have `feePayers` and `fees`; no account appears twice in one
 * list. Times are ms here; the digest and the ledger use ⌊ms/1000⌋.
 */
export interface EpochReport {
  readonly epoch: number
  readonly snapshotId: number
  readonly fromTime: number
  readonly toTime: number
  /** Operators to slash (and jail) for downtime: each a validator of the snapshot. */
  readonly downtime: readonly Account[]
  /** Accounts paid the contributors' pot, pro rata of `scores`. */
  readonly scored: readonly Account[]
  readonly scores: readonly bigint[]
  /** Accounts whose fee deposits pay the fees the committee ordered (`fees`, base units). */
  readonly feePayers: readonly Account[]
  readonly fees: readonly bigint[]
}

/**
 * One validator's signature of a report digest: 65 bytes r‖s‖v as 0x hex, and the signing key
 * (address) it claims. The contract recovers the signer and ignores `signer`; the simulated
 * ledger, whose signatures may be the simulator's scheme that cannot be recovered, checks the
 * signature against it.
 */
export interface ReportSignature {
  readonly signer: string
  readonly signature: string
}

/** An accepted epoch report as any ledger shows it (the contract from its event, the simulator from its record). */
export interface AcceptedReportView {
  readonly report: EpochReport
  /** reportDigest as 0x hex. */
  readonly digest: string
  /** Operators of the signers whose signatures were submitted, in that order. */
  readonly signers: readonly Account[]
  /** Their snapshot power. */
  readonly power: bigint
  /** Ledger time it was accepted at, ms. */
  readonly acceptedAt: number
}
