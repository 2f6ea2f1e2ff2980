/**
 * A paid stage server's defense of its notes (defense.ts): it keeps each delivered note's evidence
 * until the note is settled, and when its job is disputed sends the evidence of every frozen note to
 * every validator to keep and, if the dispute is still open `resolveAfterMs` later (no fraud proof
 * settled it), asks each that kept all of them to resolve. The network is an in-process bus, the
 * ledger the in-memory Chain port, and time a hand-driven clock.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { ledgerAtGenesis } from "../../core/app/ledger-genesis.ts"
import { lmRefereeKey } from "../../core/lm/backend.ts"
import type { Economy } from "../../core/econ/index.ts"
import { fromHex, toHex } from "../../core/crypto.ts"
import { lmClientLeaves, lmEvidenceWord, lmTraceWord, type LmRows } from "../../core/lm/trace.ts"
import { decodeVerifiedReply, decodeVerifyRequest, encodeVerifiedReply, encodeVerifyRequest, LM_VERIFIED_TOPIC, LM_VERIFY_TOPIC, type LmInput, type VerifiedReply } from "../../core/lm/wire.ts"
import { traceRoot } from "../../core/market/bisection.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { makeMemoryChain } from "../../services/memory-chain.ts"
import type { MarketContext } from "../market/context.ts"
import { decodeMarketMessage, MARKET_TOPIC } from "../market/wire.ts"
import { inProcessBus } from "../test-bus.ts"
import { startStageDefense } from "./defense.ts"
import { lmRefereeFinder } from "./lm-referees.ts"
import { lmJobKind, type NoteEvidence } from "./paid.ts"
import { startLmReferee } from "./referee.ts"
import { inputRows } from "./stage-step.ts"
import { PAID_PARAMS } from "./testkit.ts"

const DIM = 4
const VALIDATORS = ["v0", "v1", "v2"]
const input = (start: number, length: number, fill: number): LmInput =>
  ({ start, length, dim: DIM, input: "activations", data: new Float32Array(length * DIM).fill(fill) })

const world = () => {
  const bus = inProcessBus()
  const economy: Economy = Result.getOrThrow(ledgerAtGenesis({
    chainId: 7, time: 1_000, params: PAID_PARAMS,
    validators: VALIDATORS.map((operator, i) => ({ operator, address: `0x${String(i + 1).repeat(40)}`, amount: 10_000n * TOKEN, tier: 0, commission: 0n })),
    allocations: [...VALIDATORS.map((address) => ({ address, amount: 20_000n * TOKEN })), { address: "client", amount: 1_000n * TOKEN }, { address: "server", amount: 1_000n * TOKEN },
      { address: "rest", amount: TOTAL_SUPPLY - 62_000n * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => economy.now + 1)
  const timers = new Map<number, () => void>()
  let nextTimer = 0
  const events: Array<{ kind: string; data: Record<string, unknown> }> = []
  /** The actors' clock runs ahead of the ledger's by this much (a resend's interval, without touching the dispute window). */
  const clock = { ahead: 0 }
  const ctxOf = (name: string): MarketContext => ({
    name, network: bus.port(name), ledger, params: () => economy.params,
    clock: { setTimeout: (f: () => void) => (timers.set(++nextTimer, f), nextTimer), clearTimeout: (t: number) => void timers.delete(t) } as MarketContext["clock"],
    now: () => economy.now + clock.ahead,
    run: (e) => void Effect.runFork(e),
    random: { bytes: (n: number) => new Uint8Array(n).fill(1) } as MarketContext["random"],
    emit: (kind, data) => void events.push({ kind, data: { node: name, ...data } }),
    fault: () => undefined,
  })
  const op = (o: Parameters<typeof ledger.marketOp>[0]) => Effect.runPromise(ledger.marketOp(o))
  /** Fire every timer set so far, letting the ledger reads between them finish. */
  const elapse = async () => {
    for (let i = 0; i < 10; i++) {
      const due = [...timers.values()]
      timers.clear()
      for (const f of due) f()
      for (let k = 0; k < 10; k++) await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return { bus, economy, ledger, ctxOf, op, elapse, events, clock }
}

/** A 0-1 job of "client" assigned to "server" with `notes` delivered notes of 2 forwards, each's trace (inputs, one made-up middle leaf, outputs) bound to cpu; their evidence. */
const deliveredJob = async (w: ReturnType<typeof world>, notes: number) => {
  await w.op({ type: "registerProvider", provider: "server", bond: 200n * TOKEN, kinds: [lmJobKind(0, 1)], pricePerUnit: 1_000n, capacity: 4 })
  const posted = await w.op({ type: "postJob", requester: "client", kind: lmJobKind(0, 1), units: 16n, maxPricePerUnit: 2_000n, deadline: w.economy.now + 60_000 })
  const job = (posted as { job: number }).job
  await w.op({ type: "assignJob", job, provider: "server", by: "client" })
  const inputs: LmInput[] = []
  const outputs: LmRows[] = []
  const evidence: Array<{ note: number; e: NoteEvidence }> = []
  for (let n = 0; n < notes; n++) {
    inputs.push(input(2 * n, 1, n), input(2 * n + 1, 1, n + 0.5))
    outputs.push(...[0, 1].map((i): LmRows => ({ kind: "activations", start: 2 * n + i, length: 1, dim: DIM, data: new Float32Array(DIM).fill(n + i) })))
    const leaves = lmClientLeaves(inputs.map(inputRows), [new Uint8Array(32).fill(n + 1)], outputs)
    const r = await w.op({ type: "deliver", job, provider: "server", units: 2n, resultHash: lmTraceWord(traceRoot(leaves), "cpu") })
    evidence.push({ note: (r as { note: number }).note, e: { first: inputs.length - 2, inputs: inputs.slice(), leaves: leaves.map(toHex) } })
  }
  return { job, evidence }
}

/** Validator peers answering `outcome` to every evidence, recording what they were asked and the resolves they got. */
const validators = (w: ReturnType<typeof world>, outcome: VerifiedReply["outcome"] | undefined) => {
  const asked = new Map<string, number[]>(VALIDATORS.map((v) => [v, []]))
  const resolves = new Map<string, number[]>(VALIDATORS.map((v) => [v, []]))
  for (const v of VALIDATORS) {
    const net = w.bus.port(v)
    Effect.runSync(net.subscribe(LM_VERIFY_TOPIC, (m) => {
      const q = Result.getOrThrow(decodeVerifyRequest(m.data))
      asked.get(v)!.push(q.note)
      if (outcome !== undefined) Effect.runSync(net.send(m.from, LM_VERIFIED_TOPIC, encodeVerifiedReply({ v: 1, t: "verified", nonce: q.nonce, job: q.job, note: q.note, outcome })))
    }))
    Effect.runSync(net.subscribe(MARKET_TOPIC, (m) => {
      const d = Result.getOrThrow(decodeMarketMessage(m.data))
      if (d.t === "resolve" && m.from === "server") resolves.get(v)!.push(d.job)
    }))
  }
  return { asked, resolves }
}

describe("lm stage defense", () => {
  it("a disputed job: every frozen note's evidence goes to every validator to keep, and resolveAfterMs later each that kept all of them is asked to resolve", async () => {
    const w = world()
    const { asked, resolves } = validators(w, "kept")
    const defense = startStageDefense(w.ctxOf("server"), { account: "server", from: 0, to: 1, backend: "cpu", referees: () => VALIDATORS, resolveAfterMs: 10_000 })
    const { job, evidence } = await deliveredJob(w, 3)
    for (const { note, e } of evidence) defense.keep(job, note, e)
    // Not disputed: nothing sent.
    await w.elapse()
    for (const v of VALIDATORS) expect(asked.get(v)).toEqual([])
    expect(defense.held()).toBe(3)

    // The client disputes (freezing the three notes) and sends nobody anything.
    await w.op({ type: "dispute", job, by: "client" })
    await w.elapse()
    for (const v of VALIDATORS) {
      expect(asked.get(v)!.sort(), v).toEqual(evidence.map((x) => x.note))
      // Not yet: a fraud proof (the client's referee's bisection) would settle it without every validator re-executing the stage.
      expect(resolves.get(v), v).toEqual([])
    }
    w.clock.ahead += 10_000
    await w.elapse()
    for (const v of VALIDATORS) {
      expect(resolves.get(v), v).toEqual([job])
      // The evidence was not sent again (kept by all, resendMs not over).
      expect(asked.get(v), v).toHaveLength(3)
    }
    defense.stop()
  })

  it("the evidence sent is what the note's word binds, as a referee checks it, sent to keep", async () => {
    const w = world()
    const got: Array<ReturnType<typeof decodeVerifyRequest>> = []
    Effect.runSync(w.bus.port("v0").subscribe(LM_VERIFY_TOPIC, (m) => void got.push(decodeVerifyRequest(m.data))))
    const defense = startStageDefense(w.ctxOf("server"), { account: "server", from: 0, to: 1, backend: "cpu", referees: () => ["v0"] })
    const { job, evidence } = await deliveredJob(w, 2)
    for (const { note, e } of evidence) defense.keep(job, note, e)
    await w.op({ type: "dispute", job, by: "client" })
    await w.elapse()
    expect(got).toHaveLength(2)
    const notes = w.economy.job(job)!.notes
    for (const r of got) {
      const q = Result.getOrThrow(r)
      expect(lmEvidenceWord(q.inputs.map(inputRows), q.leaves.map(fromHex), "cpu")).toBe(notes.find((n) => n.id === q.note)!.resultHash.toLowerCase())
      expect(q.inputs.length - q.first).toBe(2)
      expect(q.defer).toBe(true)
    }
    defense.stop()
  })

  it("a validator that does not answer about every frozen note is not asked to resolve; the evidence is sent again after resendMs", async () => {
    const w = world()
    const { asked, resolves } = validators(w, undefined)
    const defense = startStageDefense(w.ctxOf("server"), { account: "server", from: 0, to: 1, backend: "cpu", referees: () => VALIDATORS, resendMs: 10_000, resolveAfterMs: 0 })
    const { job, evidence } = await deliveredJob(w, 2)
    for (const { note, e } of evidence) defense.keep(job, note, e)
    await w.op({ type: "dispute", job, by: "client" })
    await w.elapse()
    for (const v of VALIDATORS) {
      expect(asked.get(v)).toHaveLength(2)
      expect(resolves.get(v)).toEqual([])
    }
    // Within resendMs: nothing again. After it (the dispute still open): the evidence again.
    await w.elapse()
    expect(asked.get("v0")).toHaveLength(2)
    w.clock.ahead += 10_000
    await w.elapse()
    expect(asked.get("v0")).toHaveLength(4)
    defense.stop()
  })

  it("evidence is dropped once its note is paid, and at most maxNotes are held", async () => {
    const w = world()
    const defense = startStageDefense(w.ctxOf("server"), { account: "server", from: 0, to: 1, backend: "cpu", referees: () => VALIDATORS, maxNotes: 2 })
    const { job, evidence } = await deliveredJob(w, 3)
    for (const { note, e } of evidence) defense.keep(job, note, e)
    expect(defense.held()).toBe(2)
    expect(w.events.filter((e) => e.kind === "lm.stage.evidence-dropped")).toHaveLength(1)
    await w.op({ type: "confirm", job, by: "client" })
    await w.elapse()
    expect(defense.held()).toBe(0)
    defense.stop()
  })
})

describe("lm referee: who may send evidence, and backends", () => {
  /** A referee on `backend` that never loads a stage (the binding checks come first); its answers to `asker`. */
  const referee = (w: ReturnType<typeof world>, backend: string, asker: string) => {
    const answers: VerifiedReply[] = []
    Effect.runSync(w.bus.port(asker).subscribe(LM_VERIFIED_TOPIC, (m) => void answers.push(Result.getOrThrow(decodeVerifiedReply(m.data)))))
    const r = startLmReferee(w.ctxOf("v0"), { backend, loadStage: () => { throw new Error("no stage in this test") } })
    return { answers, r }
  }
  const ask = (w: ReturnType<typeof world>, from: string, job: number, note: number, e: NoteEvidence) =>
    Effect.runSync(w.bus.port(from).send("v0", LM_VERIFY_TOPIC, encodeVerifyRequest({
      v: 1, t: "verify", nonce: 5, job, note, from: 0, to: 1, first: e.first, input: "activations", dim: DIM, inputs: e.inputs, leaves: e.leaves,
    })))

  it("a note bound to another backend is `unable`, never judged; one bound to none `unbound`", async () => {
    const w = world()
    const { answers, r } = referee(w, "wasm", "client")
    const { job, evidence } = await deliveredJob(w, 1)
    ask(w, "client", job, evidence[0]!.note, evidence[0]!.e)
    await w.elapse()
    expect(answers.map((a) => a.outcome)).toEqual(["unable"])
    expect(answers[0]!.reason).toMatch(/computed on the cpu backend, this referee runs wasm/)
    ask(w, "client", job, evidence[0]!.note, { ...evidence[0]!.e, leaves: [...evidence[0]!.e.leaves.slice(0, -1), toHex(new Uint8Array(32))] })
    await w.elapse()
    expect(answers.map((a) => a.outcome)).toEqual(["unable", "unbound"])
    expect(r.reexecutions()).toEqual([])
    r.stop()
  })

  it("the job's provider may send evidence (answered); a stranger may not (ignored)", async () => {
    const w = world()
    const toServer = referee(w, "wasm", "server")
    const toStranger: VerifiedReply[] = []
    Effect.runSync(w.bus.port("stranger").subscribe(LM_VERIFIED_TOPIC, (m) => void toStranger.push(Result.getOrThrow(decodeVerifiedReply(m.data)))))
    const { job, evidence } = await deliveredJob(w, 1)
    ask(w, "server", job, evidence[0]!.note, evidence[0]!.e)
    ask(w, "stranger", job, evidence[0]!.note, evidence[0]!.e)
    await w.elapse()
    expect(toServer.answers.map((a) => a.outcome)).toEqual(["unable"])
    expect(toStranger).toEqual([])
    toServer.r.stop()
  })
})

describe("lm referees drawn", () => {
  it("only the active validators announcing the backend's referee; all of them when none does", async () => {
    const w = world()
    const find = lmRefereeFinder(w.ctxOf("client"))
    expect(await find("cpu")).toEqual(VALIDATORS)
    w.bus.provided.push({ peer: "v1", addrs: [], record: { pricePerUnit: 0n, capacity: 1, queue: 0 } }, { peer: "stranger", addrs: [], record: { pricePerUnit: 0n, capacity: 1, queue: 0 } })
    expect(await find("cpu")).toEqual(["v1"])
    expect(lmRefereeKey("cpu")).toBe("lm/referee/cpu")
  })
})

