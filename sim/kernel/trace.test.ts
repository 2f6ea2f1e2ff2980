import { createHash } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalJson, parseTrace, parseTraceLine, traceLine, type TraceEvent, type TraceValue } from "../../runtime/services/trace.ts"
import { Trace } from "./trace.ts"

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")

describe("canonical trace lines", () => {
  it("puts t, kind, node first and sorts every other key at every depth", () => {
    const line = traceLine({ z: 1, node: "v3", a: { y: 2, b: [{ d: 1, c: 2 }] }, kind: "net.deliver", t: 120 })
    expect(line).toBe('{"t":120,"kind":"net.deliver","node":"v3","a":{"b":[{"c":2,"d":1}],"y":2},"z":1}')
    // key insertion order does not matter
    expect(traceLine({ t: 120, kind: "net.deliver", node: "v3", z: 1, a: { b: [{ c: 2, d: 1 }], y: 2 } })).toBe(line)
  })

  it("tags bigint and bytes, writes -0 as 0 and omits undefined properties", () => {
    expect(canonicalJson({ stake: -123n, sig: new Uint8Array([0, 15, 255]), x: -0, gone: undefined })).toBe(
      '{"sig":{"$bytes":"000fff"},"stake":{"$bigint":"-123"},"x":0}',
    )
    expect(canonicalJson(Buffer.from("hi"))).toBe('{"$bytes":"6869"}')
    expect(canonicalJson(new Uint8Array(Buffer.from("xxhixx")).subarray(2, 4))).toBe('{"$bytes":"6869"}')
  })

  it("rejects what it cannot write faithfully, naming where", () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ t: 1, kind: "k", x: Number.NaN }, /event\.x is NaN/],
      [{ t: 1, kind: "k", x: [1, undefined] }, /event\.x\[1\] is undefined/],
      [{ t: 1, kind: "k", m: new Map() }, /event\.m is a Map/],
      [{ t: 1, kind: "k", w: new Float32Array(2) }, /event\.w is a Float32Array/],
      [{ t: 1, kind: "k", f: () => 1 }, /event\.f is a function/],
      [{ t: 1, kind: "k", o: { $bigint: "1" } }, /event\.o\.\$bigint is a reserved key/],
      [{ t: -1, kind: "k" }, /event\.t must be a non-negative integer/],
      [{ t: 1.5, kind: "k" }, /event\.t/],
      [{ t: 1, kind: "" }, /event\.kind/],
      [{ t: 1, kind: "k", node: 3 }, /event\.node/],
    ]
    for (const [ev, msg] of bad) expect(() => traceLine(ev as TraceEvent)).toThrow(msg)
  })

  it("parses back to the same values, and re-serialises to the same line (property)", () => {
    const key = fc.string({ maxLength: 6 }).filter((k) => !k.startsWith("$"))
    const { value } = fc.letrec<{ value: TraceValue }>((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)), // -0 is written 0
        fc.string(),
        fc.bigInt(),
        fc.uint8Array({ maxLength: 8 }),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(key, tie("value"), { maxKeys: 4 }),
      ),
    }))
    const event = fc.record({
      t: fc.nat(),
      kind: fc.string({ minLength: 1, maxLength: 10 }),
      payload: fc.dictionary(key.filter((k) => !["t", "kind", "node"].includes(k)), value, { maxKeys: 5 }),
    })
    fc.assert(
      fc.property(event, ({ t, kind, payload }) => {
        const ev: TraceEvent = { ...payload, t, kind }
        const line = traceLine(ev)
        const back = parseTraceLine(line)
        expect(traceLine(back)).toBe(line)
        expect(back).toEqual(ev)
      }),
    )
  })

  it("restores bigint and Uint8Array exactly", () => {
    const ev = parseTraceLine(traceLine({ t: 5, kind: "stake.bonded", amount: 10n ** 21n, key: new Uint8Array([1, 2]) }))
    expect(ev.amount).toBe(10n ** 21n)
    expect(ev.key).toEqual(new Uint8Array([1, 2]))
  })

  it("reports bad lines with their place", () => {
    expect(() => parseTraceLine("{", "run.jsonl:3")).toThrow(/run\.jsonl:3: not valid JSON/)
    expect(() => parseTraceLine("[1]")).toThrow(/expected a JSON object/)
    expect(() => parseTraceLine('{"kind":"x"}')).toThrow(/"t"/)
    expect(() => parseTrace('{"t":1,"kind":"a"}\n{"t":2}\n', "x.jsonl")).toThrow(/x\.jsonl:2: "kind"/)
  })
})

describe("Trace", () => {
  it("counts, feeds the sink, and hashes exactly the file the sink writes", () => {
    let file = ""
    const trace = new Trace((line) => (file += line + "\n"))
    expect(trace.hash()).toBe(sha256(""))
    trace.record({ t: 0, kind: "run.start", seed: 7 })
    trace.record({ t: 10, kind: "net.deliver", node: "v1", from: "v0", bytes: new Uint8Array([9]) })
    const mid = trace.hash()
    trace.record({ t: 10, kind: "block.committed", node: "v1", height: 1 })
    expect(trace.count).toBe(3)
    expect(trace.hash()).toBe(sha256(file))
    expect(mid).not.toBe(trace.hash())
    expect(parseTrace(file).map((e) => e.kind)).toEqual(["run.start", "net.deliver", "block.committed"])
  })

  it("gives the same hash for the same events however they were built, another for any change", () => {
    const a = new Trace()
    const b = new Trace()
    const c = new Trace()
    a.record({ t: 1, kind: "k", x: 1, y: 2n })
    b.record({ y: 2n, x: 1, kind: "k", t: 1 })
    c.record({ t: 1, kind: "k", x: 1, y: 3n })
    expect(a.hash()).toBe(b.hash())
    expect(c.hash()).not.toBe(a.hash())
  })

  it("refuses events that go back in time, without recording them", () => {
    const trace = new Trace()
    trace.record({ t: 100, kind: "a" })
    const h = trace.hash()
    expect(() => trace.record({ t: 99, kind: "b" })).toThrow(/before the previous event's 100/)
    expect(trace.count).toBe(1)
    expect(trace.hash()).toBe(h)
  })

  it("writes a repeated field's rows as record without it does, reusing only the text of equal rows", () => {
    const table = (missed: number) => [
      { name: "b", power: "10", stake: 5n, missed, jailed: false },
      { name: "a", power: "0", stake: 7n, missed: 0, jailed: true, gone: undefined },
    ]
    const events: TraceEvent[] = [
      { t: 1, kind: "validators", node: "v0", validators: table(0) },
      { t: 1, kind: "validators", node: "v1", validators: table(0) },
      { t: 2, kind: "validators", node: "v0", validators: table(1) },
      { t: 2, kind: "validators", validators: table(1) },
      { t: 3, kind: "validators", node: "v1", validators: [...table(1), { name: "c", power: "1", stake: 0n, missed: 0, jailed: false }] },
      // text beyond ASCII: the line's hash is over its UTF-8 bytes either way
      { t: 4, kind: "validators", node: "v2", validators: [{ name: "zoë ✓ 𝔘", power: "1", stake: 0n, missed: 0, jailed: false }] },
      { t: 4, kind: "validators", node: "v3", validators: [{ name: "zoë ✓ 𝔘", power: "1", stake: 0n, missed: 0, jailed: false }] },
      { t: 4, kind: "validators", node: "v1", validators: [] },
      // not flat rows, or another field beside them: written as usual
      { t: 5, kind: "validators", node: "v1", validators: [{ name: "a", nested: { x: 1 } }] },
      { t: 5, kind: "validators", node: "v1", validators: table(1), extra: 1 },
    ]
    const plain = new Trace()
    const memo = new Trace()
    for (const e of events) expect(memo.record(e, "validators")).toBe(plain.record(e))
    expect(memo.hash()).toBe(plain.hash())
  })

  it("does not reuse text for rows changed after they were recorded", () => {
    const trace = new Trace()
    const rows = [{ name: "a", missed: 0 }]
    trace.record({ t: 1, kind: "validators", node: "v0", validators: rows }, "validators")
    rows[0]!.missed = 3
    expect(trace.record({ t: 1, kind: "validators", node: "v1", validators: rows }, "validators")).toBe(
      '{"t":1,"kind":"validators","node":"v1","validators":[{"missed":3,"name":"a"}]}',
    )
  })

  it("writes one frozen table shared by several events as the same rows given apart", () => {
    const frozen = Object.freeze([Object.freeze({ name: "a", missed: 1 }), Object.freeze({ name: "b", missed: 0 })])
    // Frozen array but a row that is not: never taken as unchanged by identity.
    const row = { name: "a", missed: 1 }
    const half = Object.freeze([row])
    const events: TraceEvent[] = [
      { t: 1, kind: "validators", node: "v0", validators: frozen },
      { t: 1, kind: "validators", node: "v1", validators: frozen },
      { t: 2, kind: "validators", node: "v0", validators: [{ name: "a", missed: 2 }] },
      { t: 2, kind: "validators", node: "v1", validators: frozen },
      { t: 3, kind: "validators", node: "v0", validators: half },
    ]
    const plain = new Trace()
    const memo = new Trace()
    for (const e of events) expect(memo.record(e, "validators")).toBe(plain.record(e))
    row.missed = 5
    const again: TraceEvent = { t: 3, kind: "validators", node: "v1", validators: half }
    const line = memo.record(again, "validators")
    expect(line).toBe(plain.record(again))
    expect(line).toContain(`"missed":5`)
    expect(memo.hash()).toBe(plain.hash())
  })
})
