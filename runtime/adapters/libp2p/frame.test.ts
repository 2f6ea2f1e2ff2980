import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeBody, encodeFrame, FrameDecoder, type Decoded, type FrameLimits } from "./frame.ts"

const limits: FrameLimits = { maxBodyBytes: 4096, maxTopicBytes: 64 }
const bytes = (s: string) => new TextEncoder().encode(s)

/** Splits `data` at the given cut points (any order, any value), feeding each piece to a fresh decoder. */
function decodeInPieces(data: Uint8Array, cuts: number[]): { out: Decoded[]; decoder: FrameDecoder } {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
  const decoder = new FrameDecoder(limits)
  const out: Decoded[] = []
  let last = 0
  for (const p of [...points, data.length]) {
    out.push(...decoder.push(data.subarray(last, p)))
    last = p
  }
  const tail = decoder.end()
  if (tail !== undefined) out.push(tail)
  return { out, decoder }
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const topicArb = fc.string({ minLength: 1, maxLength: 16, unit: "grapheme" }).filter((t) => Buffer.byteLength(t) <= limits.maxTopicBytes)

describe("direct-message frames", () => {
  it("property: any sequence of frames survives any split into chunks", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(topicArb, fc.uint8Array({ maxLength: 300 })), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const wire = concat(frames.map(([t, d]) => encodeFrame(t, d, limits)))
          const { out } = decodeInPieces(wire, cuts)
          expect(out).toEqual(frames.map(([topic, data]) => ({ type: "frame", topic, data })))
        },
      ),
    )
  })

  it("property: arbitrary bytes never throw, and every result is a frame or a counted drop", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 10 }), (garbage, cuts) => {
        const { out } = decodeInPieces(garbage, cuts)
        for (const d of out) {
          expect(["frame", "drop"]).toContain(d.type)
          if (d.type === "drop") expect(["oversized", "malformed"]).toContain(d.reason)
        }
      }),
    )
  })

  it("rejects an oversized frame from its header alone and ignores the rest of the stream", () => {
    const decoder = new FrameDecoder(limits)
    const header = new Uint8Array([0xff, 0xff, 0xff, 0xff])
    expect(decoder.push(header)).toEqual([{ type: "drop", reason: "oversized", detail: expect.stringMatching(/4294967295 bytes/) }])
    expect(decoder.failed).toBe(true)
    expect(decoder.push(encodeFrame("t", bytes("later"), limits))).toEqual([])
    expect(decoder.end()).toBeUndefined()
  })

  it("drops a malformed frame and goes on with the next one", () => {
    const bad = [
      new Uint8Array([0, 0, 0, 1, 0]), // body shorter than the topic header
      new Uint8Array([0, 0, 0, 3, 0, 0, 0x41]), // empty topic
      new Uint8Array([0, 0, 0, 3, 0, 9, 0x41]), // topic runs past the body
      new Uint8Array([0, 0, 0, 4, 0, 2, 0xc3, 0x28]), // topic is not UTF-8
      new Uint8Array([0, 0, 0, 3, 0, 65, 0x41]), // topic over maxTopicBytes
    ]
    const good = encodeFrame("ok", bytes("payload"), limits)
    const { out } = decodeInPieces(concat([...bad, good]), [])
    expect(out.map((d) => (d.type === "drop" ? d.reason : d.topic))).toEqual(["malformed", "malformed", "malformed", "malformed", "malformed", "ok"])
  })

  it("reports a stream that ends inside a frame", () => {
    const frame = encodeFrame("t", bytes("abc"), limits)
    for (const cut of [2, frame.length - 1]) {
      const { out } = decodeInPieces(frame.subarray(0, cut), [])
      expect(out).toEqual([{ type: "drop", reason: "malformed", detail: expect.stringMatching(/stream ended inside/) }])
    }
  })

  it("refuses to encode what no peer would accept", () => {
    expect(() => encodeFrame("", bytes("x"), limits)).toThrow(RangeError)
    expect(() => encodeFrame("x".repeat(65), bytes("x"), limits)).toThrow(RangeError)
    expect(() => encodeFrame("t", new Uint8Array(4096), limits)).toThrow(/over the limit/)
    expect(decodeBody(encodeFrame("t", new Uint8Array(0), limits).subarray(4), limits)).toEqual({ type: "frame", topic: "t", data: new Uint8Array(0) })
  })
})
