/**
 * Test support for committee reports (used by the tests beside it, the economy's committee
 * properties and the simulated chain's tests): a toy signature scheme and report builders.
 *
 * The toy scheme signs with the signing address itself: signature = keccak256(address ‖ digest),
 * padded to 65 bytes. Anyone can forge it, which is fine for testing the ledger's rules (who signed,
 * with what power); the real scheme (secp256k1) is tested in verify.test.ts.
 */
import { fromHex, keccak256, toHex } from "../crypto.ts"
import { reportDigest, ZERO_ADDRESS } from "./digest.ts"
import type { EpochReport, ReportSignature, Snapshot } from "./types.ts"

/** The toy signature of `digest` by `address`. */
export const toySign = (address: string, digest: Uint8Array): string => {
  const key = fromHex(address.toLowerCase())
  const input = new Uint8Array(key.length + digest.length)
  input.set(key, 0)
  input.set(digest, key.length)
  const out = new Uint8Array(65)
  out.set(keccak256(input), 0)
  return toHex(out)
}

/** The toy scheme's check. */
export const toyVerify = (address: string, digest: Uint8Array, signature: Uint8Array): boolean => toySign(address, digest) === toHex(signature)

/** The chain id the tests' ledgers use. */
export const TEST_CHAIN_ID = 31337n

/** Toy signatures of `report` by the validators of `snapshot` whose operators are listed (in that order). */
export const toySignatures = (snapshot: Snapshot, report: EpochReport, operators: readonly string[], chainId: bigint = TEST_CHAIN_ID): ReportSignature[] => {
  const digest = reportDigest(chainId, ZERO_ADDRESS, report)
  return operators.map((op) => {
    const v = snapshot.validators.find((x) => x.operator === op)
    if (v === undefined) throw new Error(`toySignatures: ${op} is not a validator of snapshot ${snapshot.id}`)
    return { signer: v.signingKey, signature: toySign(v.signingKey, digest) }
  })
}

/** Operators of `snapshot` in validator-set order whose power first reaches the quorum (all of them if it never does). */
export const quorumSigners = (snapshot: Snapshot): string[] => {
  const out: string[] = []
  let power = 0n
  for (const v of snapshot.validators) {
    if (power >= snapshot.quorum) break
    out.push(v.operator)
    power += v.power
  }
  return out
}

/** An empty report of `epoch` over `snapshot` for [fromTime, toTime]. */
export const emptyReport = (epoch: number, snapshotId: number, fromTime: number, toTime: number): EpochReport => ({
  epoch, snapshotId, fromTime, toTime, downtime: [], scored: [], scores: [], feePayers: [], fees: [],
})
