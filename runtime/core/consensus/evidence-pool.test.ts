/**
 * The evidence pool: submitted evidence is checked (known height, valid against that height's set,
 * not tombstoned) with the refusal a person sees; one pending piece per equivocation, in the order
 * added; what a block included leaves the pool.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, utf8ToBytes, verifySignature } from "../crypto.ts"
import { duplicateVoteEvidence } from "./evidence.ts"
import { EvidencePool, evidenceKey, type EvidenceLedger } from "./evidence-pool.ts"
import { signVote } from "./signing.ts"
import type { AppTx, DuplicateVoteEvidence, Vote } from "./types.ts"
import { ValidatorSet } from "./validator-set.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const CHAIN = 5
const keys = [0, 1, 2].map((i) => keccak256(utf8ToBytes(`dai/evidence-pool-test/${i}`)))
const addresses = keys.map(addressOfPrivateKey)
const hash = (byte: string) => `0x${byte.repeat(32)}`

/** A ledger executed up to `height`, with one validator set for every height and a tombstone list. */
const ledger = (height: number, members = addresses): EvidenceLedger & { height: number; readonly dead: Set<string> } => {
  const set = ValidatorSet.from(members.map((address) => ({ address, power: 1n })))
  const dead = new Set<string>()
  return { height, chainId: CHAIN, dead, validatorSet: () => set, tombstoned: (v) => dead.has(v) }
}

/** Real evidence of validator `k` at `height` (two prevotes of round 0 for different blocks). */
const evidenceOf = (k: number, height: number, round = 0): DuplicateVoteEvidence =>
  duplicateVoteEvidence(
    signVote(keys[k]!, CHAIN, { type: "prevote", height, round, blockHash: hash("0a") }),
    signVote(keys[k]!, CHAIN, { type: "prevote", height, round, blockHash: hash("0b") }),
  )

const evidenceTx = (e: DuplicateVoteEvidence): AppTx => ({ type: "evidence", voteA: e.voteA, voteB: e.voteB }) as unknown as AppTx

describe("evidence pool: checks of submitted evidence", () => {
  it("takes valid evidence of a known height", () => {
    const pool = new EvidencePool(ledger(4), verifySignature)
    for (const h of [1, 4, 5]) expect(pool.check(evidenceOf(0, h))).toBeUndefined()
  })

  it("refuses a height not known yet, or not a height at all, naming the executed height", () => {
    const pool = new EvidencePool(ledger(4), verifySignature)
    expect(pool.check(evidenceOf(0, 6))).toBe("evidence height 6 is not a known height (executed up to 4)")
    const e = evidenceOf(0, 2)
    for (const height of [0, -1, 1.5]) {
      expect(pool.check({ voteA: { ...e.voteA, height }, voteB: { ...e.voteB, height } })).toBe(`evidence height ${height} is not a known height (executed up to 4)`)
    }
  })

  it("refuses evidence that does not verify against the height's validator set, with the reason", () => {
    const pool = new EvidencePool(ledger(4, addresses.slice(0, 2)), verifySignature)
    const e = evidenceOf(0, 3)
    expect(pool.check({ voteA: e.voteA, voteB: { ...e.voteB, signature: e.voteA.signature } })).toBe("invalid evidence: voteB's signature is not the validator's")
    expect(pool.check(evidenceOf(2, 3))).toBe(`invalid evidence: ${addresses[2]} is not in the validator set`)
    expect(pool.check({ voteA: e.voteB, voteB: e.voteA })).toBe("invalid evidence: the votes are not in canonical order")
  })

  it("refuses evidence against a validator tombstoned already", () => {
    const l = ledger(4)
    const pool = new EvidencePool(l, verifySignature)
    l.dead.add(addresses[1]!)
    expect(pool.check(evidenceOf(1, 3))).toBe(`${addresses[1]} is tombstoned already: its double signing was punished`)
    expect(pool.check(evidenceOf(0, 3))).toBeUndefined()
  })

  it("checks without keeping: the pool changes only through add", () => {
    const pool = new EvidencePool(ledger(4), verifySignature)
    pool.check(evidenceOf(0, 3))
    expect(pool.size).toBe(0)
    expect(pool.pending()).toEqual([])
  })
})

describe("evidence pool: pending evidence", () => {
  it("keeps one piece per equivocation, the first one added, in the order added", () => {
    const pool = new EvidencePool(ledger(9), verifySignature)
    const [a, b] = [evidenceOf(0, 3), evidenceOf(1, 3)]
    expect(pool.add(a)).toBe(true)
    expect(pool.add(b)).toBe(true)
    // Another pair of votes showing the same equivocation (validator, height, round, type).
    const third = signVote(keys[0]!, CHAIN, { type: "prevote", height: 3, round: 0, blockHash: hash("0c") })
    expect(pool.add(duplicateVoteEvidence(a.voteA, third))).toBe(false)
    expect(pool.add(a)).toBe(false)
    expect(pool.pending()).toEqual([a, b])
    // Another round, another type: other equivocations.
    expect(pool.add(evidenceOf(0, 3, 1))).toBe(true)
    expect(pool.size).toBe(3)
  })

  it("drops what a block included (whichever pair showed it), and only that", () => {
    const pool = new EvidencePool(ledger(9), verifySignature)
    const [a, b] = [evidenceOf(0, 3), evidenceOf(1, 4)]
    pool.add(a)
    pool.add(b)
    const other = signVote(keys[1]!, CHAIN, { type: "prevote", height: 4, round: 0, blockHash: hash("0c") })
    pool.removeIncluded([{ type: "last-commit", height: 8, precommits: [] }, evidenceTx(duplicateVoteEvidence(b.voteA, other))])
    expect(pool.pending()).toEqual([a])
    pool.removeIncluded([evidenceTx(a)])
    expect(pool.pending()).toEqual([])
    expect(pool.size).toBe(0)
  })

  it("property: what was added and not included since is pending exactly once, in order; included evidence does not come back", () => {
    // Votes need no valid signature here: add, pending and removeIncluded never verify (check does).
    const vote = (validator: number, height: number, round: number, type: Vote["type"], block: number): Vote => ({
      type, height, round, blockHash: block === 0 ? null : hash(block.toString(16).padStart(2, "0")), validator: addresses[validator]!, signature: `0x${"00".repeat(65)}`,
    })
    const evidence = fc.record({
      validator: fc.integer({ min: 0, max: 2 }), height: fc.integer({ min: 1, max: 3 }), round: fc.integer({ min: 0, max: 1 }),
      type: fc.constantFrom<Vote["type"]>("prevote", "precommit"), blocks: fc.constantFrom([0, 1], [1, 2], [0, 2]),
    }).map(({ validator, height, round, type, blocks }) => duplicateVoteEvidence(vote(validator, height, round, type, blocks[0]!), vote(validator, height, round, type, blocks[1]!)))
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), evidence }),
      fc.record({ kind: fc.constant("include" as const), block: fc.array(evidence, { maxLength: 4 }) }),
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const pool = new EvidencePool(ledger(9), verifySignature)
      // The model: pending equivocations in the order first added, each with the evidence that came first.
      const model = new Map<string, DuplicateVoteEvidence>()
      for (const o of ops) {
        if (o.kind === "add") {
          const fresh = !model.has(evidenceKey(o.evidence))
          expect(pool.add(o.evidence)).toBe(fresh)
          if (fresh) model.set(evidenceKey(o.evidence), o.evidence)
        } else {
          pool.removeIncluded([{ type: "last-commit", height: 1, precommits: [] }, ...o.block.map(evidenceTx)])
          for (const e of o.block) model.delete(evidenceKey(e))
          const pendingKeys = new Set(pool.pending().map(evidenceKey))
          for (const e of o.block) expect(pendingKeys.has(evidenceKey(e))).toBe(false)
        }
        const pending = pool.pending()
        expect(pending).toEqual([...model.values()])
        expect(new Set(pending.map(evidenceKey)).size).toBe(pending.length)
        expect(pool.size).toBe(pending.length)
      }
    }), { numRuns: RUNS })
  })
})
