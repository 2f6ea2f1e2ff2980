/**
 * The epoch report's digest, byte for byte as contracts/Committee.sol computes it (the plan,
 * /work/notes/issue12-plan.md, "Epoch report: exact format"):
 *
 *   digest = keccak256(abi.encode(
 *     keccak256("dai/epoch-report/v1"), uint256 consensusChainId, address ledger,
 *     uint64 epoch, uint64 snapshotId, uint64 fromTime, uint64 toTime,          // times in SECONDS
 *     keccak256(abi.encodePacked(address[] downtime)), keccak256(abi.encodePacked(address[] scored)),
 *     keccak256(abi.encodePacked(uint256[] scores)),
 *     keccak256(abi.encodePacked(address[] feePayers)), keccak256(abi.encodePacked(uint256[] fees))))
 *
 * Every argument of the outer `abi.encode` is static, so it is 11 words; `abi.encodePacked` of an
 * array pads each element to a word (an empty array hashes to keccak256 of no bytes). An account id
 * that is not a 0x address stands for the last 20 bytes of keccak256(utf8(id)) (`accountWord`).
 * The ledger's address is the Committee contract's; the simulator's ledger uses the zero address.
 */
import { keccak256, toHex } from "../crypto.ts"
import { accountBytes, addressWord, bytes32Word, concatWords, keccakText, uintWord } from "./abi.ts"
import type { Account, EpochReport } from "./types.ts"

export const REPORT_TAG = "dai/epoch-report/v1"
/** The ledger address of the simulator (no contract). */
export const ZERO_ADDRESS = `0x${"0".repeat(40)}`

const MAX_U64 = (1n << 64n) - 1n

/** The chain address (0x + 40 lowercase hex) account `id` stands for in digests and on chain. */
export const accountWord = (id: Account): string => toHex(accountBytes(id))

/** Whole seconds of a time in ms, as the contract stores times (⌊ms/1000⌋). */
export const secondsOf = (ms: number): bigint => BigInt(Math.floor(ms / 1000))

const u64 = (x: bigint, what: string): Uint8Array => {
  if (x < 0n || x > MAX_U64) throw new RangeError(`${what} ${x} does not fit a uint64`)
  return uintWord(x)
}

const packedAccounts = (ids: readonly Account[]): Uint8Array => keccak256(concatWords(ids.map((id) => addressWord(accountBytes(id)))))
const packedUints = (xs: readonly bigint[]): Uint8Array => keccak256(concatWords(xs.map(uintWord)))

/** The 32-byte digest validators sign for `report` (throws a RangeError on a value out of its Solidity type). */
export const reportDigest = (chainId: bigint | number, ledgerAddress: string, report: EpochReport): Uint8Array => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(ledgerAddress)) throw new RangeError(`ledger address ${ledgerAddress} is not a 0x address`)
  return keccak256(concatWords([
    bytes32Word(keccakText(REPORT_TAG)),
    uintWord(BigInt(chainId)),
    addressWord(accountBytes(ledgerAddress)),
    u64(BigInt(report.epoch), "epoch"),
    u64(BigInt(report.snapshotId), "snapshotId"),
    u64(secondsOf(report.fromTime), "fromTime"),
    u64(secondsOf(report.toTime), "toTime"),
    packedAccounts(report.downtime),
    packedAccounts(report.scored),
    packedUints(report.scores),
    packedAccounts(report.feePayers),
    packedUints(report.fees),
  ]))
}

/** The digest as 0x hex (how reports are keyed and compared). */
export const reportDigestHex = (chainId: bigint | number, ledgerAddress: string, report: EpochReport): string =>
  toHex(reportDigest(chainId, ledgerAddress, report))

/** Evidence id of the downtime slash of `operator` in `epoch`: keccak256(abi.encode(keccak256("dai/downtime/v1"), epoch, operator)). */
export const downtimeEvidenceId = (epoch: number, operator: Account): string =>
  toHex(keccak256(concatWords([keccakText("dai/downtime/v1"), uintWord(BigInt(epoch)), addressWord(accountBytes(operator))])))

/** Evidence id of the double-sign slash of `operator` for signing two reports of `epoch`: keccak256(abi.encode(keccak256("dai/epoch-report-conflict/v1"), epoch, operator)). */
export const conflictEvidenceId = (epoch: number, operator: Account): string =>
  toHex(keccak256(concatWords([keccakText("dai/epoch-report-conflict/v1"), uintWord(BigInt(epoch)), addressWord(accountBytes(operator))])))
