import { describe, expect, it } from "vitest"
import { parseSeed, SeedError, seedBanner } from "./seed.ts"

describe("seeds", () => {
  it("prints the banner exactly", () => {
    expect(seedBanner(42)).toBe("SEED=42")
    expect(seedBanner(0)).toBe("SEED=0")
    expect(seedBanner(Number.MAX_SAFE_INTEGER)).toBe("SEED=9007199254740991")
    expect(() => seedBanner(-1)).toThrow(SeedError)
  })

  it("parses decimal seeds from flags and numbers from files", () => {
    expect(parseSeed("7")).toBe(7)
    expect(parseSeed("007")).toBe(7)
    expect(parseSeed("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseSeed(42, "x.yaml: seed")).toBe(42)
  })

  it("rejects anything else with an error naming the source, the rule and the value", () => {
    for (const bad of ["", " 7", "7 ", "-1", "+1", "1.5", "1e3", "0x10", "abc", "9007199254740992"]) {
      expect(() => parseSeed(bad), bad).toThrow(SeedError)
    }
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => parseSeed(bad), String(bad)).toThrow(SeedError)
    expect(() => parseSeed("abc")).toThrow('--seed: a seed must be a whole number from 0 to 9007199254740991, got "abc"')
    expect(() => parseSeed(-3, "scenarios/x.yaml: seed")).toThrow(/^scenarios\/x\.yaml: seed: .* got -3$/)
    expect(() => parseSeed("x")).toThrow(expect.objectContaining({ _tag: "SeedError", name: "SeedError" }))
  })
})
