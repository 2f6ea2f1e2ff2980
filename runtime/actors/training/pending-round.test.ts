/**
 * A coordinator's pending round in its store: what was saved (and synced) survives a crash whole,
 * what was not saved is gone, and a record that does not hash to its model is refused.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { SimStore } from "../../../sim/adapters/sim-store.ts"
import { makeSimStorePort } from "../../../sim/adapters/store.ts"
import { modelHash } from "../../core/training/hash.ts"
import { decodePending, deletePending, encodePending, loadPending, savePending, type PendingRound } from "./pending-round.ts"

const pendingOf = (round: number, weights: Float32Array): PendingRound => ({
  round, modelHash: modelHash(weights), salt: `0x${"ab".repeat(32)}`, weights,
  scores: [{ account: "node0", score: 250_000 }, { account: "node1", score: 750_000 }],
})

describe("pending rounds", () => {
  it("a saved round survives a crash of the store; a deleted one is gone", () => {
    const sim = new SimStore()
    const store = makeSimStorePort(sim)
    const a = pendingOf(3, Float32Array.from([0.5, -1.25, 2]))
    const b = pendingOf(7, Float32Array.from([1, 2, 3]))
    Effect.runSync(savePending(store, a))
    Effect.runSync(savePending(store, b))
    sim.crash()
    expect(Effect.runSync(loadPending(store, 3)).map((p) => p.round)).toEqual([3, 7])
    Effect.runSync(deletePending(store, 3))
    const loaded = Effect.runSync(loadPending(store, 3))
    expect(loaded.map((p) => p.round)).toEqual([7])
    expect(loaded[0]!.scores).toEqual(b.scores)
    expect(loaded[0]!.salt).toBe(b.salt)
    expect([...loaded[0]!.weights]).toEqual([1, 2, 3])
  })

  it("a record whose weights do not hash to its model, or of another size, is refused", () => {
    const p = pendingOf(1, Float32Array.from([1, 2, 3]))
    expect(decodePending(encodePending(p), 3)?.modelHash).toBe(p.modelHash)
    expect(decodePending(encodePending(p), 4)).toBeUndefined()
    expect(decodePending(encodePending({ ...p, weights: Float32Array.from([1, 2, 4]) }), 3)).toBeUndefined()
    expect(decodePending(new Uint8Array([1, 0]), 3)).toBeUndefined()
  })
})
