import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { keccak256, toHex } from "../crypto.ts"
import { blockHash, blockHeaderBytes, canonicalJson, txsHash } from "./block.ts"
import { type Block, type Json, ZERO_HASH } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const block: Block = {
  height: 1, round: 0, proposer: `0x${"12".repeat(20)}`, parentHash: ZERO_HASH, time: 1000,
  txs: [{ type: "note", b: 2, a: [1, "x"] }], appHash: `0x${"34".repeat(32)}`,
}

describe("canonical JSON", () => {
  it("sorts keys at every depth and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null], c: "x" } })).toBe('{"a":{"c":"x","d":[true,null]},"b":1}')
    expect(canonicalJson(-0)).toBe("0")
  })

  it("rejects what is not JSON, naming where", () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] } as Json)).toThrow("$.a[1]: not a finite number")
    expect(() => canonicalJson({ a: 1n } as unknown as Json)).toThrow("$.a: not a JSON value (bigint)")
  })

  it("is the same for the same value however its keys were ordered", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const shuffled = JSON.parse(JSON.stringify(v, (_k, x) => (x !== null && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x)))
        expect(canonicalJson(shuffled as Json)).toBe(canonicalJson(v as Json))
        expect(JSON.parse(canonicalJson(v as Json))).toEqual(JSON.parse(JSON.stringify(v)))
      }),
      { numRuns: RUNS },
    )
  })
})

describe("block hash", () => {
  it("hashes a fixed 224-byte header: tag, height, round, proposer, parent, time, txsHash, appHash", () => {
    const bytes = blockHeaderBytes(block)
    expect(bytes.length).toBe(12 + 32 + 32 + 20 + 32 + 32 + 32 + 32)
    expect(toHex(bytes.subarray(0, 12))).toBe("0x6461692f626c6f636b2f7631") // "dai/block/v1"
    expect(blockHash(block)).toBe("0xe551c2961f8a7992eb844714bd1f65a18860cbd1b8bfc92100a3fd5cabb68192")
    expect(txsHash([])).toBe(toHex(keccak256(new Uint8Array(0))))
  })

  it("changes with every field, and not with the key order of a tx", () => {
    const h = blockHash(block)
    for (const changed of [
      { ...block, height: 2 }, { ...block, round: 1 }, { ...block, proposer: `0x${"13".repeat(20)}` },
      { ...block, parentHash: `0x${"01".repeat(32)}` }, { ...block, time: 1001 }, { ...block, txs: [] },
      { ...block, txs: [{ type: "note", b: 3, a: [1, "x"] }] }, { ...block, appHash: ZERO_HASH },
    ]) expect(blockHash(changed)).not.toBe(h)
    expect(blockHash({ ...block, txs: [{ a: [1, "x"], type: "note", b: 2 }] })).toBe(h)
  })
})
