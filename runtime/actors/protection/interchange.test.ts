import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  decodeInterchange, encodeInterchange, exportInterchange, genesisHashOf, mergeProtection, parseInterchange, planImport, protectionOf, recordsOf,
  sameProtection, type Interchange, type NodeIdentity,
} from "./interchange.ts"
import { checkSigning, compare, type Mark, type ProtectionRecord, type SignRecord, type SignStep } from "./slashing-protection.ts"

const A = `0x${"a".repeat(40)}`
const B = `0x${"b".repeat(40)}`
const h = (c: string) => `0x${c.repeat(64)}`
const node: NodeIdentity = { chainId: 7, address: A }
const empty: ProtectionRecord = { mark: undefined, atMarkHeight: [] }
const rec = (height: number, round: number, step: SignStep, value?: string | null): Mark => ({ height, round, step, ...(value === undefined ? {} : { value }) })
const req = (height: number, round: number, step: SignStep, value: string | null): SignRecord => ({ height, round, step, value })
const file = (signed: readonly Mark[], extra: Partial<Interchange> = {}): Interchange => ({ chainId: 7, validators: [{ address: A, signed }], ...extra })

/** Import `f` into `current`; the stored record (the test fails on a refusal). */
const imported = (current: ProtectionRecord, f: Interchange, who: NodeIdentity = node): ProtectionRecord => {
  const r = planImport(f, "f.json", who, current)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success.next
}
const allows = (p: ProtectionRecord, r: SignRecord): boolean => checkSigning(p.mark, r).ok

/** What EIP-3076 says a set of records refuses: anything below one of them, or at one with another (or unknown) value. */
const refusedBySet = (records: readonly Mark[], r: SignRecord): boolean =>
  records.some((s) => compare(r, s) < 0 || (compare(r, s) === 0 && (s.value === undefined || s.value !== r.value)))

describe("the interchange file", () => {
  const example = {
    metadata: { interchange_format: "dai-slashing-protection", interchange_format_version: "1", chain_id: "7", genesis_hash: h("c") },
    data: [{ address: A, signed: [{ height: "12", round: "0", step: "prevote", value: h("1") }, { height: "12", round: "0", step: "precommit", value: null }, { height: "12", round: "1", step: "proposal" }] }],
  }

  it("decodes the documented form and encodes it back the same", () => {
    const r = decodeInterchange(example, "f.json")
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    expect(r.success).toEqual({ chainId: 7, genesisHash: h("c"), validators: [{ address: A, signed: [rec(12, 0, "prevote", h("1")), rec(12, 0, "precommit", null), rec(12, 1, "proposal")] }] })
    expect(encodeInterchange(r.success)).toEqual(example)
  })

  it("refuses a bad file naming the key path, and an Ethereum file by what it is", () => {
    const bad = (change: (f: typeof example) => unknown) => {
      const r = decodeInterchange(change(structuredClone(example)), "f.json")
      return Result.isFailure(r) ? r.failure.message : "accepted"
    }
    expect(bad((f) => ((f.data[0]!.signed[1]!.height = "12.5"), f))).toMatch(/^f\.json: data\.0\.signed\.1\.height: a whole number as a decimal string/)
    expect(bad((f) => ((f.data[0]!.signed[0]!.step = "vote"), f))).toMatch(/^f\.json: data\.0\.signed\.0\.step: /)
    expect(bad((f) => ((f.data[0]!.signed[0]!.value = "0x12"), f))).toMatch(/^f\.json: data\.0\.signed\.0\.value: a 0x hash of 64 hex digits/)
    expect(bad((f) => ({ ...f, metadata: { ...f.metadata, chain_idd: "7" } }))).toBe("f.json: metadata.chain_idd: unknown key")
    expect(bad((f) => ({ ...f, metadata: { ...f.metadata, interchange_format_version: "2" } }))).toMatch(/^f\.json: metadata\.interchange_format_version: /)
    expect(bad((f) => ({ ...f, data: [{ address: "0x12", signed: [] }] }))).toMatch(/^f\.json: data\.0\.address: a 0x address/)
    expect(bad(() => ({ metadata: { interchange_format_version: "5", genesis_validators_root: h("0") }, data: [] }))).toMatch(/^f\.json: metadata\.genesis_validators_root: an Ethereum EIP-3076 file/)
    const notJson = parseInterchange("{", "f.json")
    expect(Result.isFailure(notJson) && notJson.failure.message).toMatch(/^f\.json: not JSON/)
  })

  it("hashes a genesis by its content, not its layout", () => {
    expect(genesisHashOf({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(genesisHashOf(JSON.parse('{"a":[{"x":1,"y":2}],"b":1}')))
    expect(genesisHashOf({ a: 1 })).not.toBe(genesisHashOf({ a: 2 }))
  })
})

describe("importing", () => {
  it("never lowers the mark: a node with newer records keeps them", () => {
    const current = protectionOf([rec(20, 0, "prevote", h("2"))])
    const next = imported(current, file([rec(12, 0, "precommit", h("1"))]))
    expect(next.mark).toEqual(rec(20, 0, "prevote", h("2")))
    const r = planImport(file([rec(12, 0, "precommit", h("1"))]), "f.json", node, current)
    expect(Result.isSuccess(r) && r.success.changed).toBe(false)
  })

  it("raises the mark to the file's, and the node then refuses below it and other values at it", () => {
    const next = imported(protectionOf([rec(3, 0, "precommit", h("3"))]), file([rec(12, 0, "prevote", h("1")), rec(12, 0, "precommit", h("1"))]))
    expect(next.mark).toEqual(rec(12, 0, "precommit", h("1")))
    expect(allows(next, req(12, 0, "precommit", h("1")))).toBe(true) // the same vote again
    expect(allows(next, req(12, 0, "precommit", null))).toBe(false)
    expect(allows(next, req(12, 0, "prevote", h("1")))).toBe(false)
    expect(allows(next, req(11, 5, "precommit", h("1")))).toBe(false)
    expect(allows(next, req(12, 1, "proposal", h("2")))).toBe(true)
    // The records of the mark's height come along, so a restarted node can send those votes again.
    expect(next.atMarkHeight).toEqual([req(12, 0, "prevote", h("1")), req(12, 0, "precommit", h("1"))])
  })

  it("is idempotent: the same file twice stores the same record", () => {
    const f = file([rec(5, 1, "prevote", null), rec(5, 1, "precommit")])
    const once = imported(protectionOf([rec(5, 0, "precommit", h("4"))]), f)
    const twice = planImport(f, "f.json", node, once)
    expect(Result.isSuccess(twice) && [twice.success.changed, twice.success.next]).toEqual([false, once])
  })

  it("works with the minimal form (the latest mark alone, value unknown): nothing more at that place", () => {
    const next = imported(empty, file([rec(40, 2, "prevote")]))
    expect(next).toEqual({ mark: rec(40, 2, "prevote"), atMarkHeight: [rec(40, 2, "prevote")] })
    expect(allows(next, req(40, 2, "prevote", h("1")))).toBe(false)
    expect(allows(next, req(40, 2, "prevote", null))).toBe(false)
    expect(allows(next, req(40, 2, "precommit", h("1")))).toBe(true)
  })

  it("forgets the value where the file and the node disagree (or the file already holds a conflict)", () => {
    const next = imported(protectionOf([rec(9, 0, "precommit", h("1"))]), file([rec(9, 0, "precommit", h("2"))]))
    expect(next.mark).toEqual(rec(9, 0, "precommit"))
    expect(allows(next, req(9, 0, "precommit", h("1")))).toBe(false)
    const conflicting = imported(empty, file([rec(9, 0, "prevote", h("1")), rec(9, 0, "prevote", h("2")), rec(9, 0, "precommit", null)]))
    expect(conflicting).toEqual({ mark: rec(9, 0, "precommit", null), atMarkHeight: [rec(9, 0, "prevote"), req(9, 0, "precommit", null)] })
  })

  it("refuses another chain id or genesis, and a file with nothing for this validator; skips other validators", () => {
    const refused = (f: Interchange, who: NodeIdentity = node) => {
      const r = planImport(f, "f.json", who, empty)
      return Result.isFailure(r) ? r.failure.message : "imported"
    }
    expect(refused(file([rec(1, 0, "prevote", null)], { chainId: 8 }))).toBe("f.json: records for chain id 8; this node is on chain id 7 (nothing imported)")
    expect(refused(file([rec(1, 0, "prevote", null)], { genesisHash: h("1") }), { ...node, genesisHash: h("2") })).toMatch(/another network with the same chain id/)
    expect(refused(file([rec(1, 0, "prevote", null)], { genesisHash: h("1") }), { ...node, genesisHash: h("1") })).toBe("imported")
    expect(refused({ chainId: 7, validators: [{ address: B, signed: [] }] })).toBe(`f.json: no records for this node's validator ${A} (the file holds ${B}; nothing imported)`)
    const both = planImport({ chainId: 7, validators: [{ address: B, signed: [rec(50, 0, "precommit")] }, { address: A, signed: [rec(2, 0, "prevote", null)] }] }, "f.json", { ...node, address: A.toUpperCase().replace("0X", "0x") }, empty)
    expect(Result.isSuccess(both) && [both.success.next.mark, both.success.skipped]).toEqual([rec(2, 0, "prevote", null), [B]])
  })

  // Cases in the shape of EIP-3076's interchange tests: import steps, then signatures that must
  // succeed or fail (heights/rounds/steps for slots and epochs).
  const cases: ReadonlyArray<{ name: string; imports: readonly (readonly Mark[])[]; checks: ReadonlyArray<readonly [SignRecord, boolean]> }> = [
    { name: "single record, same value again", imports: [[rec(10, 0, "proposal", h("1"))]], checks: [[req(10, 0, "proposal", h("1")), true], [req(10, 0, "proposal", h("2")), false], [req(10, 0, "prevote", h("1")), true]] },
    { name: "several imports keep the highest", imports: [[rec(10, 0, "precommit", h("1"))], [rec(8, 3, "precommit", h("2"))], [rec(10, 1, "prevote")]], checks: [[req(10, 0, "precommit", h("1")), false], [req(10, 1, "prevote", null), false], [req(10, 1, "precommit", null), true]] },
    { name: "unordered records", imports: [[rec(7, 0, "precommit", null), rec(3, 0, "prevote", h("1")), rec(7, 0, "prevote", null)]], checks: [[req(7, 0, "precommit", null), true], [req(7, 0, "prevote", null), false], [req(6, 9, "precommit", null), false]] },
    { name: "empty import", imports: [[]], checks: [[req(1, 0, "proposal", h("1")), true]] },
  ]
  for (const c of cases) {
    it(`EIP-3076-style case: ${c.name}`, () => {
      const p = c.imports.reduce<ProtectionRecord>((acc, signed) => imported(acc, file(signed)), empty)
      for (const [r, ok] of c.checks) expect(allows(p, r), JSON.stringify(r)).toBe(ok)
    })
  }
})

describe("properties", () => {
  const record = fc.record({
    height: fc.integer({ min: 0, max: 4 }),
    round: fc.integer({ min: 0, max: 2 }),
    step: fc.constantFrom<SignStep>("proposal", "prevote", "precommit"),
    value: fc.constantFrom<string | null | undefined>(h("1"), h("2"), null, undefined),
  }).map((r): Mark => rec(r.height, r.round, r.step, r.value))
  const request = record.map((r): SignRecord => req(r.height, r.round, r.step, r.value ?? null))
  const runs = { numRuns: Number(process.env.DAI_PROPERTY_RUNS ?? 200) * 2 }

  it("merge(A, B) refuses every signature A or B refuses, and allows what lies above both", () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 12 }), fc.array(record, { maxLength: 12 }), fc.array(request, { minLength: 1, maxLength: 20 }), (a, b, requests) => {
        const merged = mergeProtection(protectionOf(a), protectionOf(b))
        const viaImport = imported(protectionOf(a), file(b))
        expect(sameProtection(merged, viaImport)).toBe(true)
        for (const r of requests) {
          if (refusedBySet(a, r) || refusedBySet(b, r)) expect(allows(merged, r), `${JSON.stringify(r)} must be refused`).toBe(false)
          if ([...a, ...b].every((s) => compare(r, s) > 0)) expect(allows(merged, r)).toBe(true)
        }
        // Never below either side's mark, and idempotent.
        for (const side of [protectionOf(a), protectionOf(b)]) if (side.mark !== undefined) expect(compare(merged.mark!, side.mark)).toBeGreaterThanOrEqual(0)
        const again = imported(viaImport, file(b))
        expect(sameProtection(again, viaImport), JSON.stringify({ a, b, viaImport, again })).toBe(true)
      }),
      runs,
    )
  })

  it("export then import round-trips, through the JSON text", () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 12 }), (records) => {
        const p = protectionOf(records)
        const text = JSON.stringify(encodeInterchange(exportInterchange(node, p)))
        const back = parseInterchange(text, "f.json")
        if (Result.isFailure(back)) throw new Error(back.failure.message)
        expect(imported(empty, back.success)).toEqual(p)
        expect(recordsOf(imported(empty, back.success))).toEqual(recordsOf(p))
      }),
      runs,
    )
  })
})
