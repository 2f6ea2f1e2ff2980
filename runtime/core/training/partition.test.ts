import { describe, expect, it } from "vitest"
import { parsePartition, partition, PartitionError, specText } from "./partition.ts"

/** xorshift32 floats in [0, 1): the test's own seeded randomness. */
const rngFrom = (seed: number): (() => number) => {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

/** 10 classes, `perClass` samples each, interleaved (label = index mod 10). */
const balancedLabels = (perClass: number): Uint8Array => Uint8Array.from({ length: perClass * 10 }, (_, i) => i % 10)

const expectExactCover = (parts: number[][], n: number): void => {
  const seen = new Uint8Array(n)
  for (const p of parts) for (const i of p) seen[i]! += 1
  expect(seen.every((c) => c === 1)).toBe(true)
  expect(parts.every((p) => p.length > 0)).toBe(true)
}

const classesOf = (part: number[], labels: Uint8Array): number => new Set(part.map((i) => labels[i])).size

/** Mean over clients of the largest class's share of the client's data. */
const meanTopShare = (parts: number[][], labels: Uint8Array): number => {
  const shares = parts.map((p) => {
    const counts = new Map<number, number>()
    for (const i of p) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1)
    return Math.max(...counts.values()) / p.length
  })
  return shares.reduce((a, b) => a + b, 0) / shares.length
}

describe("parsePartition", () => {
  it("reads the three forms and round-trips through specText", () => {
    expect(parsePartition("iid")).toEqual({ kind: "iid" })
    expect(parsePartition("shards:2")).toEqual({ kind: "shards", shardsPerClient: 2 })
    expect(parsePartition("dirichlet:0.5")).toEqual({ kind: "dirichlet", alpha: 0.5 })
    for (const s of ["iid", "shards:3", "dirichlet:0.1"]) expect(specText(parsePartition(s))).toBe(s)
  })

  it.each(["", "IID", "shards", "shards:", "shards:0", "shards:1.5", "shards:-2", "dirichlet:0", "dirichlet:-1", "dirichlet:abc", "dirichlet:1:2", "zipf:1"])(
    "rejects %j with a PartitionError naming the spec",
    (bad) => {
      let err: unknown
      try {
        parsePartition(bad)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(PartitionError)
      expect((err as PartitionError).message).toContain(JSON.stringify(bad))
      expect((err as PartitionError).reason.length).toBeGreaterThan(10)
    },
  )
})

describe("partition", () => {
  const labels = balancedLabels(100) // 1000 samples

  it("iid: exact cover, sizes differ by at most one, classes mixed", () => {
    const parts = partition(labels, 7, "iid", rngFrom(1))
    expectExactCover(parts, labels.length)
    const sizes = parts.map((p) => p.length)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    expect(parts.every((p) => classesOf(p, labels) >= 8)).toBe(true)
  })

  it("shards:2 (McMahan): exact cover, equal sizes, each client sees at most 2 classes", () => {
    const parts = partition(labels, 10, "shards:2", rngFrom(2))
    expectExactCover(parts, labels.length)
    expect(parts.map((p) => p.length)).toEqual(Array(10).fill(100))
    // 20 shards of 50 over labels sorted into runs of 100: each shard holds one class.
    expect(parts.every((p) => classesOf(p, labels) <= 2)).toBe(true)
    expect(meanTopShare(parts, labels)).toBeGreaterThanOrEqual(0.5)
    expect(meanTopShare(partition(labels, 10, "iid", rngFrom(2)), labels)).toBeLessThan(0.3)
  })

  it("dirichlet: small α skews labels far more than large α", () => {
    const skewed = partition(labels, 10, "dirichlet:0.1", rngFrom(3))
    const flat = partition(labels, 10, "dirichlet:100", rngFrom(3))
    expectExactCover(skewed, labels.length)
    expectExactCover(flat, labels.length)
    expect(meanTopShare(skewed, labels)).toBeGreaterThan(0.5)
    expect(meanTopShare(flat, labels)).toBeLessThan(0.25)
  })

  it("dirichlet with tiny α and many clients still gives every client a sample", () => {
    const parts = partition(balancedLabels(5), 40, "dirichlet:0.01", rngFrom(4))
    expectExactCover(parts, 50)
  })

  it("is deterministic in the rng and changes with it", () => {
    for (const spec of ["iid", "shards:2", "dirichlet:0.5"]) {
      expect(partition(labels, 10, spec, rngFrom(9))).toEqual(partition(labels, 10, spec, rngFrom(9)))
      expect(partition(labels, 10, spec, rngFrom(9))).not.toEqual(partition(labels, 10, spec, rngFrom(10)))
    }
  })

  it("rejects impossible inputs clearly", () => {
    expect(() => partition(labels, 0, "iid", rngFrom(1))).toThrow(/clients must be an integer ≥ 1/)
    expect(() => partition(balancedLabels(1), 11, "iid", rngFrom(1))).toThrow(/10 samples cannot give each of 11 clients/)
    expect(() => partition(balancedLabels(1), 6, "shards:2", rngFrom(1))).toThrow(/cannot make 12 shards/)
    expect(() => partition(labels, 5, "shards:x", rngFrom(1))).toThrow(PartitionError)
  })
})
