/**
 * Checking an epoch report before it moves anything: its form (`checkReport`) and its signatures
 * against the snapshot it names (`verifyReport`: the distinct valid signers must hold at least the
 * snapshot's quorum, ⌊2·total/3⌋ + 1, as `ValidatorSet` counts it).
 *
 * Signatures are checked in the order given and the first problem refuses the whole set: an
 * unknown signer, a signer twice or a signature that does not verify is a badly built submission,
 * never silently skipped (the contract does the same, so the two refuse alike).
 */
import { Result } from "effect"
import { fromHex } from "../crypto.ts"
import { secondsOf } from "./digest.ts"
import {
  CommitteeBadReport, CommitteeBadSignature, CommitteeDuplicateSigner, CommitteeInsufficientPower, CommitteeUnknownSigner,
  type CommitteeError,
} from "./errors.ts"
import type { Account, EpochReport, ReportSignature, Snapshot, SnapshotValidator } from "./types.ts"

/** Checks that `signature` over `digest` is `address`'s (secp256k1 recovery, or the simulator's oracle). */
export type ReportVerifier = (address: string, digest: Uint8Array, signature: Uint8Array) => boolean

const MAX_U64 = 2 ** 64
const MAX_U256 = (1n << 256n) - 1n
/** Scores must sum below 2⁹⁶ (Committee.sol's MAX_TOTAL_SCORE: the power rule's integers stay in 256 bits). */
export const MAX_TOTAL_SCORE = 1n << 96n

const isIndex = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 1 && x < MAX_U64
const isTime = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0

const duplicate = (xs: readonly Account[]): Account | undefined => {
  const seen = new Set<Account>()
  for (const x of xs) {
    if (seen.has(x)) return x
    seen.add(x)
  }
  return undefined
}

const badAccount = (xs: unknown, what: string): string | undefined => {
  if (!Array.isArray(xs)) return `${what} is not a list`
  const i = xs.findIndex((x) => typeof x !== "string" || x.length === 0)
  if (i >= 0) return `${what}[${i}] ${JSON.stringify(xs[i])} is not an account id`
  const twice = duplicate(xs as Account[])
  return twice === undefined ? undefined : `${twice} appears twice in ${what}`
}

const badAmounts = (xs: unknown, what: string): string | undefined => {
  if (!Array.isArray(xs)) return `${what} is not a list`
  const i = xs.findIndex((x) => typeof x !== "bigint" || x < 0n || x > MAX_U256)
  return i < 0 ? undefined : `${what}[${i}] ${String(xs[i])} is not a uint256 (a bigint ≥ 0)`
}

/**
 * Why `report` is badly formed against `snapshot` at ledger time `now` (ms), or undefined: epoch and
 * snapshot ids are positive uint64s, fromTime ≤ toTime ≤ now (in whole seconds), paired lists have equal lengths,
 * amounts are uint256, scores sum below 2⁹⁶, no account is listed twice in one list, and every
 * downtime operator is a validator of the snapshot.
 */
export const checkReport = (report: EpochReport, snapshot: Snapshot | undefined, now: number): CommitteeBadReport | undefined => {
  if (typeof report !== "object" || report === null) return new CommitteeBadReport({ epoch: undefined, reason: "it is not a report object" })
  const r = report as Partial<Record<keyof EpochReport, unknown>>
  const bad = (reason: string) => new CommitteeBadReport({ epoch: r.epoch, reason })
  if (!isIndex(r.epoch)) return bad("the epoch must be a whole number ≥ 1")
  if (!isIndex(r.snapshotId)) return bad(`snapshot id ${String(r.snapshotId)} must be a whole number ≥ 1`)
  if (!isTime(r.fromTime) || !isTime(r.toTime)) return bad(`times ${String(r.fromTime)}..${String(r.toTime)} must be whole ms ≥ 0`)
  // In whole seconds, as the contract sees the times (the digest carries ⌊ms/1000⌋).
  if (secondsOf(r.fromTime) > secondsOf(r.toTime)) return bad(`it starts (${r.fromTime} ms) after it ends (${r.toTime} ms)`)
  if (secondsOf(r.toTime) > secondsOf(now)) return bad(`it ends at ${r.toTime} ms, after the ledger's time ${now} ms`)
  const listProblem = badAccount(r.downtime, "downtime") ?? badAccount(r.scored, "scored") ?? badAmounts(r.scores, "scores") ??
    badAccount(r.feePayers, "feePayers") ?? badAmounts(r.fees, "fees")
  if (listProblem !== undefined) return bad(listProblem)
  if (report.scored.length !== report.scores.length) return bad(`${report.scored.length} scored accounts but ${report.scores.length} scores`)
  if (report.feePayers.length !== report.fees.length) return bad(`${report.feePayers.length} fee payers but ${report.fees.length} fees`)
  const totalScore = report.scores.reduce((t, x) => t + x, 0n)
  if (totalScore >= MAX_TOTAL_SCORE) return bad(`the scores sum to ${totalScore}, not below 2^96`)
  if (snapshot !== undefined) {
    const operators = new Set(snapshot.validators.map((v) => v.operator))
    const stranger = report.downtime.find((o) => !operators.has(o))
    if (stranger !== undefined) return bad(`downtime names ${stranger}, which is not a validator of snapshot ${snapshot.id}`)
  }
  return undefined
}

/** The validators of `snapshot` who validly signed `digest`, in the order given; the first problem refuses them all. */
export const validSigners = (
  snapshot: Snapshot, digest: Uint8Array, signatures: readonly ReportSignature[], verify: ReportVerifier,
): Result.Result<SnapshotValidator[], CommitteeError> => {
  if (!Array.isArray(signatures)) return Result.fail(new CommitteeBadSignature({ signer: "?", reason: "the signatures are not a list" }))
  const byKey = new Map(snapshot.validators.map((v) => [v.signingKey.toLowerCase(), v]))
  const seen = new Set<string>()
  const out: SnapshotValidator[] = []
  for (const s of signatures) {
    const key = typeof s?.signer === "string" ? s.signer.toLowerCase() : ""
    const v = byKey.get(key)
    if (v === undefined) return Result.fail(new CommitteeUnknownSigner({ signer: String(s?.signer), snapshotId: snapshot.id }))
    if (seen.has(key)) return Result.fail(new CommitteeDuplicateSigner({ signer: key }))
    seen.add(key)
    let bytes: Uint8Array
    try {
      bytes = fromHex(String(s.signature))
    } catch {
      return Result.fail(new CommitteeBadSignature({ signer: key, reason: "the signature is not hex" }))
    }
    if (bytes.length !== 65) return Result.fail(new CommitteeBadSignature({ signer: key, reason: `a signature has 65 bytes, this one ${bytes.length}` }))
    if (!verify(key, digest, bytes)) return Result.fail(new CommitteeBadSignature({ signer: key, reason: "it was not made by this key over this report" }))
    out.push(v)
  }
  return Result.succeed(out)
}

/** What a verified report's signatures add up to. */
export interface VerifiedSigners {
  /** Operators of the signers, in the order given. */
  readonly signers: readonly Account[]
  /** Their signing keys (lowercase), in the same order. */
  readonly signingKeys: readonly string[]
  readonly power: bigint
  readonly total: bigint
  readonly quorum: bigint
}

/** The signers' power when it reaches the snapshot's quorum, or a tagged error saying why not. */
export const verifyReport = (
  snapshot: Snapshot, digest: Uint8Array, signatures: readonly ReportSignature[], verify: ReportVerifier,
): Result.Result<VerifiedSigners, CommitteeError> => {
  const r = validSigners(snapshot, digest, signatures, verify)
  if (Result.isFailure(r)) return Result.fail(r.failure)
  const power = r.success.reduce((t, v) => t + v.power, 0n)
  if (power < snapshot.quorum) {
    return Result.fail(new CommitteeInsufficientPower({ snapshotId: snapshot.id, power, quorum: snapshot.quorum, total: snapshot.totalPower, signers: r.success.length }))
  }
  return Result.succeed({
    signers: r.success.map((v) => v.operator), signingKeys: r.success.map((v) => v.signingKey.toLowerCase()),
    power, total: snapshot.totalPower, quorum: snapshot.quorum,
  })
}

/** ⌊2·total/3⌋ + 1, the quorum of runtime/core/consensus/validator-set.ts. */
export const quorumOf = (total: bigint): bigint => (total * 2n) / 3n + 1n
