/**
 * What a trainer signs for a training round, and the check every replica runs on a `round-result`.
 *
 * A trainer that sends its update signs `(chainId, round, participant, updateHash)`, where
 * `updateHash` is keccak256 of the bytes it sent (its float32 delta, or its masked input under secure
 * aggregation). The coordinator carries these signatures in its `round-result`, one per listed
 * participant, in the same order. A result is provably false when a listed participant is neither a
 * bonded trainer nor a validator (it has no trainer key), or its signature is missing or is not by
 * that key: nobody but the participant could have made it, so the chain needs no one's word.
 */
import { fromHex, keccak256, toHex, utf8ToBytes } from "../crypto.ts"

/** One participant's signature over its update commitment, as a `round-result` carries it. */
export interface RoundAttestation {
  readonly updateHash: string
  readonly signature: string
}

/** keccak256 of the update bytes a trainer sent (0x-hex). */
export const updateHash = (payload: Uint8Array): string => toHex(keccak256(payload))

/** What a participant signs for its update of `round`. */
export const attestationDigest = (chainId: number, round: number, participant: string, hash: string): Uint8Array =>
  keccak256(utf8ToBytes(`dai/round-update/v1/${chainId}/${round}/${participant}/${hash}`))

/** What the check needs: the signing key of a trainer account (undefined: not a bonded trainer or validator), and the signature scheme. */
export interface AttestationLedger {
  readonly chainId: number
  trainerKey(account: string): string | undefined
  verify(address: string, digest: Uint8Array, signature: Uint8Array): boolean
}

/** Why a result with these participants and signatures is provably false, or undefined when every participant signed. */
export const forgedParticipants = (
  ledger: AttestationLedger, round: number, participants: readonly string[], attestations: readonly RoundAttestation[] | undefined,
): string | undefined => {
  if (attestations === undefined) return `round ${round} carries no signatures of its participants`
  if (attestations.length !== participants.length) return `round ${round} lists ${participants.length} participants and ${attestations.length} signatures`
  for (const [i, participant] of participants.entries()) {
    const key = ledger.trainerKey(participant)
    if (key === undefined) return `${participant} is not a bonded trainer or a validator`
    const a = attestations[i]!
    if (!ledger.verify(key, attestationDigest(ledger.chainId, round, participant, a.updateHash), fromHex(a.signature))) {
      return `the signature of ${participant} over its update of round ${round} is not by its key ${key}`
    }
  }
  return undefined
}
