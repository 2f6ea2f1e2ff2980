import { describe, expect, it } from "vitest"
import { createActor, SimulatedClock } from "xstate"
import { drawCohort, trainingRoundMachine, type TrainingRoundInput, type TrainingRoundOutput } from "./training.ts"

const TRAINERS = ["t0", "t1", "t2", "t3", "t4", "t5"]

/** A tiny seeded stream (mulberry32) so the draw is reproducible in the test. */
const stream = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Run a round machine on a simulated clock; the provided actions record what the machine asked for. */
const start = (input: Partial<TrainingRoundInput> = {}, auto = true) => {
  const clock = new SimulatedClock()
  const calls: string[] = []
  let finished: TrainingRoundOutput | undefined
  const machine = trainingRoundMachine.provide({
    actions: {
      announce: (_, p) => void calls.push(`announce ${p.cohort.join(",")}`),
      requestShares: (_, p) => void calls.push(`shares ${p.participants.join(",")}`),
      requestMasked: (_, p) => void calls.push(`masked ${p.participants.join(",")}`),
      requestUnmask: (_, p) => void calls.push(`unmask ${p.survivors.join(",")} / ${p.dropped.join(",")}`),
      aggregate: (_, p) => {
        calls.push(`aggregate ${p.participants.join(",")}`)
        if (auto) queueMicrotask(() => actor.send({ type: "aggregate.done", modelHash: "0xabc" }))
      },
      evaluate: (_, p) => {
        calls.push(`evaluate ${p.modelHash}`)
        if (auto) queueMicrotask(() => actor.send({ type: "evaluation.done", accuracy: 0.91, scores: Object.fromEntries(p.participants.map((id) => [id, 1000])) }))
      },
      commit: (_, p) => void calls.push(`commit ${p.round} ${p.modelHash} ${p.accuracy} ${p.participants.join(",")}`),
      finished: (_, p) => void (finished = p),
    },
  })
  const actor = createActor(machine, {
    clock,
    input: {
      round: 3, trainers: TRAINERS, cohortSize: 4, minParticipants: 3, deadline: 60_000, stepTimeout: 10_000,
      secureAggregation: false, secAggThreshold: 2, random: stream(7), ...input,
    },
  })
  actor.start()
  actor.send({ type: "round.open" })
  const cohort = () => actor.getSnapshot().context.cohort
  return { actor, clock, calls, cohort, out: () => finished, state: () => actor.getSnapshot().value }
}
const tick = () => new Promise<void>((r) => setTimeout(r, 0))

describe("drawCohort", () => {
  it("is a seeded draw without replacement: same stream, same cohort; the order of the input does not matter", () => {
    const a = drawCohort(TRAINERS, 3, stream(1))
    expect(a).toHaveLength(3)
    expect(new Set(a).size).toBe(3)
    expect(drawCohort([...TRAINERS].reverse(), 3, stream(1))).toEqual(a)
    const draws = new Set(Array.from({ length: 20 }, (_, i) => drawCohort(TRAINERS, 3, stream(i)).join(",")))
    expect(draws.size).toBeGreaterThan(3)
    expect(drawCohort(TRAINERS, 99, stream(1))).toEqual(TRAINERS)
  })
})

describe("training round machine", () => {
  it("goes from the draw to the commit when every update arrives, and only commits once the block holds it", async () => {
    const { actor, calls, cohort, out, state } = start()
    expect(cohort()).toEqual(drawCohort(TRAINERS, 4, stream(7)))
    expect(calls[0]).toBe(`announce ${cohort().join(",")}`)
    for (const id of cohort()) actor.send({ type: "update.received", from: id })
    await tick()
    expect(state()).toBe("committing")
    expect(calls.at(-1)).toBe(`commit 3 0xabc 0.91 ${cohort().join(",")}`)
    actor.send({ type: "commit.done", height: 12 })
    expect(out()).toMatchObject({ status: "done", round: 3, modelHash: "0xabc", height: 12, participants: cohort() })
  })

  it("ignores updates from outside the cohort and duplicates", () => {
    const { actor, cohort, state } = start()
    const outsider = TRAINERS.find((t) => !cohort().includes(t))!
    actor.send({ type: "update.received", from: outsider })
    actor.send({ type: "update.received", from: cohort()[0]! })
    actor.send({ type: "update.received", from: cohort()[0]! })
    expect(actor.getSnapshot().context.updates).toEqual([cohort()[0]])
    expect(state()).toBe("training")
  })

  it("tolerates dropouts: at the deadline it aggregates whoever answered, if enough did", async () => {
    const { actor, clock, calls, cohort, state } = start()
    const [a, b, c] = cohort()
    for (const id of [a!, b!, c!]) actor.send({ type: "update.received", from: id })
    clock.increment(59_999)
    expect(state()).toBe("training")
    clock.increment(1)
    await tick()
    expect(calls).toContain(`aggregate ${[a, b, c].sort().join(",")}`)
    expect(state()).toBe("committing")
  })

  it("aborts at the deadline with too few updates, and says why", () => {
    const { actor, clock, out } = start()
    actor.send({ type: "update.received", from: actor.getSnapshot().context.cohort[0]! })
    clock.increment(60_000)
    expect(out()).toMatchObject({ status: "aborted", reason: "too few updates by the deadline: 1 of 4 (need 3)" })
  })

  it("aborts at once when the cohort cannot reach the minimum", () => {
    const { out, calls } = start({ trainers: ["t0", "t1"], minParticipants: 3 })
    expect(out()).toMatchObject({ status: "aborted", reason: "cohort too small: 2 trainer(s) available, need 3" })
    expect(calls).toEqual([])
  })

  it("aborts when aggregation fails or the result is not committed in time", async () => {
    const failing = start({}, false)
    for (const id of failing.cohort()) failing.actor.send({ type: "update.received", from: id })
    failing.actor.send({ type: "aggregate.failed", reason: "krum needs n >= 2f + 3" })
    expect(failing.out()).toMatchObject({ status: "aborted", reason: "aggregation failed: krum needs n >= 2f + 3" })

    const slow = start()
    for (const id of slow.cohort()) slow.actor.send({ type: "update.received", from: id })
    await tick()
    expect(slow.state()).toBe("committing")
    slow.clock.increment(10_000)
    expect(slow.out()).toMatchObject({ status: "aborted", reason: "the result was not committed within 10000 ms" })
  })

  it("runs the secure-aggregation steps and recovers a dropout after masking", async () => {
    const { actor, clock, calls, cohort, state } = start({ secureAggregation: true, secAggThreshold: 3 })
    const ids = cohort()
    for (const id of ids) actor.send({ type: "advert.received", from: id })
    expect(state()).toBe("sharing")
    expect(calls).toContain(`shares ${ids.join(",")}`)
    for (const id of ids) actor.send({ type: "shares.received", from: id })
    expect(state()).toBe("training")
    expect(calls).toContain(`masked ${ids.join(",")}`)
    // One of the four drops out after sharing its keys: its mask must be removed by the others.
    for (const id of ids.slice(0, 3)) actor.send({ type: "update.received", from: id })
    clock.increment(60_000)
    expect(state()).toBe("unmasking")
    expect(calls).toContain(`unmask ${ids.slice(0, 3).join(",")} / ${ids[3]}`)
    for (const id of ids.slice(0, 3)) actor.send({ type: "unmask.received", from: id })
    await tick()
    expect(state()).toBe("committing")
  })

  it("with secure aggregation, aborts when too few answer the unmasking request", () => {
    const { actor, clock, cohort, out } = start({ secureAggregation: true, secAggThreshold: 3 })
    for (const id of cohort()) actor.send({ type: "advert.received", from: id })
    for (const id of cohort()) actor.send({ type: "shares.received", from: id })
    for (const id of cohort()) actor.send({ type: "update.received", from: id })
    actor.send({ type: "unmask.received", from: cohort()[0]! })
    actor.send({ type: "unmask.received", from: cohort()[1]! })
    clock.increment(10_000)
    expect(out()).toMatchObject({ status: "aborted", reason: "secure aggregation: too few unmasking answers: 2 of 4 (need 3)" })
  })

  it("with secure aggregation, aborts when too few advertise keys", () => {
    const { actor, clock, cohort, out } = start({ secureAggregation: true, secAggThreshold: 3 })
    actor.send({ type: "advert.received", from: cohort()[0]! })
    clock.increment(10_000)
    expect(out()).toMatchObject({ status: "aborted", reason: "secure aggregation: too few key adverts: 1 of 4 (need 3)" })
  })

  it("can be aborted from outside (the coordinator stops) with a reason", () => {
    const { actor, out } = start()
    actor.send({ type: "round.abort", reason: "coordinator v1 crashed" })
    expect(out()).toMatchObject({ status: "aborted", reason: "coordinator v1 crashed" })
  })
})
