/**
 * Test support for committee verdicts on market disputes (the econ tests and properties, the ledger's
 * port tests, the simulator's): the committee testkit's toy signatures over a verdict's digest; and
 * the toy layered computation the bisection and fraud-proof properties run over.
 */
import { keccak256 } from "../crypto.ts"
import { makeTrace, type LayerTrace } from "./bisection.ts"
import { TEST_CHAIN_ID, toySign, toyVerify, quorumSigners } from "../committee/testkit.ts"
import { ZERO_ADDRESS } from "../committee/digest.ts"
import type { ReportSignature, Snapshot } from "../committee/types.ts"
import type { JobView, MarketOp } from "./types.ts"
import { frozenNotes, verdictDigest } from "./verdict.ts"

/** The verdict context of the tests' in-memory ledgers: the tests' chain id, the toy scheme, the zero ledger address. */
export const TEST_VERDICT_CTX = { chainId: TEST_CHAIN_ID, verify: toyVerify, ledger: ZERO_ADDRESS } as const

/** Toy signatures of the verdict `providerRight` on disputed `job` by the listed validators of `snapshot` (default: a quorum). */
export const toyVerdictSignatures = (
  snapshot: Snapshot, job: JobView, providerRight: boolean, operators: readonly string[] = quorumSigners(snapshot), chainId: bigint = TEST_CHAIN_ID,
): ReportSignature[] => {
  const digest = verdictDigest(chainId, ZERO_ADDRESS, { job: job.id, providerRight, snapshotId: snapshot.id }, frozenNotes(job))
  return operators.map((op) => {
    const v = snapshot.validators.find((x) => x.operator === op)
    if (v === undefined) throw new Error(`toyVerdictSignatures: ${op} is not a validator of snapshot ${snapshot.id}`)
    return { signer: v.signingKey, signature: toySign(v.signingKey, digest) }
  })
}

/** The resolveDispute op of a verdict on `job` signed (toy scheme) by `operators` of `snapshot` (default a quorum), submitted by `by`. */
export const signedVerdict = (
  snapshot: Snapshot, job: JobView, providerRight: boolean, by: string, operators?: readonly string[],
): Extract<MarketOp, { type: "resolveDispute" }> => ({
  type: "resolveDispute", job: job.id, providerRight, snapshotId: snapshot.id, signatures: toyVerdictSignatures(snapshot, job, providerRight, operators), by,
})

/** Layer i of the toy computation: keccak256(i ‖ layer i − 1's bytes). */
export const toyStep = (i: number, input: Uint8Array): Uint8Array => {
  const b = new Uint8Array(input.length + 1)
  b[0] = i & 0xff
  b.set(input, 1)
  return keccak256(b)
}

/** The toy trace of `layers` layers over `input`; `faults` replaces layer i's output by other bytes (later layers compute from them). */
export const toyTrace = (input: Uint8Array, layers: number, faults: ReadonlyMap<number, Uint8Array> = new Map()): LayerTrace => {
  const a = [faults.get(0) ?? input]
  for (let i = 1; i <= layers; i++) a.push(faults.get(i) ?? toyStep(i, a[i - 1]!))
  return makeTrace(a)
}
