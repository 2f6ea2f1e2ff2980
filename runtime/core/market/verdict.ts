/**
 * The committee's verdict on a disputed market job, and the digest its validators sign: a verdict
 * takes effect only with signatures of ≥ 2/3 of a committee snapshot's voting power, checked by the
 * ledger against its own snapshot exactly as an epoch report is (core/committee `verifyReport`; on
 * chain `Committee.verifySignatures`). Byte for byte what contracts/ComputeMarket.sol `verdictDigest`
 * hashes:
 *
 *   digest = keccak256(abi.encode(
 *     keccak256("dai/market-verdict/v1"), uint256 consensusChainId, address ledger,
 *     uint256 job, bool providerRight, uint64 snapshotId,
 *     uint256 firstNote, uint256 lastNote,                       // ids of the frozen notes (1-based, inclusive)
 *     keccak256(abi.encodePacked(bytes32[] resultHashes))))     // the frozen notes' result hashes, in note order
 *
 * `ledger` is the ComputeMarket contract's address on chain and the zero address in memory (as the
 * simulator's Committee). Why the frozen notes and not just the job: a job can be disputed again
 * after a verdict for its provider, and each dispute freezes other notes, so a verdict's signatures
 * are good for the one dispute they judged and can never be replayed on a later one; the result
 * hashes say what the signers re-executed. Every argument is a static type, so the encoding is 9 words.
 *
 * Which snapshot: any snapshot the ledger holds that is not older than the newest one when the
 * dispute opened (`Job.disputeSnapshot`), so a committee that has since left cannot decide it.
 */
import { keccak256, toHex } from "../crypto.ts"
import { accountBytes, addressWord, bytes32Word, concatWords, keccakText, uintWord } from "../committee/abi.ts"
import { fromHex } from "../crypto.ts"
import type { DebitNote, JobView } from "./types.ts"

export const VERDICT_TAG = "dai/market-verdict/v1"

const MAX_U64 = (1n << 64n) - 1n

/** What the committee decides about a disputed job: which snapshot's validators sign, and whether the provider was right. */
export interface MarketVerdict {
  readonly job: number
  readonly providerRight: boolean
  readonly snapshotId: number
}

/** The notes a dispute froze (state `disputed`), in note order. */
export const frozenNotes = (job: Pick<JobView, "notes">): DebitNote[] => job.notes.filter((n) => n.state === "disputed")

/**
 * The 32-byte digest the committee signs for `verdict` over `frozen` (the job's disputed notes, in
 * order; at least one). Throws a RangeError on a value outside its Solidity type or no frozen note.
 */
export const verdictDigest = (
  chainId: bigint | number, ledgerAddress: string, verdict: MarketVerdict, frozen: ReadonlyArray<Pick<DebitNote, "id" | "resultHash">>,
): Uint8Array => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(ledgerAddress)) throw new RangeError(`ledger address ${ledgerAddress} is not a 0x address`)
  if (!Number.isSafeInteger(verdict.job) || verdict.job < 1) throw new RangeError(`job ${verdict.job} is not a job id`)
  const snapshot = BigInt(verdict.snapshotId)
  if (!Number.isSafeInteger(verdict.snapshotId) || snapshot < 0n || snapshot > MAX_U64) throw new RangeError(`snapshot id ${verdict.snapshotId} does not fit a uint64`)
  const first = frozen[0]
  const last = frozen[frozen.length - 1]
  if (first === undefined || last === undefined) throw new RangeError(`job ${verdict.job} has no frozen note to judge`)
  const hashes = concatWords(frozen.map((n) => bytes32Word(fromHex(n.resultHash))))
  return keccak256(concatWords([
    keccakText(VERDICT_TAG),
    uintWord(BigInt(chainId)),
    addressWord(accountBytes(ledgerAddress)),
    uintWord(BigInt(verdict.job)),
    uintWord(verdict.providerRight ? 1n : 0n),
    uintWord(snapshot),
    uintWord(BigInt(first.id)),
    uintWord(BigInt(last.id)),
    keccak256(hashes),
  ]))
}

/** The digest as 0x hex (how referees key the signatures they gather). */
export const verdictDigestHex = (
  chainId: bigint | number, ledgerAddress: string, verdict: MarketVerdict, frozen: ReadonlyArray<Pick<DebitNote, "id" | "resultHash">>,
): string => toHex(verdictDigest(chainId, ledgerAddress, verdict, frozen))
