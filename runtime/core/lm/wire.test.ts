import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  type ClientMessage, decodeClientMessage, decodeServerMessage, decodeVerifiedReply, decodeVerifyRequest, encodeClientMessage, encodeServerMessage, encodeVerifiedReply,
  encodeVerifyRequest, type LmInput, lmBlocksKey, MAX_LM_MESSAGE_BYTES, MAX_RESULT_TRACE, type ServerMessage, type VerifiedReply, type VerifyRequest,
} from "./wire.ts"

const session = "0123456789abcdef"
const ok = <A>(r: Result.Result<A, string>): A => {
  if (Result.isFailure(r)) throw new Error(r.failure)
  return r.success
}
const failure = <A>(r: Result.Result<A, string>): string => (Result.isFailure(r) ? r.failure : "decoded")

/** A header and payload put together by hand (what a faulty or hostile peer may send). */
const raw = (header: unknown, payload: Uint8Array = new Uint8Array()): Uint8Array => {
  const h = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(2 + h.length + payload.length)
  new DataView(out.buffer).setUint16(0, h.length)
  out.set(h, 2)
  out.set(payload, 2 + h.length)
  return out
}

describe("lm wire format", () => {
  it("round-trips every message exactly (floats bit for bit)", () => {
    const seed = Date.now() % 1_000_000
    console.log(`SEED=${seed}`)
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 1000 }),
      (length, dim, start, seq) => {
        const data = Float32Array.from({ length: length * dim }, (_, i) => Math.fround(Math.sin(i + seq) * 1e3))
        const fwd: ServerMessage = { v: 1, t: "forward", session, seq, start, length, dim, input: "activations", data }
        expect(ok(decodeServerMessage(encodeServerMessage(fwd)))).toEqual(fwd)
        const tokens: ServerMessage = { v: 1, t: "forward", session, seq, start, length, dim: 1, input: "tokens", data: Int32Array.from({ length }, (_, i) => (i * 37) % 256) }
        expect(ok(decodeServerMessage(encodeServerMessage(tokens)))).toEqual(tokens)
        const res: ClientMessage = { v: 1, t: "result", session, seq, start, length, dim, output: "activations", data }
        expect(ok(decodeClientMessage(encodeClientMessage(res)))).toEqual(res)
        // A paid stage's result with the most middle leaves of its trace still fits the header.
        const traced: ClientMessage = { ...res, trace: Array.from({ length: MAX_RESULT_TRACE }, (_, i) => `0x${(i % 16).toString(16).repeat(64)}`) }
        expect(ok(decodeClientMessage(encodeClientMessage(traced)))).toEqual(traced)
      },
    ), { seed })
    for (const m of [{ v: 1, t: "open", session, from: 0, to: 1 }, { v: 1, t: "open", session, from: 0, to: 1, job: 7 }, { v: 1, t: "close", session }] as const) expect(ok(decodeServerMessage(encodeServerMessage(m)))).toEqual(m)
    for (const m of [{ v: 1, t: "opened", session }, { v: 1, t: "error", session, seq: 3, message: "no such session" }] as const) expect(ok(decodeClientMessage(encodeClientMessage(m)))).toEqual(m)
    expect(lmBlocksKey(0, 1)).toBe("lm/blocks/0-1")
    // The largest result header (longest session id, largest numbers, most leaves) is within the header's limit.
    const widest = {
      v: 1, t: "result", session: "f".repeat(64), seq: Number.MAX_SAFE_INTEGER, start: 1 << 20, length: 1, dim: 262_144, output: "activations",
      data: new Float32Array(262_144), trace: Array.from({ length: MAX_RESULT_TRACE }, () => `0x${"ab".repeat(32)}`),
    } as const satisfies ClientMessage
    expect(ok(decodeClientMessage(encodeClientMessage(widest)))).toMatchObject({ trace: widest.trace })
  })

  it("refuses malformed messages with a reason naming what was wrong", () => {
    const header = { v: 1, t: "forward", session, seq: 0, start: 0, length: 2, dim: 2, input: "activations" }
    const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer)
    expect(failure(decodeServerMessage(new Uint8Array(MAX_LM_MESSAGE_BYTES + 1)))).toMatch(/oversized/)
    expect(failure(decodeServerMessage(new Uint8Array([0])))).toMatch(/truncated/)
    expect(failure(decodeServerMessage(new Uint8Array([0, 50, 1, 2])))).toMatch(/truncated/)
    expect(failure(decodeServerMessage(raw("{")))).toMatch(/malformed lm request/)
    expect(failure(decodeServerMessage(new Uint8Array([0, 1, 0xff])))).toMatch(/not UTF-8 JSON/)
    expect(failure(decodeServerMessage(raw({ ...header, extra: 1 }, f32(1, 2, 3, 4))))).toMatch(/extra/)
    expect(failure(decodeServerMessage(raw({ ...header, session: "XYZ" }, f32(1, 2, 3, 4))))).toMatch(/session/)
    expect(failure(decodeServerMessage(raw({ ...header, length: 0 }, f32())))).toMatch(/length/)
    expect(failure(decodeServerMessage(raw(header, f32(1, 2, 3))))).toMatch(/payload of 12 bytes, expected 16/)
    expect(failure(decodeServerMessage(raw(header, f32(1, Number.NaN, 3, 4))))).toMatch(/not finite/)
    expect(failure(decodeServerMessage(raw({ ...header, input: "tokens" }, f32(1, 2, 3, 4))))).toMatch(/dim 1/)
    expect(failure(decodeServerMessage(raw({ ...header, input: "tokens", dim: 1, length: 1 }, new Uint8Array(Int32Array.of(-1).buffer))))).toMatch(/out of range/)
    expect(failure(decodeServerMessage(raw({ v: 1, t: "open", session, from: 2, to: 1 })))).toMatch(/empty/)
    expect(failure(decodeServerMessage(raw({ v: 1, t: "open", session, from: 0, to: 1, job: 0 })))).toMatch(/job: /)
    expect(failure(decodeServerMessage(raw({ v: 1, t: "close", session }, f32(1))))).toMatch(/no payload/)
    expect(failure(decodeServerMessage(raw({ v: 2, t: "close", session })))).toMatch(/v/)
    expect(failure(decodeClientMessage(raw({ v: 1, t: "result", session, seq: 0, start: 0, length: 1, dim: 2, output: "logits" }, f32(1))))).toMatch(/payload/)
    expect(failure(decodeClientMessage(raw({ v: 1, t: "error", session, message: "x".repeat(401) })))).toMatch(/message/)
    // A request is not a reply and a reply not a request.
    expect(failure(decodeClientMessage(encodeServerMessage({ v: 1, t: "close", session })))).toMatch(/malformed lm reply/)
    expect(failure(decodeServerMessage(encodeClientMessage({ v: 1, t: "opened", session })))).toMatch(/malformed lm request/)
  })
})

describe("lm verification: the evidence a referee gets", () => {
  const acts = (start: number, length: number, dim: number, k: number): LmInput => ({ start, length, dim, input: "activations", data: Float32Array.from({ length: length * dim }, (_, i) => Math.fround(Math.cos(i * k) * 3)) })

  it("round-trips a verify request bit for bit and a referee's answer; refuses malformed ones naming why", () => {
    const seed = Date.now() % 1_000_000
    console.log(`SEED=${seed}`)
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), (n, dim) => {
      const inputs = Array.from({ length: n }, (_, i) => acts(i, i === 0 ? 3 : 1, dim, i + 1))
      const m: VerifyRequest = { v: 1, t: "verify", nonce: 3, job: 9, note: 2, from: 0, to: 1, first: n - 1, input: "activations", dim, inputs, leaves: [`0x${"ab".repeat(32)}`, `0x${"cd".repeat(32)}`, `0x${"ef".repeat(32)}`], ...(n % 2 === 0 ? { defer: true as const } : {}) }
      const back = ok(decodeVerifyRequest(encodeVerifyRequest(m)))
      expect({ ...back, inputs: back.inputs.map((x) => ({ ...x, data: Array.from(x.data) })) }).toEqual({ ...m, inputs: inputs.map((x) => ({ ...x, data: Array.from(x.data) })) })
    }), { seed })
    const tokens: VerifyRequest = { v: 1, t: "verify", nonce: 0, job: 1, note: 1, from: 0, to: 1, first: 0, input: "tokens", dim: 1, inputs: [{ start: 0, length: 2, dim: 1, input: "tokens", data: Int32Array.of(5, 7) }], leaves: [`0x${"00".repeat(32)}`, `0x${"11".repeat(32)}`] }
    expect(Array.from(ok(decodeVerifyRequest(encodeVerifyRequest(tokens))).inputs[0]!.data)).toEqual([5, 7])
    const reply: VerifiedReply = { v: 1, t: "verified", nonce: 4, job: 1, note: 2, outcome: "wrong", reason: "layer" }
    expect(ok(decodeVerifiedReply(encodeVerifiedReply(reply)))).toEqual(reply)

    const header = { v: 1, t: "verify", nonce: 0, job: 1, note: 1, from: 0, to: 1, first: 0, input: "activations", dim: 2, shapes: [[0, 1]], leaves: [`0x${"00".repeat(32)}`, `0x${"11".repeat(32)}`] }
    const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer)
    expect(failure(decodeVerifyRequest(raw(header, f32(1))))).toMatch(/payload of 4 bytes, expected 8/)
    expect(failure(decodeVerifyRequest(raw({ ...header, first: 1 }, f32(1, 2))))).toMatch(/first input/)
    expect(failure(decodeVerifyRequest(raw({ ...header, leaves: ["0x12", `0x${"00".repeat(32)}`] }, f32(1, 2))))).toMatch(/leaves/)
    expect(failure(decodeVerifyRequest(raw({ ...header, leaves: [`0x${"00".repeat(32)}`] }, f32(1, 2))))).toMatch(/leaves/)
    expect(failure(decodeVerifyRequest(raw({ ...header, defer: false }, f32(1, 2))))).toMatch(/defer/)
    expect(failure(decodeVerifyRequest(raw({ ...header, extra: 1 }, f32(1, 2))))).toMatch(/extra/)
    expect(failure(decodeVerifyRequest(raw(header, f32(1, Number.NaN))))).toMatch(/not finite/)
    expect(failure(decodeVerifiedReply(new TextEncoder().encode(JSON.stringify({ ...reply, outcome: "maybe" }))))).toMatch(/outcome/)
  })
})
