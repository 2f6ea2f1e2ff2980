import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { VotePool } from "./aggregation.ts"
import { certificateVotes, decodeMessage, encodeMessage, type VoteCertificate } from "./codec.ts"
import { keccak256, utf8ToBytes } from "../crypto.ts"
import { signVote, verifyVote } from "./signing.ts"
import { ValidatorSet } from "./validator-set.ts"
import type { Hash, Vote, VoteType } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const addr = (i: number) => `0x${(i + 1).toString(16).padStart(40, "0")}`
const hash = (i: number) => `0x${i.toString(16).padStart(64, "0")}`
const SIG = `0x${"00".repeat(65)}`
const vote = (v: number, blockHash: Hash | null, round = 0, type: VoteType = "prevote", height = 1): Vote =>
  ({ type, height, round, blockHash, validator: addr(v), signature: SIG })
const setOf = (...powers: number[]) => ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) })))

describe("VotePool (the aggregator's)", () => {
  it("publishes nothing before the signers hold +2/3, then one certificate per hash, then stragglers as a follow-up", () => {
    const pool = new VotePool(1, setOf(1, 1, 1, 1)) // quorum 3
    expect(pool.add(vote(0, hash(1)))).toBe(true)
    expect(pool.add(vote(1, null))).toBe(true)
    expect(pool.take(0, "prevote").certificates).toEqual([])
    expect(pool.opened(0, "prevote")).toBe(false)
    pool.add(vote(2, hash(1)))
    const first = pool.take(0, "prevote")
    expect(first.followUp).toBe(false)
    expect(first.certificates.map((c) => [c.blockHash, c.signers.map((s) => s.validator)])).toEqual([[hash(1), [addr(0), addr(2)]], [null, [addr(1)]]])
    expect(pool.take(0, "prevote").certificates).toEqual([])
    pool.add(vote(3, hash(1)))
    const late = pool.take(0, "prevote")
    expect(late.followUp).toBe(true)
    expect(late.certificates.map((c) => c.signers.map((s) => s.validator))).toEqual([[addr(3)]])
    // Other slots are their own.
    expect(pool.take(0, "precommit").certificates).toEqual([])
  })

  it("keeps an equivocator's two votes (both go out, so every receiver sees the conflict), refuses repeats, strangers and other heights", () => {
    const pool = new VotePool(1, setOf(1, 1, 1, 1))
    expect(pool.add(vote(0, hash(1)))).toBe(true)
    expect(pool.add(vote(0, hash(1)))).toBe(false)
    expect(pool.add(vote(0, hash(2)))).toBe(true)
    expect(pool.add(vote(9, hash(1)))).toBe(false)
    expect(pool.add(vote(1, hash(1), 0, "prevote", 2))).toBe(false)
    // The equivocator's power counts once: 0 and 1 are 2 of 4, short of the quorum.
    pool.add(vote(1, hash(1)))
    expect(pool.take(0, "prevote").certificates).toEqual([])
    pool.add(vote(2, hash(1)))
    const certs = pool.take(0, "prevote").certificates
    expect(certs.map((c) => [c.blockHash, c.signers.length])).toEqual([[hash(1), 3], [hash(2), 1]])
  })

  it("pools at most 4 hashes of one validator per slot", () => {
    const pool = new VotePool(1, setOf(1, 1, 1, 1))
    for (let i = 1; i <= 4; i++) expect(pool.add(vote(0, hash(i)))).toBe(true)
    expect(pool.add(vote(0, hash(5)))).toBe(false)
  })

  it("every pooled vote goes out exactly once, and only once +2/3 signed (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.record({ v: fc.nat(7), h: fc.nat(2), takeAfter: fc.boolean() }), { maxLength: 40 }),
        (powers, ops) => {
          const set = setOf(...powers)
          const pool = new VotePool(1, set)
          const added: string[] = []
          const out: string[] = []
          const signers = new Set<number>()
          for (const op of ops) {
            if (op.v >= powers.length) continue
            if (pool.add(vote(op.v, op.h === 0 ? null : hash(op.h)))) (added.push(`${op.v}/${op.h}`), signers.add(op.v))
            if (op.takeAfter) {
              const power = [...signers].reduce((s, i) => s + BigInt(powers[i]!), 0n)
              const certs = pool.take(0, "prevote").certificates
              if (power < set.quorum) expect(certs).toEqual([])
              for (const c of certs) for (const s of c.signers) out.push(`${Number(s.validator) - 1}/${c.blockHash === null ? 0 : Number(c.blockHash)}`)
            }
          }
          const power = [...signers].reduce((s, i) => s + BigInt(powers[i]!), 0n)
          for (const c of pool.take(0, "prevote").certificates) for (const s of c.signers) out.push(`${Number(s.validator) - 1}/${c.blockHash === null ? 0 : Number(c.blockHash)}`)
          if (power >= set.quorum) expect([...out].sort()).toEqual([...added].sort())
          else expect(out).toEqual([])
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe("certificate wire form", () => {
  const key = (i: number) => keccak256(utf8ToBytes(`dai/test/agg/${i}`))
  it("round-trips canonically and expands into votes whose signatures verify", () => {
    const votes = [0, 1, 2].map((i) => signVote(key(i), 31337, { type: "precommit", height: 7, round: 2, blockHash: hash(5) }))
    const cert: VoteCertificate = { kind: "certificate", type: "precommit", height: 7, round: 2, blockHash: hash(5), signers: votes.map((v) => ({ validator: v.validator, signature: v.signature })) }
    const bytes = encodeMessage(cert)
    const back = decodeMessage(bytes)
    expect(Result.isSuccess(back) && back.success).toEqual(cert)
    const expanded = certificateVotes(cert)
    expect(expanded).toEqual(votes)
    expect(certificateVotes(cert)).toBe(expanded) // remembered per object
    for (const v of expanded) expect(verifyVote(v, 31337)).toBe(true)
  })

  it("refuses a malformed certificate, naming the field", () => {
    const good = { kind: "certificate", type: "prevote", height: 1, round: 0, blockHash: null, signers: [{ validator: addr(0), signature: SIG }] }
    const fieldOf = (value: unknown) => {
      const r = decodeMessage(new TextEncoder().encode(JSON.stringify(value)))
      return Result.isFailure(r) ? r.failure.field : "ok"
    }
    expect(fieldOf(good)).toBe("ok")
    expect(fieldOf({ ...good, signers: [] })).toBe("signers")
    expect(fieldOf({ ...good, signers: [{ validator: "0x12", signature: SIG }] })).toBe("signers[0].validator")
    expect(fieldOf({ ...good, type: "vote" })).toBe("type")
    expect(fieldOf({ ...good, extra: 1 })).toBe("extra")
  })
})
