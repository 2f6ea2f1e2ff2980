import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { marketJobMachine, type MarketJobEvent, type MarketJobInput, type MarketJobOutput, type RouteRequest } from "./market.ts"
import { commandLog, DEADLINE, NO_SHOW, virtualTime, WINDOW, type Unstamped } from "./testkit.ts"

/** An event as the test sends it: the ledger time `at` is the clock's. */
type Input = Unstamped<MarketJobEvent>

/**
 * A job machine on a simulated clock; the provided actions record the commands. `route` picks the
 * first of `providers` not excluded, and records what it was asked.
 */
const start = (over: Partial<MarketJobInput> = {}, providers: readonly string[] = ["p1", "p2", "p3"]) => {
  const time = virtualTime()
  const { commands, record, last } = commandLog()
  const asked: RouteRequest[] = []
  let out: MarketJobOutput | undefined
  const machine = marketJobMachine.provide({
    actions: {
      postJob: record("postJob"), assignJob: record("assignJob"), confirm: record("confirm"), dispute: record("dispute"),
      settle: record("settle"), reclaimNoShow: record("reclaimNoShow"), refund: record("refund"),
      finished: (_, p) => void (out = p),
    },
  })
  const actor = createActor(machine, {
    clock: time.clock,
    input: {
      requester: "alice", kind: "infer:mnist", units: 5, maxPricePerUnit: 10n, deadline: DEADLINE, now: 0,
      params: { noShowTimeout: NO_SHOW, disputeWindow: WINDOW },
      route: (r) => {
        asked.push(r)
        return providers.find((p) => !r.exclude.includes(p))
      },
      ...over,
    },
  })
  actor.start()
  const send = (e: Input) => actor.send({ ...e, at: time.now() } as MarketJobEvent)
  const advance = (ms: number) => time.runUntil(time.now() + ms)
  const ops = () => commands.map((c) => c.op)
  return { actor, clock: time, commands, asked, send, advance, ops, last, out: () => out, state: () => actor.getSnapshot().value, ctx: () => actor.getSnapshot().context }
}

/** Post the job and get it assigned to the provider the route picks. */
const running = (over: Partial<MarketJobInput> = {}, providers?: readonly string[]) => {
  const t = start(over, providers)
  t.send({ type: "job.posted", job: 7 })
  const provider = t.last("assignJob")!["provider"] as string
  t.send({ type: "job.assigned", provider })
  return { ...t, provider }
}

describe("market job machine", () => {
  it("posts, assigns the routed provider, pays debit notes as they are verified, and settles", () => {
    const t = start()
    expect(t.commands).toEqual([{ op: "postJob", requester: "alice", kind: "infer:mnist", units: 5, maxPricePerUnit: 10n, deadline: DEADLINE }])
    t.send({ type: "job.posted", job: 7 })
    expect(t.asked[0]).toEqual({ job: 7, kind: "infer:mnist", units: 5, maxPricePerUnit: 10n, exclude: [] })
    expect(t.last("assignJob")).toEqual({ op: "assignJob", job: 7, by: "alice", provider: "p1" })
    expect(t.state()).toBe("assigning")
    t.send({ type: "job.assigned", provider: "p1" })
    t.advance(1_000)
    t.send({ type: "note.delivered", provider: "p1", units: 3 })
    t.send({ type: "result.verified" })
    expect(t.last("confirm")).toEqual({ op: "confirm", job: 7, by: "alice", units: 3 })
    t.advance(1_000)
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    expect(t.state()).toBe("delivered")
    t.send({ type: "result.verified" })
    expect(t.last("confirm")).toMatchObject({ units: 2 })
    expect(t.state()).toBe("settled")
    expect(t.out()).toMatchObject({ job: 7, status: "settled", providers: ["p1"], failed: [], delivered: 5, paid: 5, refunded: 0 })
    expect(t.ops()).not.toContain("refund")
  })

  it("settles the notes nobody confirmed or disputed once their dispute window is over", () => {
    const t = running()
    t.send({ type: "note.delivered", provider: "p1", units: 5 })
    t.advance(WINDOW - 1)
    expect(t.state()).toBe("delivered")
    t.advance(1)
    expect(t.last("settle")).toEqual({ op: "settle", job: 7, units: 5 })
    expect(t.out()).toMatchObject({ status: "settled", paid: 5 })
  })

  it("takes the job from a provider that delivers nothing for noShowTimeout and reassigns it elsewhere", () => {
    const t = running()
    t.advance(NO_SHOW - 1)
    expect(t.ops()).not.toContain("reclaimNoShow")
    t.advance(1)
    expect(t.last("reclaimNoShow")).toEqual({ op: "reclaimNoShow", job: 7, by: "alice", provider: "p1" })
    expect(t.state()).toBe("failed")
    t.send({ type: "job.reopened" })
    expect(t.asked.at(-1)!.exclude).toEqual(["p1"])
    expect(t.last("assignJob")).toMatchObject({ provider: "p2" })
    expect(t.ctx().failed).toEqual(["p1"])
  })

  it("restarts the no-show clock at each delivery", () => {
    const t = running()
    t.advance(NO_SHOW - 1)
    t.send({ type: "note.delivered", provider: "p1", units: 1 })
    t.advance(NO_SHOW - 1)
    expect(t.ops()).not.toContain("reclaimNoShow")
    t.advance(1)
    expect(t.ops()).toContain("reclaimNoShow")
  })

  it("keeps the provider when the ledger refuses the reclaim (a delivery raced it)", () => {
    const t = running()
    t.advance(NO_SHOW)
    t.send({ type: "reclaim.refused", reason: "MarketNotNoShow" })
    expect(t.state()).toBe("running")
    expect(t.ops().filter((o) => o === "assignJob")).toHaveLength(1)
    t.advance(NO_SHOW)
    expect(t.ops().filter((o) => o === "reclaimNoShow")).toHaveLength(2)
  })

  it("disputes a refuted result; a lost dispute refunds the notes and fails the job over, never back to that provider", () => {
    const t = running()
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.send({ type: "result.verified" })
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.send({ type: "result.refuted" })
    expect(t.last("dispute")).toEqual({ op: "dispute", job: 7, by: "alice", units: 2 })
    expect(t.state()).toBe("disputed")
    t.send({ type: "dispute.resolved", providerRight: false })
    expect(t.ctx().failed).toEqual(["p1"])
    expect(t.asked.at(-1)).toMatchObject({ units: 3, exclude: ["p1"] })
    expect(t.last("assignJob")).toMatchObject({ provider: "p2" })
    t.send({ type: "job.assigned", provider: "p2" })
    t.send({ type: "note.delivered", provider: "p1", units: 1 }) // no longer its job
    expect(t.ctx().notes.filter((n) => n.provider === "p1").map((n) => n.state)).toEqual(["paid", "refunded"])
    t.send({ type: "note.delivered", provider: "p2", units: 3 })
    t.send({ type: "result.verified" })
    expect(t.out()).toMatchObject({ status: "settled", providers: ["p1", "p2"], failed: ["p1"], delivered: 5, paid: 5, refunded: 2 })
  })

  it("pays the frozen notes when the committee finds the provider right, and goes on with it", () => {
    const t = running()
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.send({ type: "result.refuted" })
    t.send({ type: "dispute.resolved", providerRight: true })
    expect(t.state()).toBe("running")
    expect(t.ctx().notes.map((n) => n.state)).toEqual(["paid"])
    t.send({ type: "note.delivered", provider: "p1", units: 3 })
    t.send({ type: "result.verified" })
    expect(t.out()).toMatchObject({ status: "settled", failed: [], paid: 5 })
  })

  it("does not dispute notes whose window is over", () => {
    const t = running()
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.advance(WINDOW)
    t.send({ type: "result.refuted" })
    expect(t.state()).toBe("running")
    expect(t.ops()).not.toContain("dispute")
  })

  it("waits when no provider is available, asks again after the retry interval or when providers change", () => {
    const providers: string[] = []
    const t = start({ retryInterval: 2_000 }, providers)
    t.send({ type: "job.posted", job: 7 })
    expect(t.state()).toBe("waiting")
    t.advance(2_000)
    expect(t.asked).toHaveLength(2)
    providers.push("p9")
    t.send({ type: "providers.changed" })
    expect(t.last("assignJob")).toMatchObject({ provider: "p9" })
  })

  it("asks another provider when one refuses the assignment, and none that was seen gone", () => {
    const t = start()
    t.send({ type: "provider.gone", provider: "p2" })
    t.send({ type: "job.posted", job: 7 })
    t.send({ type: "job.assigned", provider: "p2" }) // not the one asked: ignored
    expect(t.state()).toBe("assigning")
    t.send({ type: "assign.refused", provider: "p1", reason: "MarketProviderFull" })
    expect(t.asked.at(-1)!.exclude).toEqual(["p1", "p2"])
    expect(t.last("assignJob")).toMatchObject({ provider: "p3" })
  })

  it("never assigns a provider the routing function should have excluded", () => {
    const t = running({ route: () => "p1" })
    t.advance(NO_SHOW)
    t.send({ type: "job.reopened" })
    expect(t.state()).toBe("waiting")
    expect(t.ops().filter((o) => o === "assignJob")).toHaveLength(1)
  })

  it("ignores deliveries from others, beyond the job's units, or at the deadline", () => {
    const t = running({ units: 3 })
    t.send({ type: "note.delivered", provider: "p2", units: 1 })
    t.send({ type: "note.delivered", provider: "p1", units: 4 })
    t.send({ type: "note.delivered", provider: "p1", units: 0 })
    t.send({ type: "note.delivered", provider: "p1", units: 1.5 })
    expect(t.ctx().notes).toEqual([])
    t.send({ type: "note.delivered", provider: "p1", units: 1 })
    t.advance(DEADLINE - t.clock.now())
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    expect(t.ctx().notes.map((n) => n.units)).toEqual([1])
  })

  it("expires at the deadline and refunds every unpaid unit", () => {
    const t = start({}, [])
    t.send({ type: "job.posted", job: 7 })
    t.advance(DEADLINE - 1)
    expect(t.out()).toBeUndefined()
    t.advance(1)
    expect(t.last("refund")).toEqual({ op: "refund", job: 7, units: 5 })
    expect(t.out()).toMatchObject({ status: "expired", paid: 0 })
  })

  it("past the deadline, sees the notes delivered in time through their window before refunding the rest", () => {
    const t = running({ params: { noShowTimeout: DEADLINE, disputeWindow: WINDOW } })
    t.advance(DEADLINE - 1_000)
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.advance(1_000)
    expect(t.state()).toBe("winding")
    expect(t.ops()).not.toContain("refund")
    t.advance(WINDOW - 1_000)
    expect(t.last("settle")).toMatchObject({ units: 2 })
    expect(t.last("refund")).toMatchObject({ units: 3 })
    expect(t.out()).toMatchObject({ status: "expired", paid: 2 })
  })

  it("settles, never refunds, when every unit was delivered and paid", () => {
    const t = running({ units: 2 })
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.advance(DEADLINE + WINDOW)
    expect(t.out()).toMatchObject({ status: "settled", paid: 2 })
    expect(t.ops()).not.toContain("refund")
  })

  it("gives up on a verdict that never comes at the end of the last dispute window", () => {
    const t = running({ params: { noShowTimeout: DEADLINE, disputeWindow: WINDOW } })
    t.advance(DEADLINE - 1_000)
    t.send({ type: "note.delivered", provider: "p1", units: 2 })
    t.send({ type: "result.refuted" })
    t.advance(1_000 + WINDOW - 1)
    expect(t.out()).toBeUndefined()
    t.advance(1)
    expect(t.last("refund")).toMatchObject({ units: 3 })
    expect(t.out()).toMatchObject({ status: "expired", paid: 0 })
  })

  it("ends rejected when the ledger refuses the post", () => {
    const t = start()
    t.send({ type: "job.refused", reason: "MarketPastDeadline" })
    expect(t.out()).toMatchObject({ status: "rejected", job: undefined })
    expect(t.ops()).toEqual(["postJob"])
  })
})
