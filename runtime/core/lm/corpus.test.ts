import { describe, expect, it } from "vitest"
import { cleanEntry, entries, splitCorpus } from "./corpus.ts"

describe("fortune corpus", () => {
  it("cuts a fortune file into entries at `%` lines, dropping empty ones", () => {
    expect(entries("one\nline two\n%\n%\n\nthree\n%\n")).toEqual(["one\nline two", "three"])
  })

  it("removes terminal overstriking and carriage returns", () => {
    expect(cleanEntry("_\bb_\bo_\bl_\bd and B\bBO\bOL\bLD\r")).toBe("bold and BOLD")
  })

  it("splits by entry, every 10th to validation, files in name order, each entry ending in a `%` line", () => {
    const file = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join("\n%\n")
    const s = splitCorpus([
      { name: "b", text: file("b", 5) },
      { name: "a", text: file("a", 10) },
    ])
    expect(s.entries).toEqual({ train: 14, validation: 1 })
    expect(s.validation).toBe("a9\n%\n")
    expect(s.train.startsWith("a0\n%\na1\n%\n")).toBe(true)
    expect(s.train.endsWith("b4\n%\n")).toBe(true)
  })
})
