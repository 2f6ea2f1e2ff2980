import { describe, expect, it } from "vitest"
import type { JobView } from "../../core/market/index.ts"
import { traceRoot } from "../../core/market/bisection.ts"
import { noteRanges, UNIT_LAYERS, unitLayer, unitProviderTrace, unitResultHash, unitTrace, unitTraceWork, unitWord, wrongNotes } from "./work.ts"

const note = (id: number, units: bigint, state: JobView["notes"][number]["state"], resultHash: string) =>
  ({ id, provider: `p${id}`, units, pricePerUnit: 1n, amount: units, resultHash, deliveredAt: id, state })

describe("re-execution of debit notes", () => {
  it("gives each note the unit range it covered; a refuted note's units are delivered again", () => {
    const h = (from: number, units: number) => unitResultHash({ job: 4, kind: "infer:mnist", from, units })
    const job = {
      id: 4, kind: "infer:mnist",
      notes: [note(1, 5n, "paid", h(0, 5)), note(2, 5n, "refuted", "0x" + "ab".repeat(32)), note(3, 3n, "pending", h(5, 3)), note(4, 2n, "pending", "0x" + "cd".repeat(32))],
    } as unknown as JobView
    expect(noteRanges(job).map((r) => r.from)).toEqual([0, 5, 5, 8])
    expect(wrongNotes(job, ["pending"], unitResultHash)).toEqual([4])
    expect(wrongNotes(job, ["paid"], unitResultHash)).toEqual([])
  })

  it("refutes nothing a referee cannot re-execute, and re-executes with the hash delivered in view", () => {
    const job = { id: 4, kind: "infer:mnist", notes: [note(1, 5n, "pending", "0x" + "ab".repeat(32)), note(2, 5n, "pending", "0x" + "cd".repeat(32))] } as unknown as JobView
    expect(wrongNotes(job, ["pending"], () => undefined)).toEqual([])
    const seen: Array<string | undefined> = []
    // A referee holding only the model note 1 names: note 2 is not its to judge.
    expect(wrongNotes(job, ["pending"], (t, claimed) => (seen.push(claimed), t.from === 0 ? "0x" + "ef".repeat(32) : undefined))).toEqual([1])
    expect(seen).toEqual(["0x" + "ab".repeat(32), "0x" + "cd".repeat(32)])
  })

  it("names a result by the job, kind and range only", () => {
    const a = unitResultHash({ job: 1, kind: "infer:mnist", from: 0, units: 5 })
    expect(a).toMatch(/^0x[0-9a-f]{64}$/)
    expect(unitResultHash({ job: 1, kind: "infer:mnist", from: 0, units: 5, running: 3 })).toBe(a)
    expect(unitResultHash({ job: 1, kind: "infer:mnist", from: 5, units: 5 })).not.toBe(a)
    expect(unitResultHash({ job: 2, kind: "infer:mnist", from: 0, units: 5 })).not.toBe(a)
  })

  it("models a chunk as a layer trace whose root the word commits to; a fault at layer k changes layer k and after, not before", () => {
    const task = { job: 3, kind: "infer:mnist", from: 5, units: 5 }
    const t = unitTrace(task)
    expect(t.hashes.length).toBe(UNIT_LAYERS + 1)
    expect(unitResultHash(task)).toBe(unitWord(task, traceRoot(t.hashes)))
    const f = unitTrace(task, 4)
    for (let i = 0; i <= UNIT_LAYERS; i++) expect(f.hashes[i]!.every((x, j) => x === t.hashes[i]![j])).toBe(i < 4)
    // One layer re-executed from the agreed input gives the honest layer's hash.
    expect(unitTraceWork.layer(task, unitResultHash(task), 4, t.activation(3))).toEqual(t.hashes[4])
    expect(unitLayer(4, t.activation(3))).toEqual(t.activation(4))
    // A provider recomputes the trace of its own honest word only.
    expect(unitProviderTrace(task, unitResultHash(task))?.hashes).toEqual(t.hashes)
    expect(unitProviderTrace(task, unitWord(task, traceRoot(f.hashes)))).toBeUndefined()
    expect(unitTraceWork.trace(task, "0x" + "00".repeat(32))?.word).toBe(unitResultHash(task))
  })
})
