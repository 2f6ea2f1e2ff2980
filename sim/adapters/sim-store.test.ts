import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { seal } from "../../runtime/core/sealed-bytes.ts"
import { SimStore } from "./sim-store.ts"

const b = (s: string) => new TextEncoder().encode(s)
const contents = (s: SimStore) => Object.fromEntries(s.keys().map((k) => [k, new TextDecoder().decode(s.get(k))]))

describe("SimStore", () => {
  it("reads its own unsynced writes", () => {
    const s = new SimStore()
    expect(s.get("a")).toBeUndefined()
    s.put("a", b("1"))
    expect(s.get("a")).toEqual(b("1"))
    expect(s.has("a")).toBe(true)
    expect(s.delete("a")).toBe(true)
    expect(s.delete("a")).toBe(false)
    expect(s.get("a")).toBeUndefined()
  })

  it("loses exactly the writes since the last sync on a crash", () => {
    const s = new SimStore()
    s.put("keep", b("1"))
    s.put("gone-later", b("x"))
    s.sync()
    s.put("keep", b("2")) // overwrite, unsynced
    s.put("new", b("n")) // insert, unsynced
    s.delete("gone-later") // delete, unsynced
    expect(s.unsynced).toBe(3)
    expect(contents(s)).toEqual({ keep: "2", new: "n" })
    s.crash()
    expect(contents(s)).toEqual({ keep: "1", "gone-later": "x" })
    expect(s.unsynced).toBe(0)
    s.delete("gone-later")
    s.sync()
    s.crash()
    expect(contents(s)).toEqual({ keep: "1" })
  })

  it("lists keys by prefix in order, merging synced and unsynced writes", () => {
    const s = new SimStore()
    for (const k of ["slash/v2", "slash/v1", "vote/1", "slash/v3"]) s.put(k, b(k))
    s.sync()
    s.delete("slash/v3")
    s.put("slash/v0", b("0"))
    expect(s.keys("slash/")).toEqual(["slash/v0", "slash/v1", "slash/v2"])
    expect(s.keys()).toEqual(["slash/v0", "slash/v1", "slash/v2", "vote/1"])
    expect(s.keys("nope")).toEqual([])
  })

  it("copies values in and out", () => {
    const s = new SimStore()
    const v = b("abc")
    s.put("k", v)
    v[0] = 0
    const out = s.get("k")!
    out[1] = 0
    expect(s.get("k")).toEqual(b("abc"))
  })

  it("copies large values in and out when stores share the copy of one buffer", () => {
    const v = new Uint8Array(10_000).fill(7)
    const [s, t] = [new SimStore(), new SimStore()]
    s.put("k", v)
    t.put("k", v)
    v[0] = 1 // the source changes: the next put stores its new bytes, the earlier ones keep theirs
    t.put("j", v)
    s.get("k")![1] = 0
    expect(s.get("k")).toEqual(new Uint8Array(10_000).fill(7))
    expect(t.get("k")).toEqual(new Uint8Array(10_000).fill(7))
    expect(t.get("j")![0]).toBe(1)
  })

  it("keeps large sealed bytes as they are, and still hands out copies", () => {
    const v = seal(new Uint8Array(10_000).fill(7))
    const [s, t] = [new SimStore(), new SimStore()]
    s.put("k", v)
    t.put("k", v)
    s.get("k")![1] = 0
    expect(s.get("k")).toEqual(new Uint8Array(10_000).fill(7))
    // Not copied in: the one thing sealing promises is that nobody writes to them, and so this never happens.
    v[0] = 1
    expect(t.get("k")![0]).toBe(1)
  })

  it("putParts: keeps sealed parts as they are, copies the others, reads back their concatenation", () => {
    const shared = seal(new Uint8Array(10_000).fill(7))
    const [s, t] = [new SimStore(), new SimStore()]
    const tail = seal(b("!"))
    s.putParts("k", [shared.subarray(0, 5_000), tail, shared.subarray(5_000)])
    const joined = new Uint8Array([...new Uint8Array(5_000).fill(7), 33, ...new Uint8Array(5_000).fill(7)])
    expect(s.get("k")).toEqual(joined)
    s.get("k")![0] = 0 // reads are copies
    expect(s.get("k")).toEqual(joined)
    // An unsealed part: copied in, so a later change to it changes nothing stored.
    const mine = b("own")
    t.putParts("k", [shared.subarray(0, 3), mine])
    mine[0] = 0
    expect(t.get("k")).toEqual(new Uint8Array([7, 7, 7, ...b("own")]))
    // Unsynced like any write: a crash loses it.
    expect(s.has("k")).toBe(true)
    s.crash()
    expect(s.has("k")).toBe(false)
    expect(s.get("k")).toBeUndefined()
  })

  it("after any crash holds exactly the state at the last sync (property)", () => {
    const key = fc.constantFrom("a", "b", "c", "d/1", "d/2")
    const op = fc.oneof(
      fc.record({ op: fc.constant("put" as const), key, value: fc.uint8Array({ maxLength: 4 }) }),
      fc.record({ op: fc.constant("putParts" as const), key, value: fc.uint8Array({ maxLength: 6 }), cuts: fc.array(fc.nat(6), { maxLength: 3 }), sealed: fc.boolean() }),
      fc.record({ op: fc.constant("delete" as const), key }),
      fc.record({ op: fc.constant("sync" as const) }),
      fc.record({ op: fc.constant("crash" as const) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const store = new SimStore()
        const live = new Map<string, Uint8Array>() // what reads should see
        let synced = new Map<string, Uint8Array>() // the state at the last sync
        const snapshot = () => new Map([...live].map(([k, v]) => [k, v]))
        const check = () => {
          expect(store.keys()).toEqual([...live.keys()].sort())
          for (const [k, v] of live) expect(store.get(k)).toEqual(v)
          expect(store.keys("d/")).toEqual([...live.keys()].filter((k) => k.startsWith("d/")).sort())
        }
        for (const o of ops) {
          if (o.op === "put") {
            store.put(o.key, o.value)
            live.set(o.key, o.value.slice())
          } else if (o.op === "putParts") {
            // The value cut into parts (some maybe empty), all sealed or none.
            const at = [0, ...o.cuts.map((c) => Math.min(c, o.value.length)).sort((x, y) => x - y), o.value.length]
            const source = o.value.slice()
            const parts = at.slice(1).map((end, i) => source.subarray(at[i], end))
            store.putParts(o.key, o.sealed ? parts.map(seal) : parts)
            if (!o.sealed) source.fill(255) // unsealed parts were copied: changing them now changes nothing
            live.set(o.key, o.value.slice())
          } else if (o.op === "delete") {
            expect(store.delete(o.key)).toBe(live.delete(o.key))
          } else if (o.op === "sync") {
            store.sync()
            synced = snapshot()
          } else {
            store.crash()
            live.clear()
            for (const [k, v] of synced) live.set(k, v)
          }
          check()
        }
      }),
    )
  })
})
