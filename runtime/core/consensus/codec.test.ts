import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { toHex } from "../crypto.ts"
import { canonicalJson } from "./block.ts"
import { type ConsensusMessage, decodeMessage, decodeMessageValue, decodeShared, encodeMessage } from "./codec.ts"
import type { AppTx, Block, Json, Vote } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map(toHex)
const height = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
const round = fc.integer({ min: 0, max: 1_000_000 })
// JSON has no -0 (it is written 0), so the values a message can carry have none either.
const json: fc.Arbitrary<Json> = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as Json)
const tx: fc.Arbitrary<AppTx> = fc
  // Any text, beyond ASCII too (a commit's bytes are joined from its parts' UTF-8).
  .tuple(fc.string({ unit: "binary" }), fc.dictionary(fc.string().filter((k) => k !== "type" && k !== "__proto__"), json, { maxKeys: 4 }))
  .map(([type, rest]) => ({ ...rest, type }))
const block: fc.Arbitrary<Block> = fc.record({
  height, round, proposer: hex(20), parentHash: hex(32), time: fc.nat(), txs: fc.array(tx, { maxLength: 4 }), appHash: hex(32),
})
const vote: fc.Arbitrary<Vote> = fc.record({
  type: fc.constantFrom("prevote" as const, "precommit" as const), height, round,
  blockHash: fc.option(hex(32), { nil: null }), validator: hex(20), signature: hex(65),
})
const message: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  vote.map((v) => ({ kind: "vote" as const, vote: v })),
  fc.tuple(block, fc.integer({ min: -1, max: 10 }), hex(20), hex(65)).map(([b, pol, proposer, signature]) => ({
    kind: "proposal" as const,
    proposal: { height: b.height, round: pol + 1 + (b.round % 5), polRound: pol, block: b, proposer, signature },
  })),
  fc.tuple(block, fc.array(vote, { minLength: 1, maxLength: 4 }), round).map(([b, vs, r]) => ({
    kind: "commit" as const, block: b, precommits: vs.map((v) => ({ ...v, type: "precommit" as const, height: b.height, round: r })),
  })),
)

const fieldOf = (r: Result.Result<ConsensusMessage, { field: string }>) => (Result.isFailure(r) ? r.failure.field : "ok")
const utf8 = (s: string) => new TextEncoder().encode(s)

describe("consensus wire codec", () => {
  it("property: decode(encode(m)) = m", () => {
    fc.assert(
      fc.property(message, (m) => {
        const r = decodeMessage(encodeMessage(m))
        expect(Result.isSuccess(r) ? r.success : r.failure).toEqual(m)
      }),
      { numRuns: RUNS },
    )
  })

  it("encodes canonically: one message, one byte string", () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m)
        const again = decodeMessage(bytes)
        expect(Result.isSuccess(again) && encodeMessage(again.success)).toEqual(bytes)
      }),
      { numRuns: RUNS },
    )
  })

  it("property: the encoding is the canonical JSON of the message, its votes and blocks written once per object", () => {
    fc.assert(
      fc.property(message, (m) => {
        const expected = utf8(canonicalJson(m as unknown as Json))
        expect(encodeMessage(m)).toEqual(expected)
        expect(encodeMessage(m)).toEqual(expected) // again, from the remembered parts
      }),
      { numRuns: RUNS },
    )
  })

  it("decodeShared decodes the same bytes once, to the result decodeMessage gives", () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m)
        const a = decodeShared(bytes)
        expect(decodeShared(bytes)).toBe(a)
        expect(a).toEqual(decodeMessage(bytes))
        expect(decodeShared(bytes.slice())).not.toBe(a) // other bytes, decoded afresh
      }),
      { numRuns: RUNS },
    )
    const bad = utf8("{")
    expect(Result.isFailure(decodeShared(bad))).toBe(true)
  })

  it("property: random bytes never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(Result.isFailure(decodeMessage(bytes))).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it("property: random mutations of valid messages never throw, and what decodes re-encodes", () => {
    /** Replace the value at a random path of `v` (chosen by `pick`) by `replacement`, or delete it. */
    const mutate = (v: unknown, pick: number[], replacement: unknown): unknown => {
      if (v === null || typeof v !== "object") return replacement
      const keys = Object.keys(v)
      if (keys.length === 0) return replacement
      const [head = 0, ...rest] = pick
      const k = keys[head % keys.length]!
      const copy: Record<string, unknown> = Array.isArray(v) ? ([...v] as unknown as Record<string, unknown>) : { ...v }
      if (rest.length === 0 && replacement === undefined) delete copy[k]
      else copy[k] = mutate((v as Record<string, unknown>)[k], rest, replacement)
      return copy
    }
    fc.assert(
      fc.property(
        message,
        fc.array(fc.nat(20), { minLength: 1, maxLength: 5 }),
        fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.string(), fc.integer({ min: -3, max: 3 })),
        (m, path, replacement) => {
          const value = mutate(JSON.parse(new TextDecoder().decode(encodeMessage(m))), path, replacement)
          const r = decodeMessageValue(value)
          if (Result.isSuccess(r)) expect(decodeMessage(encodeMessage(r.success))).toEqual(Result.succeed(r.success))
          const text = JSON.stringify(value) ?? ""
          expect(() => decodeMessage(utf8(text))).not.toThrow()
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("names the field at fault", () => {
    const v = { kind: "vote", vote: { type: "prevote", height: 1, round: 0, blockHash: null, validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(65)}` } }
    const bad = (patch: object) => fieldOf(decodeMessageValue({ ...v, vote: { ...v.vote, ...patch } }))
    expect(fieldOf(decodeMessageValue(v))).toBe("ok")
    expect(bad({ round: -1 })).toBe("vote.round")
    expect(bad({ height: 1.5 })).toBe("vote.height")
    expect(bad({ type: "maybe" })).toBe("vote.type")
    expect(bad({ blockHash: "0x12" })).toBe("vote.blockHash")
    expect(bad({ validator: `0x${"AB".repeat(20)}` })).toBe("vote.validator")
    expect(bad({ extra: 1 })).toBe("vote.extra")
    expect(fieldOf(decodeMessageValue({ ...v, kind: "gossip" }))).toBe("kind")
    expect(fieldOf(decodeMessageValue([1]))).toBe("(message)")
    const b = { height: 1, round: 0, proposer: `0x${"11".repeat(20)}`, parentHash: `0x${"00".repeat(32)}`, time: 0, txs: [{ type: "x" }, { kind: 1 }], appHash: `0x${"00".repeat(32)}` }
    const p = { kind: "proposal", proposal: { height: 1, round: 0, polRound: -1, block: b, proposer: b.proposer, signature: v.vote.signature } }
    expect(fieldOf(decodeMessageValue(p))).toBe("proposal.block.txs[1].type")
    expect(fieldOf(decodeMessageValue({ ...p, proposal: { ...p.proposal, polRound: 0, block: { ...b, txs: [] } } }))).toBe("proposal.polRound")
    const c = { kind: "commit", block: { ...b, txs: [] }, precommits: [{ ...v.vote, type: "precommit" }, { ...v.vote, type: "precommit", round: 1 }] }
    expect(fieldOf(decodeMessageValue(c))).toBe("precommits[1]")
  })

  it("keeps a `__proto__` key of a tx as data, never as a prototype", () => {
    const b = { height: 1, round: 0, proposer: `0x${"11".repeat(20)}`, parentHash: `0x${"00".repeat(32)}`, time: 0, txs: [], appHash: `0x${"00".repeat(32)}` }
    const pc = { type: "precommit", height: 1, round: 0, blockHash: null, validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(65)}` }
    const text = JSON.stringify({ kind: "commit", block: b, precommits: [pc] }).replace('"txs":[]', '"txs":[{"type":"x","__proto__":{"polluted":1}}]')
    const r = decodeMessage(utf8(text))
    const tx = Result.isSuccess(r) && r.success.kind === "commit" ? r.success.block.txs[0]! : undefined
    expect(tx === undefined ? [] : Object.keys(tx)).toEqual(["type", "__proto__"])
    expect(Object.getPrototypeOf(tx)).toBe(Object.prototype)
    expect(({} as { polluted?: number }).polluted).toBeUndefined()
  })

  it("rejects bytes that are not UTF-8 JSON, or too many of them, with a message", () => {
    const r = decodeMessage(Uint8Array.of(0xff, 0xfe))
    expect(Result.isFailure(r) && r.failure.message).toMatch(/^bad consensus message: \(message\): not UTF-8 JSON/)
    expect(fieldOf(decodeMessage(utf8("{"), {}))).toBe("(message)")
    const big = decodeMessage(new Uint8Array(100), { maxBytes: 99 })
    expect(Result.isFailure(big) && big.failure.reason).toMatch(/100 bytes, more than the 99 allowed/)
  })
})
