/** Certificate keys: one per height, and the store's key order is height order (restarts replay them in order). */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { BLOCK_KEY_PREFIX, blockKey } from "./store-keys.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)

describe("block keys", () => {
  it("are the prefix and the height padded to 12 digits", () => {
    expect(blockKey(1)).toBe("block/000000000001")
    expect(blockKey(123_456_789_012)).toBe("block/123456789012")
    expect(blockKey(7).startsWith(BLOCK_KEY_PREFIX)).toBe(true)
  })

  it("sort as their heights do, and two heights never share a key", () => {
    const height = fc.integer({ min: 1, max: 999_999_999_999 })
    fc.assert(fc.property(height, height, (a, b) => {
      const [ka, kb] = [blockKey(a), blockKey(b)]
      expect(ka === kb).toBe(a === b)
      expect(ka < kb).toBe(a < b)
    }), { numRuns: RUNS })
  })
})
