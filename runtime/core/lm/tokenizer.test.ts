import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { BYTE_VOCAB_SIZE, characterCount, decode, encode, streamDecoder } from "./tokenizer.ts"

describe("byte-level tokenizer", () => {
  it("property: decode(encode(s)) = s for every string of Unicode code points", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      expect(decode(encode(s))).toBe(s)
    }))
  })

  it("property: every token is a byte, and the tokens are the UTF-8 encoding", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const t = encode(s)
        expect(t.every((x) => Number.isInteger(x) && x >= 0 && x < BYTE_VOCAB_SIZE)).toBe(true)
        expect(t).toEqual(Array.from(Buffer.from(s, "utf8")))
        expect(characterCount(t)).toBe([...s].length)
      }),
    )
  })

  it("property: the streaming decoder, fed one token at a time, gives the same text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const d = streamDecoder()
        const text = encode(s).map((t) => d.push(t)).join("") + d.end()
        expect(text).toBe(s)
      }),
    )
  })

  it("decodes an invalid byte sequence with U+FFFD and rejects non-bytes", () => {
    expect(decode([0x41, 0xc3])).toBe("A\uFFFD")
    expect(encode("é")).toEqual([0xc3, 0xa9])
    const d = streamDecoder()
    expect(d.push(0xc3)).toBe("") // half of é: printed once whole
    expect(d.push(0xa9)).toBe("é")
    expect(() => decode([256])).toThrow(/not a byte/)
    expect(() => decode([1.5])).toThrow(/not a byte/)
  })
})
