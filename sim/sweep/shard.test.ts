/** Shards: I/N parsing, and that N shards cover every run exactly once. */
import { describe, expect, it } from "vitest"
import { inShard, parseShard, shardSize } from "./shard.ts"

describe("shards", () => {
  it("parses I/N and refuses what is not a shard", () => {
    expect(parseShard("0/4")).toEqual({ index: 0, count: 4 })
    expect(parseShard(" 3 / 4 ")).toEqual({ index: 3, count: 4 })
    expect(parseShard("4/4")).toMatch(/from 0 to N-1/)
    expect(parseShard("1/0")).toMatch(/at least 1/)
    expect(parseShard("a/b")).toMatch(/must be I\/N/)
  })

  it("N shards hold every run exactly once, and shardSize counts each", () => {
    for (const total of [0, 1, 7, 40, 41]) {
      for (const count of [1, 2, 3, 5]) {
        const seen = new Array<number>(total).fill(0)
        for (let index = 0; index < count; index++) {
          let n = 0
          for (let run = 0; run < total; run++) if (inShard({ index, count }, run)) (seen[run]!++, n++)
          expect(shardSize({ index, count }, total)).toBe(n)
        }
        expect(seen.every((s) => s === 1)).toBe(true)
      }
    }
  })
})
