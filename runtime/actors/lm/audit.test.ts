/**
 * The client's audit of paid stages (audit.ts) when a referee does not answer: a sampled note is not
 * confirmed on the first silence; it is asked again (a referee drawn anew) until `attempts` questions
 * went unanswered, and only then confirmed unchecked. A wrong note whose referee answers late is
 * disputed, never paid. A note found wrong has its evidence sent to every other validator, and each one
 * that answered is asked to resolve (the committee's verdict needs their own re-executions). The network is an in-process bus, the ledger the in-memory Chain port, and
 * time a hand-driven clock: the timeouts are fired by the test, not waited for.
 */
import { Effect, Result } from "effect"
import { describe, expect, it, vi } from "vitest"
import { ledgerAtGenesis } from "../../core/app/ledger-genesis.ts"
import type { Economy } from "../../core/econ/index.ts"
import { toHex } from "../../core/crypto.ts"
import { lmClientLeaves, lmTraceWord } from "../../core/lm/trace.ts"
import { decodeVerifyRequest, encodeVerifiedReply, LM_VERIFIED_TOPIC, LM_VERIFY_TOPIC, type LmInput } from "../../core/lm/wire.ts"
import { traceRoot } from "../../core/market/bisection.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { makeMemoryChain } from "../../services/memory-chain.ts"
import type { MarketContext } from "../market/context.ts"
import { inProcessBus } from "../test-bus.ts"
import { decodeMarketMessage, MARKET_TOPIC } from "../market/wire.ts"
import { FALLBACK_RESOLVE_MS, makeLmAudit } from "./audit.ts"
import { inputRows } from "./stage-step.ts"
import { lmJobKind } from "./paid.ts"
import { PAID_PARAMS } from "./testkit.ts"

const DIM = 4
const input = (start: number, length: number, fill: number): LmInput =>
  ({ start, length, dim: DIM, input: "activations", data: new Float32Array(length * DIM).fill(fill) })
const output = (fill: number) => new Float32Array(DIM).fill(fill)

/** Every test's world: a client, a stage server, two referee peers, one ledger; time moves only when the test fires the timers. */
const world = () => {
  const { port } = inProcessBus()
  const economy: Economy = Result.getOrThrow(ledgerAtGenesis({
    chainId: 7, time: 1_000, params: PAID_PARAMS,
    validators: [{ operator: "v0", address: `0x${"11".repeat(20)}`, amount: 10_000n * TOKEN, tier: 0, commission: 0n }],
    allocations: [{ address: "v0", amount: 20_000n * TOKEN }, { address: "client", amount: 1_000n * TOKEN }, { address: "server", amount: 1_000n * TOKEN },
      { address: "rest", amount: TOTAL_SUPPLY - 22_000n * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => economy.now + 1)
  const timers = new Map<number, () => void>()
  let nextTimer = 0
  const events: Array<{ kind: string; data: Record<string, unknown> }> = []
  let seed = 1
  /** The client's clock ahead of the ledger's (a late look at a note). */
  let ahead = 0
  const ctx: MarketContext = {
    name: "client", network: port("client"), ledger, params: () => economy.params,
    clock: { setTimeout: (f: () => void) => (timers.set(++nextTimer, f), nextTimer), clearTimeout: (t: number) => void timers.delete(t) } as MarketContext["clock"],
    now: () => economy.now + ahead,
    run: (e) => void Effect.runFork(e),
    // A fixed byte stream: the referee drawn is the test's to know (seed 1 → first of two, then alternating is not assumed).
    random: { bytes: (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff) } as MarketContext["random"],
    emit: (kind, data) => void events.push({ kind, data }),
    fault: () => undefined,
  }
  const op = (o: Parameters<typeof ledger.marketOp>[0]) => Effect.runPromise(ledger.marketOp(o))
  /** A referee peer answering `outcome` for each question it is asked, or staying silent on `undefined`. */
  const referee = (peer: string, answers: Array<"right" | "wrong" | undefined>) => {
    const asked: number[] = []
    const net = port(peer)
    Effect.runSync(net.subscribe(LM_VERIFY_TOPIC, (m) => {
      const q = Result.getOrThrow(decodeVerifyRequest(m.data))
      asked.push(q.note)
      const a = answers.shift()
      if (a !== undefined) Effect.runSync(net.send(m.from, LM_VERIFIED_TOPIC, encodeVerifiedReply({ v: 1, t: "verified", nonce: q.nonce, job: q.job, note: q.note, outcome: a })))
    }))
    return asked
  }
  /** Fire every timer set so far (the referees' answer windows closing). */
  const elapse = () => {
    const due = [...timers.values()]
    timers.clear()
    for (const f of due) f()
  }
  return { economy, ledger, ctx, op, referee, elapse, events, port, advance: (ms: number) => void (ahead += ms) }
}

/** A job of stage 0-1 assigned to "server" with one delivered note of 2 forwards, committing to what the client recorded. */
/** The forwards `deliveredJob` left unrecorded, recorded now. */
let recordRest: (audit: ReturnType<typeof makeLmAudit>, job: number) => void = () => {}

const deliveredJob = async (w: ReturnType<typeof world>, audit: ReturnType<typeof makeLmAudit>, recorded = 2) => {
  await w.op({ type: "registerProvider", provider: "server", bond: 200n * TOKEN, kinds: [lmJobKind(0, 1)], pricePerUnit: 1_000n, capacity: 4 })
  const posted = await w.op({ type: "postJob", requester: "client", kind: lmJobKind(0, 1), units: 8n, maxPricePerUnit: 2_000n, deadline: w.economy.now + 60_000 })
  const job = (posted as { job: number }).job
  await w.op({ type: "assignJob", job, provider: "server", by: "client" })
  const inputs = [input(0, 3, 0.5), input(3, 1, 0.25)]
  const outputs = [output(1), output(2)]
  // Blocks 0-1: one middle leaf (block 0's outputs), as the server sends it with each result.
  const middle = [new Uint8Array(32).fill(5), new Uint8Array(32).fill(6)]
  const shapeOf = (x: LmInput) => ({ start: x.start + x.length - 1, length: 1, dim: DIM, output: "activations" as const })
  const record = (a: ReturnType<typeof makeLmAudit>, i: number) => a.record(job, "s1", inputs[i]!, outputs[i]!, { ...shapeOf(inputs[i]!), trace: [toHex(middle[i]!)] })
  for (let i = 0; i < recorded; i++) record(audit, i)
  recordRest = (a) => {
    for (let i = recorded; i < inputs.length; i++) record(a, i)
  }
  const rows = outputs.map((data, i) => ({ kind: "activations" as const, ...shapeOf(inputs[i]!), data }))
  // The stage computed on cpu, and its note says so (core/lm/backend.ts).
  const word = lmTraceWord(traceRoot(lmClientLeaves(inputs.map(inputRows), [middle[1]!], rows)), "cpu")
  await w.op({ type: "deliver", job, provider: "server", units: 2n, resultHash: word })
  return job
}

const viewOf = async (w: ReturnType<typeof world>, job: number) => {
  const v = await Effect.runPromise(w.ledger.marketJob(job))
  if (v === undefined) throw new Error(`no job ${job}`)
  return v
}

/** review() with the referees' windows closed as soon as a question is out (the microtasks run first). */
const reviewClosingWindows = async (w: ReturnType<typeof world>, audit: ReturnType<typeof makeLmAudit>, job: number) => {
  const view = await viewOf(w, job)
  const r = audit.review(view)
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    w.elapse()
  }
  return r
}

describe("lm audit: a referee that does not answer", () => {
  it("a wrong note whose referee answers only the third question is disputed, never confirmed before", async () => {
    const w = world()
    const asked = w.referee("ref", [undefined, undefined, "wrong"])
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => ["ref"], attempts: 3 })
    const job = await deliveredJob(w, audit)

    for (const attempt of [1, 2]) {
      expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
      // Unanswered: still owed, so the payer's loop does not confirm yet.
      expect(audit.reviewed(await viewOf(w, job))).toBe(false)
      expect(asked).toHaveLength(attempt)
    }
    expect(await reviewClosingWindows(w, audit, job)).toBe("disputed")
    expect(asked).toEqual([1, 1, 1])
    const j = await viewOf(w, job)
    expect(j.state).toBe("disputed")
    expect(j.paidUnits).toBe(0n)
    expect(w.events.filter((e) => e.kind === "lm.verify.answered").map((e) => [e.data["outcome"], e.data["attempt"]])).toEqual([["timeout", 1], ["timeout", 2], ["wrong", 3]])
    expect(w.events.some((e) => e.kind === "lm.verify.unanswered")).toBe(false)
    audit.stop()
  })

  it("after `attempts` unanswered questions the note is confirmed unchecked, and said so", async () => {
    const w = world()
    const asked = w.referee("ref", [])
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => ["ref"], attempts: 2 })
    const job = await deliveredJob(w, audit)
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(audit.reviewed(await viewOf(w, job))).toBe(false)
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(audit.reviewed(await viewOf(w, job))).toBe(true)
    expect(asked).toEqual([1, 1])
    expect(w.events.filter((e) => e.kind === "lm.verify.unanswered")).toEqual([
      { kind: "lm.verify.unanswered", data: { job, note: 1, attempts: 2, reason: "no referee answered in time" } },
    ])
    // A third review asks nothing more: the note is through.
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(asked).toEqual([1, 1])
    audit.stop()
  })

  it("a note found wrong is disputed and its evidence sent to every other validator, each asked to resolve once it has answered", async () => {
    const w = world()
    const peers = ["v0", "v1", "v2"]
    // Every validator finds the note wrong (the drawn one on the question, the others on the evidence shared after the dispute).
    const asked = new Map(peers.map((p) => [p, w.referee(p, ["wrong", "wrong"])]))
    const resolves = new Map<string, number[]>(peers.map((p) => [p, []]))
    for (const p of peers) Effect.runSync(w.port(p).subscribe(MARKET_TOPIC, (m) => {
      const d = Result.getOrThrow(decodeMarketMessage(m.data))
      if (d.t === "resolve" && m.from === "client") resolves.get(p)!.push(d.job)
    }))
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => peers })
    const job = await deliveredJob(w, audit)
    expect(await reviewClosingWindows(w, audit, job)).toBe("disputed")
    expect((await viewOf(w, job)).state).toBe("disputed")
    // One question to the drawn referee, the evidence to each other one: every validator asked about the note once, and asked to resolve once.
    for (const p of peers) {
      expect(asked.get(p), p).toEqual([1])
      expect(resolves.get(p), p).toEqual([job])
    }
    const disputed = w.events.find((e) => e.kind === "lm.disputed")!
    expect(disputed.data["shared"]).toBe(2)
    expect(w.events.filter((e) => e.kind === "lm.verify.shared").map((e) => e.data["referee"]).sort()).toEqual(peers.filter((p) => p !== disputed.data["referee"]))
    audit.stop()
  })

  it("a validator sent the evidence that does not answer is not asked to resolve", async () => {
    const w = world()
    const peers = ["v0", "v1"]
    // The first question (the drawn referee's) is answered wrong; the evidence sent after the dispute is not answered.
    let questions = 0
    for (const p of peers) {
      const net = w.port(p)
      Effect.runSync(net.subscribe(LM_VERIFY_TOPIC, (m) => {
        const q = Result.getOrThrow(decodeVerifyRequest(m.data))
        if (questions++ === 0) Effect.runSync(net.send(m.from, LM_VERIFIED_TOPIC, encodeVerifiedReply({ v: 1, t: "verified", nonce: q.nonce, job: q.job, note: q.note, outcome: "wrong" })))
      }))
    }
    const resolves: string[] = []
    for (const p of peers) Effect.runSync(w.port(p).subscribe(MARKET_TOPIC, (m) => void (m.from === "client" && resolves.push(p))))
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => peers })
    const job = await deliveredJob(w, audit)
    expect(await reviewClosingWindows(w, audit, job)).toBe("disputed")
    const first = String(w.events.find((e) => e.kind === "lm.disputed")!.data["referee"])
    expect(questions).toBe(2)
    expect(resolves).toEqual([first])
    audit.stop()
    expect(w.events.filter((e) => e.kind === "lm.verify.shared").map((e) => e.data["outcome"])).toEqual(["timeout"])
  })

  it("validators that find the disputed note right are asked to resolve too (each signs its own verdict: a lying first referee is outvoted)", async () => {
    const w = world()
    const peers = ["v0", "v1", "v2"]
    // The drawn referee says wrong; the two validators sent the evidence afterwards find it right.
    let questions = 0
    for (const p of peers) {
      const net = w.port(p)
      Effect.runSync(net.subscribe(LM_VERIFY_TOPIC, (m) => {
        const q = Result.getOrThrow(decodeVerifyRequest(m.data))
        const outcome = questions++ === 0 ? "wrong" : "right"
        Effect.runSync(net.send(m.from, LM_VERIFIED_TOPIC, encodeVerifiedReply({ v: 1, t: "verified", nonce: q.nonce, job: q.job, note: q.note, outcome })))
      }))
    }
    const resolves: string[] = []
    for (const p of peers) Effect.runSync(w.port(p).subscribe(MARKET_TOPIC, (m) => void (m.from === "client" && resolves.push(p))))
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => peers })
    const job = await deliveredJob(w, audit)
    expect(await reviewClosingWindows(w, audit, job)).toBe("disputed")
    expect(questions).toBe(3)
    expect(resolves.sort()).toEqual(peers)
    expect(w.events.filter((e) => e.kind === "lm.verify.shared").map((e) => e.data["outcome"])).toEqual(["right", "right"])
    audit.stop()
  })

  it("validators that keep the shared evidence (to judge by the first referee's fraud proof) are asked to resolve only after FALLBACK_RESOLVE_MS, and only while the job is disputed", async () => {
    const w = world()
    const peers = ["v0", "v1", "v2"]
    let questions = 0
    const deferred: boolean[] = []
    for (const p of peers) {
      const net = w.port(p)
      Effect.runSync(net.subscribe(LM_VERIFY_TOPIC, (m) => {
        const q = Result.getOrThrow(decodeVerifyRequest(m.data))
        deferred.push(q.defer === true)
        const outcome = questions++ === 0 ? "wrong" : "kept"
        Effect.runSync(net.send(m.from, LM_VERIFIED_TOPIC, encodeVerifiedReply({ v: 1, t: "verified", nonce: q.nonce, job: q.job, note: q.note, outcome })))
      }))
    }
    const resolves: string[] = []
    for (const p of peers) Effect.runSync(w.port(p).subscribe(MARKET_TOPIC, (m) => void (m.from === "client" && resolves.push(p))))
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => peers })
    const job = await deliveredJob(w, audit)
    // No timer fires: the first referee's answer comes at once, the others' "kept" too.
    expect(await audit.review(await viewOf(w, job))).toBe("disputed")
    await vi.waitFor(() => expect(w.events.filter((e) => e.kind === "lm.verify.shared").map((e) => e.data["outcome"])).toEqual(["kept", "kept"]))
    // The question was asked to judge, the shared evidence to keep.
    expect(deferred).toEqual([false, true, true])
    const first = String(w.events.find((e) => e.kind === "lm.disputed")!.data["referee"])
    expect(resolves).toEqual([first])
    // FALLBACK_RESOLVE_MS later the job is still disputed (no verdict came): each keeper is asked to judge it itself.
    expect(FALLBACK_RESOLVE_MS).toBeGreaterThan(0)
    w.elapse()
    await vi.waitFor(() => expect(resolves.sort()).toEqual(peers))
    expect(w.events.filter((e) => e.kind === "lm.verify.fallback-resolve")).toHaveLength(2)
    audit.stop()
  })

  it("a note delivered before its last reply reached the client is looked at again once recorded, not confirmed unchecked", async () => {
    const w = world()
    const asked = w.referee("ref", ["right"])
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => ["ref"] })
    // The note covers 2 forwards; the client has recorded the first only (the second's reply is on its way).
    const job = await deliveredJob(w, audit, 1)
    const first = audit.review(await viewOf(w, job))
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    // Nothing asked of a note the client cannot give whole yet, nor skipped: it waits.
    expect(asked).toEqual([])
    expect(w.events.some((e) => e.kind === "lm.verify.skipped")).toBe(false)
    // The second reply arrives; the client's wait ends.
    recordRest(audit, job)
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      w.elapse()
    }
    expect(await first).toBe("confirm")
    expect(w.events.some((e) => e.kind === "lm.verify.skipped")).toBe(false)
    expect(audit.reviewed(await viewOf(w, job))).toBe(false)
    // The next review has the whole note: asked, found right, through.
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(asked).toEqual([1])
    expect(audit.reviewed(await viewOf(w, job))).toBe(true)
    audit.stop()
  })

  it("a last reply later than a few looks is waited for until half the note's dispute window has passed; past that the note is skipped, said so", async () => {
    const w = world()
    const asked = w.referee("ref", ["right"])
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => ["ref"] })
    const job = await deliveredJob(w, audit, 1)
    // Ten looks (a loaded machine: the reply is seconds late), each a review as the payment loop makes them: the note stays owed.
    for (let look = 0; look < 10; look++) {
      w.advance(100)
      expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
      expect(audit.reviewed(await viewOf(w, job))).toBe(false)
    }
    expect(asked).toEqual([])
    expect(w.events.some((e) => e.kind === "lm.verify.skipped")).toBe(false)
    recordRest(audit, job)
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(asked).toEqual([1])
    expect(audit.reviewed(await viewOf(w, job))).toBe(true)
    audit.stop()

    // A reply that never comes: once half the window is gone, the note is confirmed unchecked (the referee needs the other half).
    const v = world()
    const none = v.referee("ref", ["right"])
    const late = makeLmAudit(v.ctx, { account: "client", rate: 1, referees: () => ["ref"] })
    const lost = await deliveredJob(v, late, 1)
    expect(await reviewClosingWindows(v, late, lost)).toBe("confirm")
    expect(late.reviewed(await viewOf(v, lost))).toBe(false)
    v.advance(v.economy.params["market.disputeWindow"] / 2)
    expect(await reviewClosingWindows(v, late, lost)).toBe("confirm")
    expect(v.events.filter((e) => e.kind === "lm.verify.skipped").map((e) => e.data["note"])).toEqual([1])
    expect(late.reviewed(await viewOf(v, lost))).toBe(true)
    expect(none).toEqual([])
    late.stop()
  })

  it("referees are asked for the backend the note's word names; a note naming none is not checked", async () => {
    const w = world()
    const asked = w.referee("ref", ["right"])
    const backends: string[] = []
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: (b) => (backends.push(b), ["ref"]) })
    const job = await deliveredJob(w, audit)
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(backends).toEqual(["cpu"])
    expect(asked).toEqual([1])
    // A second note whose word binds the same records on no known backend: unmatched, no referee asked.
    const x = input(4, 1, 0.75)
    const shape = { start: 4, length: 1, dim: DIM, output: "activations" as const }
    const middle = new Uint8Array(32).fill(7)
    audit.record(job, "s2", x, output(3), { ...shape, trace: [toHex(middle)] })
    const root = traceRoot(lmClientLeaves([inputRows(x)], [middle], [{ kind: "activations", ...shape, data: output(3) }]))
    await w.op({ type: "deliver", job, provider: "server", units: 1n, resultHash: lmTraceWord(root, "some-other") })
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(backends).toEqual(["cpu"])
    expect(w.events.filter((e) => e.kind === "lm.verify.unmatched").map((e) => e.data["note"])).toEqual([2])
    audit.stop()
  })

  it("a note found right on the first answer is through at once", async () => {
    const w = world()
    const asked = w.referee("ref", ["right"])
    const audit = makeLmAudit(w.ctx, { account: "client", rate: 1, referees: () => ["ref"] })
    const job = await deliveredJob(w, audit)
    expect(await reviewClosingWindows(w, audit, job)).toBe("confirm")
    expect(audit.reviewed(await viewOf(w, job))).toBe(true)
    expect(asked).toEqual([1])
    audit.stop()
  })
})
