/** Fetching a model by hash (a validator checking a round result): held ones at once, others asked of the trainers, given up after a timeout. */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { App } from "../../core/app/app.ts"
import { modelHash } from "../../core/training/hash.ts"
import type { Network } from "../../services/network.ts"
import type { Store } from "../../services/store.ts"
import { FETCH_TIMEOUT_MS, ModelSync } from "./model-sync.ts"
import { Roster } from "./roster.ts"
import { decodeTrain, floatBytes } from "./wire.ts"

const setup = () => {
  const sent: Array<{ to: string; kind: string }> = []
  const network = {
    self: "me", publish: () => Effect.void, report: () => Effect.void, peers: Effect.succeed([]),
    subscribe: () => Effect.succeed(Effect.void),
    send: (to: string, _topic: string, data: Uint8Array) => Effect.sync(() => {
      const m = decodeTrain(data)
      if (Result.isSuccess(m)) sent.push({ to, kind: m.success.header.kind })
    }),
  } as unknown as Network["Service"]
  const roster = new Roster({ chainId: 1, verify: () => true, operatorOf: () => undefined })
  roster.self("v0", "me")
  roster.self("v1", "peer-1")
  roster.self("v2", "peer-2")
  const timers: Array<{ at: number; fn: () => void }> = []
  let now = 0
  const models = new ModelSync({
    app: { rounds: () => new Map(), lastRound: -1 } as unknown as App, network, store: {} as Store["Service"], roster,
    initialWeights: new Float32Array(2), now: () => now, run: (e) => Effect.runSync(e), invalid: () => {}, onCandidate: () => {},
    after: (ms, fn) => void timers.push({ at: now + ms, fn }),
  })
  const advance = (ms: number) => {
    now += ms
    for (const t of timers.splice(0).filter((t) => (t.at <= now ? (t.fn(), false) : true))) timers.push(t)
  }
  return { models, sent, advance }
}

describe("fetching a model by hash", () => {
  it("answers at once with a model it holds", () => {
    const s = setup()
    const w = Float32Array.from([1, 2])
    s.models.offer(modelHash(w), w)
    const got: Array<Float32Array | undefined> = []
    s.models.fetch(modelHash(w), 3, (x) => void got.push(x))
    expect(got).toEqual([w])
    expect(s.sent).toEqual([])
  })

  it("asks every other trainer once, and answers every waiter when the model arrives", () => {
    const s = setup()
    const w = Float32Array.from([3, 4])
    const got: Array<Float32Array | undefined> = []
    s.models.fetch(modelHash(w), 3, (x) => void got.push(x))
    s.models.fetch(modelHash(w), 3, (x) => void got.push(x))
    expect(s.sent).toEqual([{ to: "peer-1", kind: "global.request" }, { to: "peer-2", kind: "global.request" }])
    s.models.receive({ from: "peer-1", topic: "train", data: new Uint8Array(0) }, 3, modelHash(w), floatBytes(w))
    expect(got.map((x) => [...x!])).toEqual([[3, 4], [3, 4]])
    s.advance(FETCH_TIMEOUT_MS) // the timeout after an answer changes nothing
    expect(got).toHaveLength(2)
  })

  it("gives up after the timeout when nobody answers", () => {
    const s = setup()
    const got: Array<Float32Array | undefined> = []
    s.models.fetch(`0x${"ab".repeat(32)}`, 3, (x) => void got.push(x))
    s.advance(FETCH_TIMEOUT_MS - 1)
    expect(got).toEqual([])
    s.advance(1)
    expect(got).toEqual([undefined])
  })
})
