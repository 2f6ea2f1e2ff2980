import { describe, expect, it } from "vitest"
import { RecentByObject } from "./recent.ts"

describe("RecentByObject", () => {
  it("finds what was added under the same object only, and forgets a key's oldest past the limit", () => {
    const memo = new RecentByObject<object, { readonly n: number }>(2)
    const a = {}
    const b = {}
    memo.add(a, { n: 1 })
    memo.add(a, { n: 2 })
    expect(memo.find(a, (e) => e.n === 1)).toEqual({ n: 1 })
    expect(memo.find(b, (e) => e.n === 1)).toBeUndefined()
    expect(memo.find({}, () => true)).toBeUndefined()
    memo.add(a, { n: 3 })
    expect(memo.find(a, (e) => e.n === 1)).toBeUndefined()
    expect([memo.find(a, (e) => e.n === 2), memo.find(a, (e) => e.n === 3)]).toEqual([{ n: 2 }, { n: 3 }])
  })

  it("refuses a limit below one", () => {
    expect(() => new RecentByObject(0)).toThrow("limit must be a positive whole number, got 0")
  })
})
