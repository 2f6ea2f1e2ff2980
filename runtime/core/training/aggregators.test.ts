/**
 * Aggregators: exact small cases, refusals, and fast-check properties (identical updates, robustness
 * to f large byzantine outliers, permutation invariance). A failing property prints its seed.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { aggregate, AggregatorError, AGGREGATORS, krumScores } from "./aggregators.ts"
import type { ClientUpdate } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const u = (id: string, values: number[], samples = 1): ClientUpdate => ({ id, delta: Float32Array.from(values), samples })
const maxAbsDiff = (a: Float32Array, b: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}
const refusal = (f: () => unknown): AggregatorError => {
  try {
    f()
  } catch (e) {
    if (e instanceof AggregatorError) return e
    throw e
  }
  throw new Error("expected an AggregatorError")
}

describe("aggregators on small exact cases", () => {
  const ups = [u("a", [1, 10], 1), u("b", [2, 20], 1), u("c", [3, 30], 2), u("d", [100, -50], 0)]
  it("fedavg weights by samples", () => {
    // (1·1 + 2·1 + 3·2 + 100·0) / 4 = 2.25 ; (10 + 20 + 60 − 0) / 4 = 22.5
    expect(Array.from(aggregate("fedavg", ups))).toEqual([2.25, 22.5])
  })
  it("median takes the middle (mean of the two middle values for even n)", () => {
    expect(Array.from(aggregate("median", ups))).toEqual([2.5, 15])
    expect(Array.from(aggregate("median", ups.slice(0, 3)))).toEqual([2, 20])
  })
  it("trimmed-mean cuts k from each end", () => {
    expect(Array.from(aggregate("trimmed-mean", ups, { byzantine: 1 }))).toEqual([2.5, 15])
    // trimFraction 0.25 of 4 → k = 1
    expect(Array.from(aggregate("trimmed-mean", ups, { trimFraction: 0.25 }))).toEqual([2.5, 15])
    // default 0.1 of 4 → k = 0: the plain mean
    expect(Array.from(aggregate("trimmed-mean", ups))).toEqual([26.5, 2.5])
  })
  it("krum picks the update closest to its neighbours", () => {
    const five = [u("a", [0, 0]), u("b", [0.1, 0]), u("c", [0, 0.1]), u("d", [0.1, 0.1]), u("e", [50, 50])]
    // f = 1: each score sums the squared distances to its n − f − 2 = 2 nearest others; the outlier e is far from all
    const scores = krumScores(five, 1)
    expect(scores[4]).toBeGreaterThan(1000)
    const chosen = aggregate("krum", five, { byzantine: 1 })
    expect(Math.abs(chosen[0]!) + Math.abs(chosen[1]!)).toBeLessThan(0.2)
    const multi = aggregate("krum", five, { byzantine: 1, multiKrum: 4 })
    expect(Array.from(multi).map((x) => Math.round(x * 1000) / 1000)).toEqual([0.05, 0.05])
  })
})

describe("refusals", () => {
  it("krum refuses n < 2f + 3 with a clear error", () => {
    const four = [u("a", [0]), u("b", [1]), u("c", [2]), u("d", [3])]
    const e = refusal(() => aggregate("krum", four, { byzantine: 1 }))
    expect(e._tag).toBe("AggregatorError")
    expect(e.aggregator).toBe("krum")
    expect(e.message).toMatch(/n ≥ 2f \+ 3.*f = 1.*n = 4.*at least 5/)
    expect(() => aggregate("krum", [...four, u("e", [4])], { byzantine: 1 })).not.toThrow()
  })
  it("bad input names what and where", () => {
    expect(refusal(() => aggregate("fedavg", [])).reason).toMatch(/no updates/)
    expect(refusal(() => aggregate("median", [u("a", [1, 2]), u("b", [1])])).reason).toMatch(/"b" has 1 parameters, expected 2/)
    expect(refusal(() => aggregate("median", [u("a", [1, Number.NaN])])).reason).toMatch(/"a" has a non-finite value at index 1/)
    expect(refusal(() => aggregate("fedavg", [u("a", [1], 0)])).reason).toMatch(/no samples/)
    expect(refusal(() => aggregate("fedavg", [u("a", [1]), u("a", [2])])).reason).toMatch(/"a" appears twice/)
    expect(refusal(() => aggregate("trimmed-mean", [u("a", [1]), u("b", [2])], { byzantine: 1 })).reason).toMatch(/leaves none/)
    expect(refusal(() => aggregate("trimmed-mean", [u("a", [1])], { trimFraction: 0.5 })).reason).toMatch(/trimFraction/)
    expect(refusal(() => aggregate("nope" as never, [u("a", [1])])).reason).toMatch(/unknown aggregator/)
  })
})

const vec = (d: number) => fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: d, maxLength: d })

describe("properties", () => {
  it("any rule applied to n copies of one update returns that update", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((d) => vec(d)),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 5, maxLength: 9 }),
        fc.constantFrom(...AGGREGATORS),
        (values, samples, name) => {
          const ups = samples.map((s, i) => u(`c${i}`, values, s))
          expect(maxAbsDiff(aggregate(name, ups, { byzantine: 1 }), Float32Array.from(values))).toBeLessThanOrEqual(1e-5)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("robust rules stay near the honest updates with f large byzantine outliers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(1e3, -1e4, 1e6),
        (f, d, seed, magnitude) => {
          const n = 2 * f + 3 + (seed % 3)
          let s = seed
          const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1
          // Honest: a common centre plus noise in [−0.5, 0.5]; byzantine: huge values.
          const centre = Array.from({ length: d }, () => rnd() * 3)
          const honest = Array.from({ length: n - f }, (_, i) => u(`h${i}`, centre.map((c) => c + rnd() * 0.5)))
          const byz = Array.from({ length: f }, (_, i) => u(`z${i}`, centre.map(() => magnitude * (1 + rnd())), 1000))
          const ups = [...honest, ...byz]
          for (const name of ["median", "trimmed-mean", "krum"] as const) {
            const agg = aggregate(name, ups, { byzantine: f })
            // Each coordinate within the honest range (krum returns one honest update).
            for (let i = 0; i < d; i++) {
              const col = honest.map((h) => h.delta[i]!)
              expect(agg[i]!).toBeGreaterThanOrEqual(Math.min(...col) - 1e-4)
              expect(agg[i]!).toBeLessThanOrEqual(Math.max(...col) + 1e-4)
            }
          }
          if (f > 0) expect(maxAbsDiff(aggregate("fedavg", ups), Float32Array.from(centre))).toBeGreaterThan(10)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("every rule is invariant under permutation of the updates", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 9 }).chain((n) =>
          fc.tuple(fc.array(fc.tuple(vec(4), fc.integer({ min: 1, max: 50 })), { minLength: n, maxLength: n }), fc.infiniteStream(fc.nat())),
        ),
        fc.constantFrom(...AGGREGATORS),
        ([rows, stream], name) => {
          const ups = rows.map(([values, samples], i) => u(`c${i}`, values, samples))
          const shuffled = [...ups]
          const it = stream[Symbol.iterator]()
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = it.next().value! % (i + 1)
            ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
          }
          const a = aggregate(name, ups, { byzantine: 1 })
          const b = aggregate(name, shuffled, { byzantine: 1 })
          // fedavg and trimmed-mean sum in a different order: equal up to float rounding.
          expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-5)
        },
      ),
      { numRuns: RUNS },
    )
  })
})
