import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeMarketMessage, encodeMarketMessage, MAX_MARKET_MESSAGE_BYTES, type MarketMessage } from "./wire.ts"

const utf8 = new TextEncoder()
const decode = (x: unknown) => decodeMarketMessage(utf8.encode(JSON.stringify(x)))

describe("market messages", () => {
  it("round-trips every message", () => {
    const all: MarketMessage[] = [
      { v: 1, t: "assigned", job: 1 }, { v: 1, t: "check", job: 7, nonce: 0 }, { v: 1, t: "verdict", job: 7, nonce: 3, ok: false }, { v: 1, t: "resolve", job: 9 },
    ]
    for (const m of all) expect(decodeMarketMessage(encodeMarketMessage(m))).toEqual(Result.succeed(m))
  })

  it("refuses what is not one of them, with a reason", () => {
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
})
