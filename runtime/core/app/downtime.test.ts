/**
 * The downtime tracker against a model of its rule — per validator, a ring of its last `window`
 * observed blocks (1 = missed), started at its first observation, cleared by a reset or a new window —
 * over random sequences of blocks (sets that change, signers, the same set object observed again
 * after a reset), resets and window changes. After every step each validator's missed and observed
 * counts and the offenders at a random threshold must be the model's.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DowntimeTracker } from "./downtime.ts"
import { ValidatorSet } from "../consensus/validator-set.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const POOL = Array.from({ length: 12 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`)

/** The rule as written before the tracker kept its records in typed arrays: one ring per validator. */
class Model {
  window: number
  readonly records = new Map<string, { missed: number[]; observed: number; next: number }>()
  constructor(window: number) {
    this.window = window
  }
  setWindow(window: number): void {
    if (window !== this.window) {
      this.window = window
      this.records.clear()
    }
  }
  observe(validators: readonly string[], signers: ReadonlySet<string>): void {
    for (const v of validators) {
      let r = this.records.get(v)
      if (r === undefined) this.records.set(v, (r = { missed: Array<number>(this.window).fill(0), observed: 0, next: 0 }))
      r.missed[r.next] = signers.has(v) ? 0 : 1
      r.next = (r.next + 1) % this.window
      r.observed = Math.min(this.window, r.observed + 1)
    }
  }
  missed(v: string): number {
    return this.records.get(v)?.missed.reduce((a, b) => a + b, 0) ?? 0
  }
  offenders(fraction: number): string[] {
    const minSigned = Math.ceil(fraction * this.window)
    return [...this.records].filter(([v, r]) => r.observed === this.window && this.window - this.missed(v) < minSigned).map(([v]) => v).sort()
  }
}

type Step =
  | { readonly kind: "observe"; readonly set: number; readonly signed: readonly boolean[] }
  | { readonly kind: "reset"; readonly who: number }
  | { readonly kind: "window"; readonly window: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("observe" as const), set: fc.nat(3), signed: fc.array(fc.boolean(), { minLength: POOL.length, maxLength: POOL.length }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), who: fc.nat(POOL.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("window" as const), window: fc.integer({ min: 1, max: 6 }) }) },
)

describe("downtime tracker", () => {
  it("counts what the per-validator ring model counts, through set changes, resets and new windows", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        // Four sets over the pool (members by bitmask, never empty), each one object observed many times.
        fc.array(fc.integer({ min: 1, max: 2 ** POOL.length - 1 }), { minLength: 4, maxLength: 4 }),
        fc.array(step, { maxLength: 60 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        (window, masks, steps, fraction) => {
          const sets = masks.map((m) => ValidatorSet.from(POOL.filter((_, i) => (m >> i) & 1).map((address, i) => ({ address, power: BigInt(1 + ((i * 7) % 5)) }))))
          const tracker = new DowntimeTracker(window)
          const model = new Model(window)
          for (const s of steps) {
            if (s.kind === "observe") {
              const set = sets[s.set]!
              const signers = new Set(POOL.filter((_, i) => s.signed[i]))
              tracker.observe(set, Uint8Array.from(set.validators, (v) => (signers.has(v.address) ? 1 : 0)))
              model.observe(set.validators.map((v) => v.address), signers)
            } else if (s.kind === "reset") {
              tracker.reset(POOL[s.who]!)
              model.records.delete(POOL[s.who]!)
            } else {
              tracker.setWindow(s.window)
              model.setWindow(s.window)
            }
            for (const v of POOL) {
              expect(tracker.missed(v)).toBe(model.missed(v))
              expect(tracker.observed(v)).toBe(model.records.get(v)?.observed ?? 0)
            }
            expect(tracker.offenders(fraction)).toEqual(model.offenders(fraction))
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("refuses signer flags that do not match the set, and a window below one block", () => {
    const set = ValidatorSet.from([{ address: POOL[0]!, power: 1n }, { address: POOL[1]!, power: 1n }])
    const tracker = new DowntimeTracker(3)
    expect(() => tracker.observe(set, new Uint8Array(1))).toThrow("downtime: 1 signer flags for a set of 2")
    expect(tracker.observed(POOL[0]!)).toBe(0)
    expect(() => new DowntimeTracker(0)).toThrow(/positive whole number/)
    expect(() => tracker.setWindow(1.5)).toThrow(/positive whole number/)
    expect(tracker.window).toBe(3)
  })
})
