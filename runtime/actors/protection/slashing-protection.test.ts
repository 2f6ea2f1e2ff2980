import { Effect, Exit } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { SimStore } from "../../../sim/adapters/sim-store.ts"
import { makeSimStorePort } from "../../../sim/adapters/store.ts"
import { Store, StoreError } from "../../services/store.ts"
import { checkSigning, guardSigning, readProtection, signedAtHeight, writeProtection, type SignRecord, type SignStep } from "./slashing-protection.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

/**
 * Kill points: each run crashes the store at up to 6 random operations of up to 40 signing requests.
 * DAI_KILL_RUNS runs (CI default 400, or DAI_PROPERTY_RUNS × 2), seed DAI_KILL_SEED, path DAI_KILL_PATH
 * (scripts/property-env.ts); `npm run soak` runs 100,000.
 */
const KILL = propertyEnv("KILL", Number(process.env.DAI_PROPERTY_RUNS ?? 200) * 2)

const rec = (height: number, round: number, step: SignStep, value: string | null): SignRecord => ({ height, round, step, value })

describe("slashing protection", () => {
  it("allows progress, a repeat of the same value, and nothing else", () => {
    expect(checkSigning(undefined, rec(1, 0, "prevote", "a"))).toEqual({ ok: true, repeat: false })
    expect(checkSigning(rec(1, 0, "prevote", "a"), rec(1, 0, "precommit", "a"))).toEqual({ ok: true, repeat: false })
    expect(checkSigning(rec(1, 0, "prevote", "a"), rec(1, 0, "prevote", "a"))).toEqual({ ok: true, repeat: true })
    expect(checkSigning(rec(1, 0, "prevote", "a"), rec(1, 0, "prevote", null)).ok).toBe(false)
    expect(checkSigning(rec(1, 2, "proposal", "a"), rec(1, 1, "precommit", "a")).ok).toBe(false)
    expect(checkSigning(rec(2, 0, "proposal", "b"), rec(1, 9, "precommit", "a")).ok).toBe(false)
  })

  it("keeps the records of the highest height for a restart", () => {
    const store = makeSimStorePort(new SimStore())
    for (const r of [rec(5, 0, "prevote", "a"), rec(5, 0, "precommit", "a"), rec(5, 1, "prevote", null)]) Effect.runSync(guardSigning(store, r))
    expect(Effect.runSync(signedAtHeight(store, 5))).toHaveLength(3)
    Effect.runSync(guardSigning(store, rec(6, 0, "prevote", "b")))
    expect(Effect.runSync(signedAtHeight(store, 6))).toEqual([rec(6, 0, "prevote", "b")])
    expect(Effect.runSync(signedAtHeight(store, 5))).toEqual([])
  })

  it("stores an imported record: an unknown value refuses every signature at its place, and is never re-sent", () => {
    const store = makeSimStorePort(new SimStore())
    const unknown = { height: 7, round: 1, step: "prevote" as const }
    Effect.runSync(writeProtection(store, { mark: unknown, atMarkHeight: [rec(7, 0, "precommit", "a"), unknown] }))
    expect(Effect.runSync(readProtection(store))).toEqual({ mark: unknown, atMarkHeight: [rec(7, 0, "precommit", "a"), unknown] })
    expect(Effect.runSync(guardSigning(store, rec(7, 1, "prevote", "a"))).ok).toBe(false)
    expect(Effect.runSync(guardSigning(store, rec(7, 1, "prevote", null))).ok).toBe(false)
    expect(Effect.runSync(signedAtHeight(store, 7))).toEqual([rec(7, 0, "precommit", "a")])
    // Signing on at the same height keeps the unknown place in the record.
    expect(Effect.runSync(guardSigning(store, rec(7, 1, "precommit", "b"))).ok).toBe(true)
    expect(Effect.runSync(readProtection(store)).atMarkHeight).toEqual([rec(7, 0, "precommit", "a"), unknown, rec(7, 1, "precommit", "b")])
  })

  it("property: whatever the crash points, nothing conflicting is ever signed", () => {
    const request = fc.record({
      height: fc.integer({ min: 1, max: 4 }),
      round: fc.integer({ min: 0, max: 2 }),
      step: fc.constantFrom<SignStep>("proposal", "prevote", "precommit"),
      value: fc.constantFrom("a", "b", null),
    })
    fc.assert(
      fc.property(fc.array(request, { maxLength: 40 }), fc.array(fc.nat(200), { maxLength: 6 }), (requests, crashPoints) => {
        const sim = new SimStore()
        const port = makeSimStorePort(sim)
        let ops = 0
        const crashes = new Set(crashPoints)
        // A store that crashes the node at chosen operations: unsynced writes are lost, the call fails.
        const crashing = Store.of({
          ...port,
          put: (k, v) => Effect.suspend(() => (crashes.has(++ops) ? (sim.crash(), Effect.fail(new StoreError({ operation: "put", key: k, reason: "crash" }))) : port.put(k, v))),
          sync: Effect.suspend(() => (crashes.has(++ops) ? (sim.crash(), Effect.fail(new StoreError({ operation: "sync", key: "", reason: "crash" }))) : port.sync)),
        })
        const signed: SignRecord[] = []
        for (const r of requests) {
          const exit = Effect.runSyncExit(guardSigning(crashing, r))
          if (Exit.isSuccess(exit) && exit.value.ok) signed.push(r)
        }
        for (let i = 0; i < signed.length; i++) {
          for (let j = 0; j < i; j++) {
            const [a, b] = [signed[j]!, signed[i]!]
            const same = a.height === b.height && a.round === b.round && a.step === b.step
            expect(same && a.value !== b.value, `conflict: ${JSON.stringify(a)} then ${JSON.stringify(b)}`).toBe(false)
          }
        }
      }),
      KILL.params,
    )
  }, KILL.timeout(5)) // a run takes well under a millisecond
})
