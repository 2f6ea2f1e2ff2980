/**
 * The check of a round result's signatures (round-attestation.ts), with real secp256k1 keys: a result
 * passes exactly when every listed participant has a trainer key and signed its own update of that
 * round; any tampering — a participant added, a signature moved, another round, another update, a
 * participant without a key — makes it provably false. A property over random rounds and tamperings.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { propertyEnv } from "../../../scripts/property-env.ts"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes, verifySignature } from "../crypto.ts"
import { attestationDigest, forgedParticipants, updateHash, type AttestationLedger, type RoundAttestation } from "./round-attestation.ts"

const ATTEST = propertyEnv("ATTEST", 100)
const CHAIN = 9
const ACCOUNTS = ["t0", "t1", "t2", "t3", "v0"] as const
const keyOf = (account: string) => keccak256(utf8ToBytes(`test-key/${account}`))
const addresses = new Map<string, string>(ACCOUNTS.map((a) => [a, addressOfPrivateKey(keyOf(a)).toLowerCase()]))
/** t3 is not bonded: it has a key but no trainer key on the ledger. */
const ledger: AttestationLedger = {
  chainId: CHAIN,
  trainerKey: (a) => (a === "t3" ? undefined : addresses.get(a)),
  verify: verifySignature,
}
const attest = (round: number, account: string, update: Uint8Array): RoundAttestation => {
  const hash = updateHash(update)
  return { updateHash: hash, signature: toHex(signDigest(keyOf(account), attestationDigest(CHAIN, round, account, hash))) }
}

describe("round attestations", () => {
  it("accept a result every bonded participant signed, and refuse every tampering of it", () => {
    const tampering = fc.constantFrom("none", "swap", "round", "update", "unbonded", "drop", "extra")
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1_000 }), fc.uniqueArray(fc.constantFrom("t0", "t1", "t2", "v0"), { minLength: 2, maxLength: 4 }), tampering, fc.uint8Array({ minLength: 4, maxLength: 16 }),
      (round, participants, t, bytes) => {
        ATTEST.tick()
        const signed = participants.map((p, i) => attest(round, p, Uint8Array.from([...bytes, i])))
        let ps: string[] = [...participants]
        let as = [...signed]
        switch (t) {
          case "swap": as = [as[1]!, as[0]!, ...as.slice(2)]; break
          case "round": as[0] = attest(round + 1, ps[0]!, bytes); break
          case "update": as[0] = { ...as[0]!, updateHash: updateHash(Uint8Array.from([...bytes, 99])) }; break
          case "unbonded": ps = [...ps, "t3"]; as = [...as, attest(round, "t3", bytes)]; break
          case "drop": as = as.slice(1); break
          case "extra": ps = [...ps, "t3"]; as = [...as, as[0]!]; break
          case "none": break
        }
        const why = forgedParticipants(ledger, round, ps, as)
        expect(why === undefined).toBe(t === "none")
      },
    ), ATTEST.params)
  }, ATTEST.timeout(50))

  it("says why: no signatures, a count that differs, a participant with no trainer key", () => {
    const a = attest(2, "t0", new Uint8Array(4))
    expect(forgedParticipants(ledger, 2, ["t0"], undefined)).toBe("round 2 carries no signatures of its participants")
    expect(forgedParticipants(ledger, 2, ["t0", "t1"], [a])).toBe("round 2 lists 2 participants and 1 signatures")
    expect(forgedParticipants(ledger, 2, ["t3"], [attest(2, "t3", new Uint8Array(4))])).toBe("t3 is not a bonded trainer or a validator")
    expect(forgedParticipants(ledger, 2, ["t0"], [a])).toBeUndefined()
  })
})
