import { assign, cancel, createActor, raise, sendTo, setup, type ActorOptions, type AnyActorLogic } from "xstate"
import { describe, expect, expectTypeOf, it } from "vitest"
import { clockSuite } from "../../runtime/services/compliance/clock/index.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { SimClock } from "./clock.ts"
import { Scheduler } from "./scheduler.ts"

const HOUR = 3_600_000

/** A small machine: an `after` timeout, and a one-hour delayed event with an explicit id that can be cancelled. */
const machine = setup({
  types: { context: {} as { pings: number }, events: {} as { type: "start" } | { type: "ping" } | { type: "stop" } },
}).createMachine({
  id: "timer",
  context: { pings: 0 },
  initial: "idle",
  states: {
    idle: { on: { start: "waiting" } },
    waiting: { after: { 1000: "armed" } },
    armed: {
      entry: raise({ type: "ping" }, { delay: HOUR, id: "ping.timer" }),
      on: {
        ping: { target: "done", actions: assign({ pings: ({ context }) => context.pings + 1 }) },
        stop: { target: "stopped", actions: cancel("ping.timer") },
      },
    },
    done: {},
    stopped: {},
  },
})

function start(scheduler: Scheduler) {
  const actor = createActor(machine, { clock: new SimClock(scheduler) })
  const log: string[] = []
  actor.subscribe((s) => log.push(`${String(s.value)}@${scheduler.now}`))
  actor.start()
  return { actor, log }
}

describe("SimClock", () => {
  it("is a valid XState clock option", () => {
    expectTypeOf<SimClock>().toExtend<NonNullable<ActorOptions<AnyActorLogic>["clock"]>>()
  })

  it("runs `after` and delayed events at exact virtual times, with no wall time passing", () => {
    const scheduler = new Scheduler()
    const { actor, log } = start(scheduler)
    scheduler.after(250, () => actor.send({ type: "start" }))
    const wall = performance.now()
    const result = scheduler.runUntil()
    expect(performance.now() - wall).toBeLessThan(1000) // an hour of virtual time, instantly
    expect(result).toEqual({ reason: "empty", events: 3, now: 250 + 1000 + HOUR })
    expect(log).toEqual(["idle@0", "waiting@250", "armed@1250", `done@${1250 + HOUR}`])
    expect(actor.getSnapshot().context.pings).toBe(1)
  })

  it("does not fire a timer early, and cancels a delayed event by its id", () => {
    const scheduler = new Scheduler()
    const { actor, log } = start(scheduler)
    actor.send({ type: "start" })
    scheduler.runUntil({ time: 999 })
    expect(actor.getSnapshot().value).toBe("waiting")
    scheduler.runUntil({ time: 1000 })
    expect(actor.getSnapshot().value).toBe("armed")
    expect(scheduler.pending).toBe(1) // the hour-long ping
    scheduler.runUntil({ time: 1000 + HOUR - 1 })
    actor.send({ type: "stop" })
    expect(scheduler.pending).toBe(0)
    expect(scheduler.runUntil()).toMatchObject({ reason: "empty", events: 0 })
    expect(log.at(-1)).toBe(`stopped@${1000 + HOUR - 1}`)
  })

  it("cancels an `after` timeout when its state is left before it fires", () => {
    const scheduler = new Scheduler()
    const m = setup({ types: { events: {} as { type: "go" } } }).createMachine({
      initial: "a",
      states: { a: { after: { 500: "timedOut" }, on: { go: "b" } }, b: {}, timedOut: {} },
    })
    const actor = createActor(m, { clock: new SimClock(scheduler) }).start()
    scheduler.after(100, () => actor.send({ type: "go" }))
    scheduler.runUntil()
    expect(actor.getSnapshot().value).toBe("b")
    expect(scheduler.now).toBe(100)
  })

  it("delivers delayed sendTo between actors on virtual time", () => {
    const scheduler = new Scheduler()
    const received: number[] = []
    const child = setup({ types: { events: {} as { type: "hello" } } }).createMachine({
      on: { hello: { actions: () => received.push(scheduler.now) } },
    })
    const parent = setup({ actors: { child } }).createMachine({
      invoke: { src: "child", id: "kid" },
      entry: [sendTo("kid", { type: "hello" }, { delay: 42, id: "hello.1" }), sendTo("kid", { type: "hello" }, { delay: 7, id: "hello.2" })],
    })
    createActor(parent, { clock: new SimClock(scheduler) }).start()
    scheduler.runUntil()
    expect(received).toEqual([7, 42])
  })

  it("normalises delays like the host's setTimeout", () => {
    const scheduler = new Scheduler(10)
    const clock = new SimClock(scheduler)
    const at: Array<[string, number]> = []
    clock.setTimeout(() => at.push(["neg", scheduler.now]), -5)
    clock.setTimeout(() => at.push(["nan", scheduler.now]), Number.NaN)
    clock.setTimeout(() => at.push(["frac", scheduler.now]), 2.1)
    const id = clock.setTimeout(() => at.push(["cancelled", scheduler.now]), 1)
    clock.clearTimeout(id)
    clock.clearTimeout(id) // twice, and unknown ids, are ignored
    clock.clearTimeout(999)
    scheduler.runUntil()
    expect(at).toEqual([["neg", 10], ["nan", 10], ["frac", 13]])
    expect(() => clock.setTimeout(() => {}, Number.POSITIVE_INFINITY)).toThrow(RangeError)
  })
})

// The clock's suite on virtual time: the node's timers are a SimClock, its now is the scheduler's.
clockSuite("simulator (SimClock on the scheduler)", testSetup(async () => {
  const scheduler = new Scheduler()
  return {
    clock: new SimClock(scheduler, "node.timer"),
    now: () => scheduler.now,
    advance: async (ms: number) => void scheduler.runUntil({ time: scheduler.now + ms }),
  }
}), { deadlineOrder: true })
