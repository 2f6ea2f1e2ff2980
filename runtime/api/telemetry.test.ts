/**
 * The telemetry hub fans events out without letting a listener break the node, and the round
 * tracker turns `training.round.<phase>` events into the /rounds view.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Telemetry, type TelemetryEvent } from "../services/telemetry.ts"
import { makeTelemetryHub } from "./telemetry-hub.ts"
import { makeRoundTracker } from "./training-rounds.ts"

const event = (kind: string, data: Record<string, unknown> = {}, at = 1): TelemetryEvent => ({ at, node: "v0", kind, data })

describe("telemetry hub", () => {
  it("delivers every event to every listener and the next service; a throwing listener is dropped, the others keep going", () => {
    const forwarded: string[] = []
    const hub = makeTelemetryHub(Telemetry.of({ emit: (e) => Effect.sync(() => void forwarded.push(e.kind)) }))
    const seen: string[] = []
    let bad = 0
    hub.subscribe(() => {
      bad++
      throw new Error("listener bug")
    })
    const stop = hub.subscribe((e) => seen.push(e.kind))
    Effect.runSync(hub.telemetry.emit(event("a")))
    Effect.runSync(hub.telemetry.emit(event("b")))
    stop()
    Effect.runSync(hub.telemetry.emit(event("c")))
    expect(seen).toEqual(["a", "b"])
    expect(bad).toBe(1)
    expect(forwarded).toEqual(["a", "b", "c"])
    expect([...hub.counts]).toEqual([["a", 1], ["b", 1], ["c", 1]])
  })

  it("replays the current state to a late subscriber: the latest event per retained kind and key, in order", () => {
    const hub = makeTelemetryHub()
    const emit = (kind: string, data: Record<string, unknown>) => Effect.runSync(hub.telemetry.emit(event(kind, data)))
    emit("stake.position", { position: 0, state: "bonded" })
    emit("governance.proposal", { id: 1, state: "Active" })
    emit("block.committed", { height: 1 })
    emit("stake.position", { position: 0, state: "unbonding" })
    emit("stake.position", { stake: "5" })
    emit("governance.proposal", { id: 2, state: "Active" })
    const late: string[] = []
    hub.subscribe((e) => late.push(`${e.kind} ${JSON.stringify(e.data)}`), { replay: true })
    expect(late).toEqual([
      `governance.proposal {"id":1,"state":"Active"}`,
      `stake.position {"position":0,"state":"unbonding"}`,
      `stake.position {"stake":"5"}`,
      `governance.proposal {"id":2,"state":"Active"}`,
    ])
    // Without replay a subscriber sees only what comes next.
    const plain: string[] = []
    hub.subscribe((e) => plain.push(e.kind))
    emit("peers", { count: 3 })
    expect(plain).toEqual(["peers"])
    expect(late.at(-1)).toBe(`peers {"count":3}`)
  })
})

describe("training rounds from telemetry", () => {
  it("keeps each round's last phase and data, counts distinct rounds, ignores other events", () => {
    const rounds = makeRoundTracker()
    rounds.observe(event("training.round.opened", { round: 2, cohort: ["t0", "t1"] }, 10))
    rounds.observe(event("training.round.opened", { round: 1 }, 5))
    rounds.observe(event("training.round.closed", { round: 2, accuracy: 0.91, stake: 5n }, 20))
    rounds.observe(event("training.round.closed", { round: "x" }))
    rounds.observe(event("block.committed", { round: 3 }))
    expect(rounds.rounds()).toEqual([
      { round: 1, phase: "opened", node: "v0", updatedAt: 5, data: { round: 1 } },
      { round: 2, phase: "closed", node: "v0", updatedAt: 20, data: { round: 2, accuracy: 0.91, stake: "5" } },
    ])
    expect(rounds.total).toBe(2)
  })
})
