import { describe, expect, it } from "vitest"
import { blockSection, configProblem, initialWeights, type LmConfig, paramCount, section, sections } from "./config.ts"

const c: LmConfig = { vocabSize: 256, contextLength: 64, dim: 64, heads: 4, blocks: 4, hidden: 256 }

/** A counter stream: deterministic, no tfjs. */
const stream = (seed: number) => {
  let s = seed
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31)
}

describe("language-model config", () => {
  it("counts GPT-2's parameters: embeddings, 12·d² + 13·d per block (hidden 4d), final norm and head", () => {
    const d = c.dim
    expect(paramCount(c)).toBe(256 * d + 64 * d + c.blocks * (12 * d * d + 13 * d) + 2 * d + d * 256 + 256)
  })

  it("every block's section has the same size, and the sections are contiguous in order", () => {
    const s = sections(c)
    const blocks = s.filter((x) => x.name.startsWith("block/"))
    expect(blocks.map((b) => b.name)).toEqual([0, 1, 2, 3].map(blockSection))
    expect(new Set(blocks.map((b) => b.size)).size).toBe(1)
    let at = 0
    for (const x of s) {
      expect(x.offset).toBe(at)
      expect(x.size).toBe(x.params.reduce((t, p) => t + p.size, 0))
      at += x.size
    }
    expect(() => section(c, "block/4")).toThrow(/no weight section/)
  })

  it("initial weights: a pure function of the stream; gains 1, biases 0, weights small", () => {
    const a = initialWeights(c, stream(5))
    expect(Array.from(a)).toEqual(Array.from(initialWeights(c, stream(5))))
    const head = section(c, "head")
    expect(a[head.offset]).toBe(1) // lnf.g
    expect(a[head.offset + c.dim]).toBe(0) // lnf.b
    const std = Math.sqrt(a.subarray(0, 256 * c.dim).reduce((t, x) => t + x * x, 0) / (256 * c.dim))
    expect(std).toBeGreaterThan(0.015)
    expect(std).toBeLessThan(0.025)
  })

  it("rejects a shape that does not work", () => {
    expect(configProblem({ ...c, heads: 3 })).toMatch(/multiple of heads/)
    expect(configProblem({ ...c, blocks: 0 })).toMatch(/blocks must be a positive integer/)
    expect(() => sections({ ...c, dim: 0 })).toThrow(/invalid language-model config/)
  })
})
