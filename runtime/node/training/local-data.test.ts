import { describe, expect, it } from "vitest"
import { loadDataset, subset } from "../../adapters/data/index.ts"
import { DEFAULT_PARAMS, REGISTRY } from "../../core/params.ts"
import { evaluationSet } from "./local-data.ts"

describe("the network's evaluation set", () => {
  it("is the first training.evalSamples of the test split, the same samples on every node", () => {
    const data = loadDataset("mnist")
    const n = 300
    const a = evaluationSet(data.test, n, subset)
    const b = evaluationSet(loadDataset("mnist").test, n, subset)
    expect(a.labels.length).toBe(n)
    expect(Array.from(a.labels)).toEqual(Array.from(data.test.labels).slice(0, n))
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels))
    expect(Array.from(a.images.slice(0, 784 * 3))).toEqual(Array.from(data.test.images.slice(0, 784 * 3)))
  })
  it("is the whole split when the split holds fewer samples, and the default fits in the mnist test split", () => {
    const data = loadDataset("mnist")
    expect(evaluationSet(data.test, data.test.labels.length + 1, subset)).toBe(data.test)
    expect(DEFAULT_PARAMS["training.evalSamples"]).toBeLessThanOrEqual(data.test.labels.length)
    expect(REGISTRY["training.evalSamples"].kind).toBe("integer")
  })
})
