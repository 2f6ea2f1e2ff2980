import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  decodeLayerAnswer, decodeMarketMessage, encodeLayerAnswer, encodeMarketMessage, MAX_LAYER_BYTES, MAX_MARKET_MESSAGE_BYTES, MAX_TRACE_MESSAGE_BYTES, type MarketMessage,
} from "./wire.ts"

const utf8 = new TextEncoder()
const decode = (x: unknown) => decodeMarketMessage(utf8.encode(JSON.stringify(x)))

describe("market messages", () => {
  it("round-trips every message", () => {
    const all: MarketMessage[] = [
      { v: 1, t: "assigned", job: 1 }, { v: 1, t: "check", job: 7, nonce: 0 }, { v: 1, t: "verdict", job: 7, nonce: 3, ok: false }, { v: 1, t: "resolve", job: 9 },
      { v: 1, t: "trace-query", job: 9, note: 2, nonce: 4, level: 3, index: 1 }, { v: 1, t: "layer-query", job: 9, note: 2, nonce: 5, layer: 3 }, { v: 1, t: "trace-none", job: 9, note: 2, nonce: 6 },
      { v: 1, t: "trace-answer", job: 9, note: 2, nonce: 4, left: "0x" + "ab".repeat(32), right: "0x" + "cd".repeat(32) },
    ]
    for (const m of all) expect(decodeMarketMessage(encodeMarketMessage(m))).toEqual(Result.succeed(m))
  })

  it("refuses what is not one of them, with a reason", () => {
    const h = "0x" + "ab".repeat(32)
    for (const bad of [
      { v: 1, t: "trace-query", job: 9, note: 0, nonce: 4, level: 3, index: 1 }, { v: 1, t: "trace-query", job: 9, note: 1, nonce: 4, level: 0, index: 1 },
      { v: 1, t: "trace-query", job: 9, note: 1, nonce: 4, level: 12, index: 1 }, { v: 1, t: "trace-query", job: 9, note: 1, nonce: 4, level: 2, index: 4096 },
      { v: 1, t: "trace-answer", job: 9, note: 1, nonce: 4, left: h.toUpperCase(), right: h }, { v: 1, t: "trace-answer", job: 9, note: 1, nonce: 4, left: h.slice(0, 40), right: h },
      { v: 1, t: "layer-query", job: 9, note: 1, nonce: 4, layer: 1024 }, { v: 1, t: "layer-answer", job: 9, note: 1, nonce: 4, layer: 1, data: "" },
    ]) expect(Result.isFailure(decode(bad)), JSON.stringify(bad)).toBe(true)
    for (const bad of [{ v: 2, t: "assigned", job: 1 }, { v: 1, t: "assigned", job: 0 }, { v: 1, t: "assigned", job: 1.5 }, { v: 1, t: "verdict", job: 1, nonce: 1 }, { v: 1, t: "assigned", job: 1, extra: 1 }, { v: 1, t: "pay-me", job: 1 }, null, "x"]) {
      const r = decode(bad)
      expect(Result.isFailure(r), JSON.stringify(bad)).toBe(true)
      if (Result.isFailure(r)) expect(r.failure).toMatch(/^malformed market message/)
    }
    expect(decodeMarketMessage(new Uint8Array([0xff, 0xfe]))).toEqual(Result.fail("malformed market message: not UTF-8 JSON"))
  })

  it("refuses an oversized message before parsing it", () => {
    const r = decodeMarketMessage(new Uint8Array(MAX_MARKET_MESSAGE_BYTES + 1))
    expect(Result.isFailure(r) && r.failure).toMatch(/^oversized/)
  })

  it("carries a trace message within the market cap, and a layer's bytes within the trace topic's", () => {
    const worst: MarketMessage = { v: 1, t: "trace-answer", job: Number.MAX_SAFE_INTEGER, note: Number.MAX_SAFE_INTEGER, nonce: Number.MAX_SAFE_INTEGER, left: "0x" + "ab".repeat(32), right: "0x" + "cd".repeat(32) }
    expect(encodeMarketMessage(worst).length).toBeLessThanOrEqual(MAX_MARKET_MESSAGE_BYTES)
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
    const a = { job: 3, note: 4, nonce: 5, layer: 2, data }
    expect(decodeLayerAnswer(encodeLayerAnswer(a)!)).toEqual(Result.succeed(a))
    // The largest layer a referee asks for fits; more does not, and is refused before parsing when sent anyway.
    const max = { ...a, job: Number.MAX_SAFE_INTEGER, note: Number.MAX_SAFE_INTEGER, nonce: Number.MAX_SAFE_INTEGER, layer: 1023, data: new Uint8Array(MAX_LAYER_BYTES) }
    expect(encodeLayerAnswer(max)).toBeDefined()
    expect(encodeLayerAnswer({ ...a, data: new Uint8Array(MAX_LAYER_BYTES + 1024) })).toBeUndefined()
    expect(decodeLayerAnswer(new Uint8Array(MAX_TRACE_MESSAGE_BYTES + 1))).toEqual(Result.fail(`oversized layer answer: ${MAX_TRACE_MESSAGE_BYTES + 1} bytes (limit ${MAX_TRACE_MESSAGE_BYTES})`))
    expect(Result.isFailure(decodeLayerAnswer(utf8.encode(JSON.stringify({ v: 1, t: "layer-answer", job: 1, note: 1, nonce: 0, layer: 1, data: "a*==" }))))).toBe(true)
  })
})
