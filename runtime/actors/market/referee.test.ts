/**
 * The market referee's side of a committee verdict (referee.ts, verdicts.ts) when a validator cannot
 * judge: a validator whose `reexecute` gives nothing for a disputed note (it holds no model, or no
 * evidence of an lm stage's note) signs nothing — neither on a `resolve` nor on hearing another
 * validator's signature — and once it can re-execute (the evidence arrived), the re-sent signature
 * makes it judge, sign and join the verdict, which then reaches the quorum. A provider silent in the
 * bisection of a kind judged whole when silent (an lm stage) is judged by the whole re-execution, never
 * refuted for the silence alone. Three validators of equal
 * power (the quorum, ⌊2·total/3⌋ + 1, needs all three), an in-process bus, the in-memory Chain port, a hand-fired clock.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { makeKeysFromPrivateKey } from "../../adapters/keys.ts"
import { ledgerAtGenesis } from "../../core/app/ledger-genesis.ts"
import type { Economy } from "../../core/econ/index.ts"
import { makeTrace } from "../../core/market/bisection.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { makeMemoryChain } from "../../services/memory-chain.ts"
import { PAID_PARAMS } from "../lm/testkit.ts"
import { inProcessBus } from "../test-bus.ts"
import type { MarketContext } from "./context.ts"
import { startReferee } from "./referee.ts"
import { encodeMarketMessage, MARKET_TOPIC } from "./wire.ts"
import type { Reexecute, TraceWork } from "./work.ts"

const KIND = "infer:lm/0-1"
const DELIVERED = `0x${"aa".repeat(32)}`
const HONEST = `0x${"bb".repeat(32)}`

const world = () => {
  const { port } = inProcessBus()
  const keys = [1, 2, 3].map((b) => Effect.runSync(makeKeysFromPrivateKey(new Uint8Array(32).fill(b))))
  const economy: Economy = Result.getOrThrow(ledgerAtGenesis({
    chainId: 7, time: 1_000, params: PAID_PARAMS,
    validators: keys.map((k, i) => ({ operator: `v${i}`, address: k.address, amount: 10_000n * TOKEN, tier: 0, commission: 0n })),
    allocations: [...keys.map((_, i) => ({ address: `v${i}`, amount: 20_000n * TOKEN })), { address: "client", amount: 1_000n * TOKEN }, { address: "server", amount: 1_000n * TOKEN },
      { address: "rest", amount: TOTAL_SUPPLY - 62_000n * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => economy.now + 1, undefined, { consensusChainId: 7 })
  const timers = new Map<number, () => void>()
  let nextTimer = 0
  const events: Array<{ node: string; kind: string; data: Record<string, unknown> }> = []
  const ctxOf = (name: string): MarketContext => ({
    name, network: port(name), ledger, params: () => economy.params,
    clock: { setTimeout: (f: () => void) => (timers.set(++nextTimer, f), nextTimer), clearTimeout: (t: number) => void timers.delete(t) } as MarketContext["clock"],
    now: () => economy.now,
    run: (e) => void Effect.runFork(e),
    random: { bytes: (n: number) => new Uint8Array(n) } as MarketContext["random"],
    emit: (kind, data) => void events.push({ node: name, kind, data }),
    fault: () => undefined,
  })
  const op = (o: Parameters<typeof ledger.marketOp>[0]) => Effect.runPromise(ledger.marketOp(o))
  /** Let the effects and messages in flight run (no time passes). */
  const settle = async () => {
    for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  /** Fire every timer set so far (the verdict signatures' re-send), then let it run. */
  const elapse = async () => {
    const due = [...timers.values()]
    timers.clear()
    for (const f of due) f()
    await settle()
  }
  return { economy, ledger, keys, ctxOf, op, settle, elapse, events }
}

/** A job of `KIND` with `notes` delivered notes of 2 units each, disputed by its requester (every note frozen). */
const disputedJob = async (w: ReturnType<typeof world>, notes = 1) => {
  await w.op({ type: "registerProvider", provider: "server", bond: 200n * TOKEN, kinds: [KIND], pricePerUnit: 1_000n, capacity: 4 })
  const { job } = (await w.op({ type: "postJob", requester: "client", kind: KIND, units: 8n, maxPricePerUnit: 2_000n, deadline: w.economy.now + 60_000 })) as { job: number }
  await w.op({ type: "assignJob", job, provider: "server", by: "client" })
  for (let i = 0; i < notes; i++) await w.op({ type: "deliver", job, provider: "server", units: 2n, resultHash: DELIVERED })
  await w.op({ type: "dispute", job, by: "client" })
  expect(w.economy.job(job)!.state).toBe("disputed")
  expect(w.economy.job(job)!.notes.filter((n) => n.state === "disputed")).toHaveLength(notes)
  return job
}

describe("market referee: a validator that cannot judge a dispute", () => {
  it("signs nothing (on a resolve or on another's signature), and joins the verdict once it has re-executed", async () => {
    const w = world()
    const job = await disputedJob(w)
    // v0 and v2 re-executed the note (the honest word differs from the delivered one); v1 has no evidence yet.
    // The quorum is ⌊2·total/3⌋ + 1: with three equal powers, all three signatures.
    let v1Knows = false
    const reexecutes: Reexecute[] = [() => HONEST, () => (v1Knows ? HONEST : undefined), () => HONEST]
    const referees = [0, 1, 2].map((i) => startReferee(w.ctxOf(`v${i}`), { account: `v${i}`, reexecute: reexecutes[i]!, keys: w.keys[i]! }))
    const asClient = w.ctxOf("client")
    const resolve = (to: string) => Effect.runSync(asClient.network.send(to, MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job })))

    // Asked to resolve without evidence: it judges nothing and signs nothing (before, it signed "provider right").
    resolve("v1")
    await w.settle()
    expect(referees[1]!.stats().signed).toBe(0)
    expect(w.events.some((e) => e.kind === "market.verdict.signed")).toBe(false)
    expect(w.events.some((e) => e.node === "v1" && e.kind === "market.referee.unable" && e.data["job"] === job)).toBe(true)

    // v0 judges, signs "provider wrong" and gossips it; v2 hears it, re-executes and co-signs; v1 still cannot judge and does not: short of quorum.
    resolve("v0")
    await w.settle()
    expect(referees[0]!.stats().signed).toBe(1)
    expect(referees[2]!.stats().signed).toBe(1)
    expect(referees[1]!.stats().signed).toBe(0)
    await w.elapse()
    expect(referees[1]!.stats().signed).toBe(0)
    expect(w.economy.job(job)!.state).toBe("disputed")
    expect(w.events.some((e) => e.kind === "market.verdict.signed" && e.data["providerRight"] === true)).toBe(false)

    // The evidence reaches v1 (its re-execution now gives a word): v0's re-sent signature makes it judge, sign, and the verdict passes with both.
    v1Knows = true
    for (let i = 0; i < 3 && w.economy.job(job)!.state === "disputed"; i++) await w.elapse()
    expect(referees[1]!.stats().signed).toBe(1)
    const j = w.economy.job(job)!
    expect(j.state).toBe("open")
    expect(j.notes.every((n) => n.state === "refuted")).toBe(true)
    const resolved = w.events.find((e) => e.kind === "market.resolved")
    expect(resolved?.data).toMatchObject({ job, providerRight: false, signers: 3 })
    expect(w.events.filter((e) => e.kind === "market.verdict.signed").every((e) => e.data["providerRight"] === false)).toBe(true)
    referees.forEach((r) => r.stop())
  })

  it("signs no \"provider right\" when it re-executed one frozen note (right) but not the other", async () => {
    const w = world()
    const job = await disputedJob(w, 2)
    // The first note's word reproduced, no word for the second (units 2..3).
    const r = startReferee(w.ctxOf("v0"), { account: "v0", reexecute: (t) => (t.from === 0 ? DELIVERED : undefined), keys: w.keys[0]! })
    Effect.runSync(w.ctxOf("client").network.send("v0", MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job })))
    await w.settle()
    expect(r.stats().signed).toBe(0)
    expect(w.events.some((e) => e.kind === "market.referee.unable" && e.data["job"] === job)).toBe(true)
    expect(w.economy.job(job)!.state).toBe("disputed")
    r.stop()
  })

  it("judges a kind it does not bisect by `reexecute` whole, though it has a layered work for others (a node's MNIST work beside the lm referee)", async () => {
    const w = world()
    const job = await disputedJob(w)
    // The layered work holds no trace of an lm stage: bisecting the note would leave this validator unable to judge it.
    const trace: TraceWork = { trace: () => undefined, layer: () => new Uint8Array(32), word: () => undefined, layers: () => undefined }
    const r = startReferee(w.ctxOf("v0"), { account: "v0", reexecute: () => HONEST, keys: w.keys[0]!, trace, bisects: (k) => k === "infer:mnist" })
    Effect.runSync(w.ctxOf("client").network.send("v0", MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job })))
    await w.settle()
    expect(r.stats().signed).toBe(1)
    expect(w.events.find((e) => e.kind === "market.verdict.signed")?.data).toMatchObject({ job, providerRight: false })
    r.stop()
  })

  it("a provider silent in the bisection of a kind `wholeWhenSilent` names (an lm stage) is judged by the whole re-execution: refuted only when that differs, never for the silence", async () => {
    // The referee's own trace differs from the delivered word (so it bisects); the provider ("server") never answers a query.
    const own = makeTrace([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])])
    const trace: TraceWork = { trace: () => ({ trace: own, word: HONEST }), layers: () => 2, layer: () => new Uint8Array(32), word: () => HONEST }
    for (const [whole, providerRight] of [[HONEST, false], [DELIVERED, true], [undefined, undefined]] as const) {
      const w = world()
      const job = await disputedJob(w)
      const r = startReferee(w.ctxOf("v0"), { account: "v0", reexecute: () => whole, keys: w.keys[0]!, trace, bisects: () => true, wholeWhenSilent: (k) => k === KIND })
      Effect.runSync(w.ctxOf("client").network.send("v0", MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job })))
      await w.settle()
      expect(r.stats().signed).toBe(0)
      // The bisection's bound passes with no answer: silent.
      await w.elapse()
      expect(w.events.find((e) => e.kind === "market.bisection")?.data).toMatchObject({ job, outcome: "silent" })
      expect(w.events.find((e) => e.kind === "market.referee.silent-whole")?.data).toMatchObject({ job, ...(providerRight === undefined ? {} : { providerRight }) })
      if (providerRight === undefined) expect(r.stats().signed, "cannot re-execute: signs nothing").toBe(0)
      else expect(w.events.find((e) => e.kind === "market.verdict.signed")?.data).toMatchObject({ job, providerRight })
      r.stop()
    }
    // Without `wholeWhenSilent` (the MNIST work), silence refutes the provider.
    const w = world()
    const job = await disputedJob(w)
    const r = startReferee(w.ctxOf("v0"), { account: "v0", reexecute: () => DELIVERED, keys: w.keys[0]!, trace, bisects: () => true })
    Effect.runSync(w.ctxOf("client").network.send("v0", MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job })))
    await w.settle()
    await w.elapse()
    expect(w.events.find((e) => e.kind === "market.verdict.signed")?.data).toMatchObject({ job, providerRight: false })
    r.stop()
  })

  it("signs \"provider right\" when it re-executed every frozen note and each reproduced the delivered word", async () => {
    const w = world()
    const job = await disputedJob(w, 2)
    const r = startReferee(w.ctxOf("v0"), { account: "v0", reexecute: () => DELIVERED, keys: w.keys[0]! })
    Effect.runSync(w.ctxOf("client").network.send("v0", MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job })))
    await w.settle()
    expect(r.stats().signed).toBe(1)
    expect(w.events.find((e) => e.kind === "market.verdict.signed")?.data).toMatchObject({ job, providerRight: true })
    r.stop()
  })
})
