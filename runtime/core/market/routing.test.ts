import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { chooseProvider, eligibleProviders, ineligibility, LatencyEstimator, score, type Candidate, type RandomSource, type RoutingRequest } from "./routing.ts"

const seed = Date.now() % 2 ** 31
console.log(`routing properties: SEED=${seed}`)

/** A seeded uniform source (mulberry32), so every run of a property is replayable. */
const randomFrom = (s: number): RandomSource => {
  let a = s >>> 0
  return {
    int(n) {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n)
    },
  }
}

const candidate = fc.record({
  peer: fc.stringMatching(/^p[0-9]{1,3}$/),
  record: fc.record({ pricePerUnit: fc.bigInt({ min: 0n, max: 1000n }), capacity: fc.integer({ min: 1, max: 8 }), queue: fc.integer({ min: 0, max: 10 }) }),
})
const candidates = fc.uniqueArray(candidate, { selector: (c) => c.peer, maxLength: 12 })
const request = fc.record({ units: fc.integer({ min: 1, max: 50 }), maxPricePerUnit: fc.bigInt({ min: 0n, max: 1000n }) })
const latencies = (peers: readonly string[], ms: readonly number[]) => {
  const l = new LatencyEstimator()
  peers.forEach((p, i) => {
    if (ms[i] !== undefined && ms[i] > 0) l.observe(p, ms[i], 1)
  })
  return l
}

describe("routing: power of two choices", () => {
  it("property: never picks an ineligible provider, and picks one whenever one is eligible", () => {
    fc.assert(fc.property(candidates, request, fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 12 }), fc.integer(), (cs, req0, ms, s) => {
      const exclude = new Set(cs.filter((_, i) => i % 3 === 2).map((c) => c.peer))
      const req: RoutingRequest = { ...req0, exclude }
      const choice = chooseProvider(cs, req, latencies(cs.map((c) => c.peer), ms), randomFrom(s))
      const eligible = eligibleProviders(cs, req)
      if (eligible.length === 0) {
        expect(choice.ok).toBe(false)
        return
      }
      expect(choice.ok).toBe(true)
      if (!choice.ok) return
      expect(ineligibility(choice.provider, req)).toBeUndefined()
      expect(choice.provider.record.pricePerUnit <= req.maxPricePerUnit).toBe(true)
      expect(choice.provider.record.queue < choice.provider.record.capacity).toBe(true)
      expect(exclude.has(choice.provider.peer)).toBe(false)
    }), { seed })
  })

  it("property: with two or more eligible, never picks the one strictly worst by score; the choice ignores the input order", () => {
    fc.assert(fc.property(candidates, request, fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 12 }), fc.integer(), (cs, req, ms, s) => {
      const l = latencies(cs.map((c) => c.peer), ms)
      const eligible = eligibleProviders(cs, req)
      const choice = chooseProvider(cs, req, l, randomFrom(s))
      const again = chooseProvider([...cs].reverse(), req, l, randomFrom(s))
      expect(again).toEqual(choice)
      if (eligible.length < 2 || !choice.ok) return
      const scores = eligible.map((c) => score(c, req, l))
      const worst = Math.max(...scores)
      if (scores.filter((x) => x === worst).length === 1) expect(score(choice.provider, req, l)).toBeLessThan(worst)
    }), { seed })
  })

  it("property: spreads load — equal providers end within a few jobs of the mean (random choice does not)", () => {
    const gap = (n: number, jobs: number, s: number, pick: (cs: Candidate[], r: RandomSource) => string) => {
      const queues = new Map(Array.from({ length: n }, (_, i) => [`p${String(i).padStart(2, "0")}`, 0]))
      const r = randomFrom(s)
      for (let k = 0; k < jobs; k++) {
        const cs = [...queues].map(([peer, queue]) => ({ peer, record: { pricePerUnit: 1n, capacity: 100_000, queue } }))
        const chosen = pick(cs, r)
        queues.set(chosen, queues.get(chosen)! + 1)
      }
      return Math.max(...queues.values()) - jobs / n
    }
    const latency = new LatencyEstimator()
    const twoChoices = (cs: Candidate[], r: RandomSource) => {
      const c = chooseProvider(cs, { units: 1, maxPricePerUnit: 1n }, latency, r)
      if (!c.ok) throw new Error(c.reason)
      return c.provider.peer
    }
    fc.assert(fc.property(fc.integer({ min: 2, max: 20 }), fc.integer(), (n, s) => {
      // Azar et al.: the gap stays at log log n / log 2 + O(1) whatever the number of jobs.
      expect(gap(n, 50 * n, s, twoChoices)).toBeLessThanOrEqual(4)
    }), { seed, numRuns: 30 })
    // Against uniform random choice on the same workload: 20 providers, 2,000 jobs, seeded.
    const random = (cs: Candidate[], r: RandomSource) => cs[r.int(cs.length)]!.peer
    expect(gap(20, 2_000, 7, twoChoices)).toBeLessThan(gap(20, 2_000, 7, random) / 3)
  })

  it("property: with as many choices as eligible providers, picks the best score (greedy)", () => {
    fc.assert(fc.property(candidates, request, fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 12 }), fc.integer(), (cs, req, ms, s) => {
      const l = latencies(cs.map((c) => c.peer), ms)
      const eligible = eligibleProviders(cs, req)
      const choice = chooseProvider(cs, req, l, randomFrom(s), { choices: 100 })
      if (eligible.length === 0 || !choice.ok) return
      expect(choice.score).toBe(Math.min(...eligible.map((c) => score(c, req, l))))
    }), { seed })
  })

  it("says why no provider can take a job", () => {
    const l = new LatencyEstimator()
    const c = (peer: string, price: bigint, capacity: number, queue: number): Candidate => ({ peer, record: { pricePerUnit: price, capacity, queue } })
    const none = chooseProvider([c("a", 9n, 2, 0), c("b", 1n, 2, 2), c("x", 1n, 2, 0)], { units: 1, maxPricePerUnit: 5n, exclude: new Set(["x"]) }, l, randomFrom(1))
    expect(none).toEqual({ ok: false, reason: expect.stringMatching(/none of 3 providers can take the job: 1 over the price cap of 5 per unit, 1 full, 1 excluded/) })
    expect(chooseProvider([], { units: 1, maxPricePerUnit: 5n }, l, randomFrom(1))).toEqual({ ok: false, reason: "no provider found for this job kind" })
    expect(chooseProvider([c("a", 1n, 1, 0)], { units: 0, maxPricePerUnit: 5n }, l, randomFrom(1)).ok).toBe(false)
  })

  it("prefers the faster and the cheaper of two, and weighs price against time", () => {
    const l = new LatencyEstimator()
    l.observe("fast", 100, 10) // 10 ms per unit
    l.observe("slow", 400, 10) // 40 ms per unit
    const fast = { peer: "fast", record: { pricePerUnit: 10n, capacity: 4, queue: 0 } }
    const slow = { peer: "slow", record: { pricePerUnit: 0n, capacity: 4, queue: 0 } }
    const req = { units: 5, maxPricePerUnit: 10n }
    // fast at the cap: 50 ms × 2 = 100; slow and free: 200 ms × 1 = 200.
    expect(score(fast, req, l)).toBe(100)
    expect(score(slow, req, l)).toBe(200)
    const pick = (priceWeight: number) => {
      const c = chooseProvider([fast, slow], req, l, randomFrom(3), { priceWeight })
      return c.ok ? c.provider.peer : c.reason
    }
    expect(pick(1)).toBe("fast")
    expect(pick(4)).toBe("slow") // 50 × 5 = 250 > 200
    // A loaded provider is slower: 3 of 4 slots busy → 1.75 × its time.
    expect(score({ ...fast, record: { ...fast.record, queue: 3 } }, req, l, { priceWeight: 0 })).toBe(87.5)
  })

  it("latency: EWMA per provider, normalised by the advertised load; the unmeasured get the mean", () => {
    const l = new LatencyEstimator({ alpha: 0.5, priorMsPerUnit: 7 })
    expect(l.msPerUnit("x")).toBe(7)
    l.observe("a", 100, 10) // 10
    l.observe("a", 300, 10, 1) // 300 / (10 × 2) = 15 → 12.5
    expect(l.msPerUnit("a")).toBe(12.5)
    l.observe("b", 50, 1) // 50
    expect(l.msPerUnit("x")).toBe((12.5 + 50) / 2)
    l.observe("b", Number.NaN, 1)
    expect(l.msPerUnit("b")).toBe(50)
    expect(() => new LatencyEstimator({ alpha: 0 })).toThrow(/alpha/)
  })
})
