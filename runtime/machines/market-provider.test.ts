import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { propertyEnv } from "../../scripts/property-env.ts"
import { providerJobMachine, type ProviderJobEvent, type ProviderJobInput, type ProviderJobOutput } from "./market-provider.ts"
import { commandLog, DEADLINE, NO_SHOW, virtualTime, WINDOW, type Unstamped } from "./testkit.ts"

const PROVIDER_JOB = propertyEnv("PROVIDER_JOB", 200)

type Input = Unstamped<ProviderJobEvent>

const start = (over: Partial<ProviderJobInput> = {}) => {
  const time = virtualTime()
  const { commands, record, last } = commandLog()
  let out: ProviderJobOutput | undefined
  const actor = createActor(
    providerJobMachine.provide({ actions: { compute: record("compute"), deliver: record("deliver"), settle: record("settle"), finished: (_, p) => void (out = p) } }),
    { clock: time.clock, input: { provider: "p1", job: 7, units: 5, deadline: DEADLINE, now: 0, params: { noShowTimeout: NO_SHOW, disputeWindow: WINDOW }, chunk: 2, ...over } },
  )
  actor.start()
  const send = (e: Input) => actor.send({ ...e, at: time.now() } as ProviderJobEvent)
  const advance = (ms: number) => time.runUntil(time.now() + ms)
  /** Compute and deliver the chunk asked for. */
  const chunk = () => {
    const units = last("compute")!["units"] as number
    send({ type: "compute.done", units, resultHash: `0x${units}` })
    send({ type: "note.recorded", units })
    return units
  }
  return { actor, clock: time, commands, send, advance, last, chunk, out: () => out, state: () => actor.getSnapshot().value }
}

describe("provider job machine", () => {
  it("computes and delivers the job chunk by chunk, then is paid", () => {
    const t = start()
    expect(t.last("compute")).toEqual({ op: "compute", job: 7, units: 2 })
    t.send({ type: "compute.done", units: 2, resultHash: "0xaa" })
    expect(t.last("deliver")).toEqual({ op: "deliver", job: 7, provider: "p1", units: 2, resultHash: "0xaa" })
    t.send({ type: "note.recorded", units: 2 })
    t.send({ type: "notes.paid" }) // the requester confirms as the work goes on
    expect(t.chunk()).toBe(2)
    expect(t.chunk()).toBe(1)
    expect(t.state()).toBe("collecting")
    t.send({ type: "notes.paid" })
    expect(t.out()).toEqual({ job: 7, status: "paid", reason: undefined, delivered: 5, paid: 5, refunded: 0 })
  })

  it("settles its notes itself when the requester stays silent", () => {
    const t = start({ units: 2 })
    t.chunk()
    t.advance(WINDOW - 1)
    expect(t.last("settle")).toBeUndefined()
    t.advance(1)
    expect(t.last("settle")).toEqual({ op: "settle", job: 7, units: 2 })
    t.send({ type: "notes.paid" })
    expect(t.out()).toMatchObject({ status: "paid", paid: 2 })
  })

  it("ignores a computation that does not match the chunk asked for", () => {
    const t = start()
    t.send({ type: "compute.done", units: 5, resultHash: "0xbig" })
    expect(t.state()).toBe("computing")
    expect(t.last("deliver")).toBeUndefined()
  })

  it("stops working when the job is reclaimed, and still collects what it delivered", () => {
    const t = start()
    t.chunk()
    t.send({ type: "job.reclaimed" })
    expect(t.state()).toBe("collecting")
    t.send({ type: "compute.done", units: 2, resultHash: "0x2" })
    expect(t.commands.filter((c) => c.op === "deliver")).toHaveLength(1)
    t.send({ type: "notes.paid" })
    expect(t.out()).toMatchObject({ status: "paid", delivered: 2, paid: 2, reason: expect.stringContaining("reclaimed") })
  })

  it("stops at the deadline", () => {
    const t = start()
    t.chunk()
    t.advance(DEADLINE)
    expect(t.commands.filter((c) => c.op === "compute")).toHaveLength(2)
    t.send({ type: "compute.done", units: 2, resultHash: "0x2" })
    expect(t.commands.filter((c) => c.op === "deliver")).toHaveLength(1)
  })

  it("stops and ends slashed when a referee refutes its result", () => {
    const t = start()
    t.chunk()
    t.send({ type: "notes.disputed" })
    t.chunk()
    t.send({ type: "dispute.resolved", providerRight: false })
    expect(t.state()).toBe("collecting")
    t.send({ type: "notes.paid" })
    expect(t.out()).toMatchObject({ status: "slashed", refunded: 2, paid: 2 })
  })

  it("ends by deadline + 2 × disputeWindow when a verdict never comes", () => {
    const t = start({ units: 2 })
    t.chunk()
    t.send({ type: "notes.disputed" })
    t.advance(DEADLINE + 2 * WINDOW)
    expect(t.out()).toMatchObject({ status: "unpaid", paid: 0 })
  })
})

describe("provider job machine under random schedules", () => {
  it("never delivers more than the job, after the deadline or after losing it; ends by deadline + 2 × window", () => {
    fc.assert(
      fc.property(
        fc.record({
          units: fc.integer({ min: 1, max: 12 }),
          chunk: fc.integer({ min: 1, max: 5 }),
          deadline: fc.integer({ min: 1_000, max: 60_000 }),
          window: fc.integer({ min: 500, max: 20_000 }),
          steps: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 8_000 }), kind: fc.nat(9), units: fc.integer({ min: 0, max: 6 }) }), { maxLength: 40 }),
        }),
        (s) => {
          PROVIDER_JOB.tick()
          const time = virtualTime()
          const problems: string[] = []
          let asked = 0
          let delivering = 0
          let recorded = 0
          let lost = false
          let ended: number | undefined
          const actor = createActor(
            providerJobMachine.provide({
              actions: {
                compute: (_, p) => void (asked = p.units),
                deliver: (_, p) => {
                  delivering = p.units
                  if (lost) problems.push(`t=${time.now()}: delivered after losing the job`)
                  if (time.now() >= s.deadline) problems.push(`t=${time.now()}: delivered at or after the deadline`)
                  if (recorded + p.units > s.units) problems.push(`t=${time.now()}: delivers ${p.units} with ${recorded} of ${s.units} done`)
                },
                finished: () => void (ended = time.now()),
              },
            }),
            { clock: time.clock, input: { provider: "p1", job: 1, units: s.units, deadline: s.deadline, now: 0, params: { noShowTimeout: NO_SHOW, disputeWindow: s.window }, chunk: s.chunk } },
          )
          actor.start()
          const send = (e: ProviderJobEvent) => actor.getSnapshot().status === "active" && actor.send(e)
          let at = 0
          for (const step of s.steps) {
            at += step.gap
            time.runUntil(at)
            const now = time.now()
            // The backend and the ledger answer what was asked, or something else entirely.
            const events: ProviderJobEvent[] = [
              { type: "compute.done", units: asked, resultHash: "0x1", at: now },
              { type: "compute.done", units: step.units, resultHash: "0x2", at: now },
              { type: "note.recorded", units: delivering, at: now },
              { type: "note.recorded", units: step.units, at: now },
              { type: "notes.paid", at: now },
              { type: "notes.disputed", at: now },
              { type: "dispute.resolved", providerRight: step.units % 2 === 0, at: now },
              { type: "job.reclaimed", at: now },
              { type: "deliver.refused", reason: "MarketPastDeadline", at: now },
              { type: "compute.failed", reason: "oom", at: now },
            ]
            const e = events[step.kind]!
            if (e.type === "job.reclaimed" || (e.type === "dispute.resolved" && !e.providerRight)) lost = true
            if (e.type === "note.recorded" && e.units === delivering && delivering > 0 && !lost && now < s.deadline) (recorded += e.units), (delivering = 0)
            send(e)
          }
          const bound = s.deadline + 2 * s.window
          time.runUntil(Math.max(at, bound))
          expect(problems).toEqual([])
          expect(actor.getSnapshot().status).toBe("done")
          if (at < bound) expect(ended).toBeLessThanOrEqual(bound)
          expect(actor.getSnapshot().output!.delivered).toBeLessThanOrEqual(s.units)
        },
      ),
      PROVIDER_JOB.params,
    )
  }, PROVIDER_JOB.timeout(20))
})
