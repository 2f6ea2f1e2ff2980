/**
 * Verification of paid pipeline inference on 127.0.0.1 (issue 14, item 6): two stage servers (blocks
 * 0-1 and 2-3) paid per token, a committee of three validators of equal power (no one, nor two, reach
 * the quorum of ⌊2·total/3⌋ + 1 alone), each running the market's referee with the lm referee (its
 * traces as the layered work: disputes of lm stages are bisected), and a client that has every note
 * checked (rate 1). The 0-1 server returns wrong activations from its second block (a test-only flag,
 * the simulator's `wrong-stage`) and commits to them in its notes' traces: the drawn referee
 * re-executes blocks 0-1 only on the inputs the client recorded and finds the note wrong; the client
 * disputes and gives the other validators the note's evidence to keep; the drawn referee bisects the
 * note against the stage server (trace queries over the network) to its first wrong block — block 1,
 * the stage's layer 2 — and publishes the fraud proof with its signature; each other validator checks
 * the proof by running that ONE block and signs; the committee's verdict slashes the server's bond and
 * compensates the client, and the job's escrow comes back at its deadline. The honest 2-3 server is
 * checked too, found right every time, never disputed, and paid. The generation running through the
 * refuted server starts again from the prompt on a route through a spare 0-1 server (started once the
 * first route is chosen) and ends with the whole model's tokens.
 *
 * Then a client that lies: it disputes the honest 2-3 stage's job with every note pending and sends
 * no evidence. The stage's server sends the evidence of every frozen note to every validator to keep
 * (defense.ts) and, no fraud proof having come, asks them to resolve; each re-executes them all and
 * signs "provider right"; the notes are paid, nothing is slashed, and the false disputer pays exactly
 * what it owed (the ledger takes nothing more from it).
 */
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { makeFiberRunner, wallClock, wallNow } from "../../adapters/clock.ts"
import { makeKeysFromPrivateKey } from "../../adapters/keys.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "../../adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../../adapters/random.ts"
import { DEFAULT_CHECKPOINT_DIR } from "../../adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../../adapters/tfjs/lm/generate.ts"
import { activeLmBackend, loadPipelineStage } from "../../adapters/tfjs/lm/pipeline-stage.ts"
import { ledgerAtGenesis } from "../../core/app/ledger-genesis.ts"
import type { Economy } from "../../core/econ/index.ts"
import type { LmConfig } from "../../core/lm/config.ts"
import { encodeVerifyRequest, LM_VERIFY_TOPIC, type LmInput } from "../../core/lm/wire.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { makeMemoryChain } from "../../services/memory-chain.ts"
import type { MarketContext } from "../market/context.ts"
import { startReferee, type RefereeActor } from "../market/referee.ts"
import { generateThroughPipeline } from "./client.ts"
import { lmContext } from "./context.ts"
import { lmJobKind, parseLmJobKind } from "./paid.ts"
import { makeLmPayer } from "./payment.ts"
import { startLmReferee, type LmReferee } from "./referee.ts"
import { startStageServer, type StageServer } from "./stage-server.ts"
import { PAID_PARAMS, wholeModelTokens } from "./testkit.ts"

const N = 20
const context = promptTokens("The ")
const MILLI = TOKEN / 1000n
const PRICE = 2n * MILLI
const CAP = 5n * MILLI
const BOND = 200n * TOKEN
let config: LmConfig
let h: Libp2pHarness
let economy: Economy
let ctxs: MarketContext[]
let servers: StageServer[] = []
/** The committee: validator i is network node 3 + i; node 3 + V is a spare honest 0-1 server, started during the first test. */
const V = 3
const SPARE = 3 + V
let wholeTokens: number[]
const referees: RefereeActor[] = []
const lmReferees: LmReferee[] = []
const stages: Array<ReturnType<typeof loadPipelineStage>> = []
const runners: Array<ReturnType<typeof makeFiberRunner>> = []
/** Block ranges the referees loaded (each re-execution runs one stage's blocks). */
const loaded: Array<readonly [number, number]> = []
const events: Array<{ readonly node: number; readonly kind: string; readonly data: Record<string, unknown> }> = []

beforeAll(async () => {
  const whole = await wholeModelTokens(DEFAULT_CHECKPOINT_DIR, context, N)
  config = whole.config
  wholeTokens = whole.tokens
  h = await startLibp2pNetworks(3 + V + 1)
  const [client, s0, s1, ...rest] = h.networks.map((n) => n.self) as [string, string, string, ...string[]]
  const validators = rest.slice(0, V)
  const spare = rest[V]!
  const keys = validators.map((_, i) => Effect.runSync(makeKeysFromPrivateKey(new Uint8Array(32).fill(7 + i))))
  // A validator's operator is its peer id (the client asks referees by the operators the ledger lists); its signing key signs verdicts.
  economy = Result.getOrThrow(ledgerAtGenesis({
    // The default 60 s dispute window (PAID_PARAMS' 5 s would let the wrong stage settle its first note itself when a loaded machine's re-execution takes longer).
    chainId: 7, time: Date.now() - 1_000, params: { ...PAID_PARAMS, "market.disputeWindow": 60_000 },
    validators: validators.map((operator, i) => ({ operator, address: keys[i]!.address, amount: 10_000n * TOKEN, tier: 0, commission: 0n })),
    allocations: [...validators.map((address) => ({ address, amount: 20_000n * TOKEN })), ...[client, s0, s1, spare].map((address) => ({ address, amount: 1_000n * TOKEN })),
      { address: "rest", amount: TOTAL_SUPPLY - BigInt(20_000 * V + 4_000) * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => Math.max(Date.now(), economy.now), undefined, { consensusChainId: 7 })
  ctxs = h.networks.map((network, i) => {
    const runner = makeFiberRunner()
    runners.push(runner)
    const base = lmContext({ name: `n${i}`, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network, emit: (kind, data) => void events.push({ node: i, kind, data }) })
    return { ...base, ledger, params: () => economy.params }
  })
  Effect.runSync(Effect.orDie(ledger.marketOp({ type: "registerProvider", provider: spare, bond: BOND, kinds: [lmJobKind(0, 1)], pricePerUnit: PRICE, capacity: 4 })))
  servers = ([[0, 1], [2, 3]] as const).map(([from, to], i) => {
    const ctx = ctxs[i + 1]!
    Effect.runSync(Effect.orDie(ledger.marketOp({ type: "registerProvider", provider: ctx.network.self, bond: BOND, kinds: [lmJobKind(from, to)], pricePerUnit: PRICE, capacity: 4 })))
    const stage = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
    stages.push(stage)
    // The wrong 0-1 server defends with the defaults (its disputes are settled by the fraud proof first); the honest 2-3 one,
    // disputed with no proof to wait for in the second test, asks the validators to resolve 5 s after it sees the dispute, not 30 s.
    return startStageServer(ctx, { stage, pricePerUnit: PRICE, market: { ctx, account: ctx.network.self, chunk: 8 }, wrongOutputs: i === 0, ...(i === 1 ? { defense: { resolveAfterMs: 5_000 } } : {}) })
  })
  validators.forEach((validator, i) => {
    const ctx = ctxs[3 + i]!
    const lm = startLmReferee(ctx, {
      loadStage: (from, to) => {
        loaded.push([from, to])
        return loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
      },
      // The stages compute on this process's backend: the referees judge on the same one (core/lm/backend.ts).
      backend: activeLmBackend(),
    })
    lmReferees.push(lm)
    const isLm = (k: string) => parseLmJobKind(k) !== undefined
    referees.push(startReferee(ctx, { account: validator, reexecute: lm.reexecute, keys: keys[i]!, trace: lm.trace, bisects: isLm, wholeWhenSilent: isLm }))
  })
  await vi.waitFor(async () => {
    for (const key of ["lm/blocks/0-1", "lm/blocks/2-3"]) expect(await Effect.runPromise(Effect.orElseSucceed(ctxs[0]!.network.findProviders(key), () => []))).not.toEqual([])
  }, { timeout: 30_000, interval: 200 })
}, 120_000)

afterAll(async () => {
  servers.forEach((s) => s.stop())
  stages.forEach((s) => s.dispose())
  referees.forEach((r) => r.stop())
  lmReferees.forEach((r) => r.stop())
  for (const r of runners) await Effect.runPromise(r.interruptAll)
  await h?.close()
})

const found = async (key: string, peer: string) =>
  (await Effect.runPromise(Effect.orElseSucceed(ctxs[0]!.network.findProviders(key), () => []))).some((p) => p.peer === peer)

/** Start the spare honest 0-1 server (node SPARE). */
const startSpare = () => {
  const ctx = ctxs[SPARE]!
  const stage = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, 0, 1)
  stages.push(stage)
  servers.push(startStageServer(ctx, { stage, pricePerUnit: PRICE, market: { ctx, account: ctx.network.self, chunk: 8 } }))
}

describe("verification of paid pipeline inference, on libp2p loopback", () => {
  it("a stage returning wrong activations is found by re-executing that stage only, bisected to its wrong block, slashed by a committee verdict whose co-signers re-executed that one block, and the client compensated and refunded; the generation restarts without it; the honest stage is never disputed", async () => {
    const client = ctxs[0]!.network.self
    const [wrongPeer, honestPeer, sparePeer] = [h.networks[1]!.self, h.networks[2]!.self, h.networks[SPARE]!.self]
    const balance = economy.balanceOf(client)
    const payer = makeLmPayer(ctxs[0]!, { account: client, maxPricePerToken: CAP, pollMs: 300, deadlineMs: 20_000, verify: { rate: 1, timeoutMs: 20_000 } })
    const restarts: Array<{ refuted: string; discarded: number }> = []
    let streamed = 0
    try {
      const r = await Effect.runPromise(generateThroughPipeline(ctxs[0]!, {
        blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context, maxTokens: N, timeoutMs: 30_000, payment: payer,
        // The route is chosen: a spare 0-1 server comes up (never on the first route, so the wrong one is).
        onEvent: (e) => {
          if (e.kind === "route") startSpare()
          if (e.kind === "restart") restarts.push({ refuted: e.refuted, discarded: e.discarded })
        },
        // A slow consumer: before the restart every token waits until the spare is found, and the 10th until the wrong stage's note is refuted.
        onToken: async () => {
          if (restarts.length > 0) return
          streamed++
          await vi.waitFor(async () => expect(await found("lm/blocks/0-1", sparePeer)).toBe(true), { timeout: 30_000, interval: 200 })
          if (streamed === 10) await vi.waitFor(() => expect(payer.refuted().has(wrongPeer)).toBe(true), { timeout: 60_000, interval: 200 })
        },
      }))
      // The refuted stage was left: the generation began again from the prompt through the spare, and its text is the whole model's.
      expect(r.restarts).toBe(1)
      expect(restarts).toHaveLength(1)
      expect(restarts[0]!.refuted).toBe(wrongPeer)
      expect(restarts[0]!.discarded).toBeGreaterThan(0)
      expect(r.tokens).toEqual(wholeTokens)
      expect(r.route.map((s) => s.peer)).toEqual([sparePeer, honestPeer])
      const summary = await payer.finish()
      const jobs = summary.jobs.map((s) => ({ job: s.job, peer: s.peer }))
      const wrongJob = jobs.find((j) => j.peer === wrongPeer)!.job
      expect(jobs.filter((j) => j.peer === wrongPeer)).toHaveLength(1)
      const [honestJob, honestAgain] = jobs.filter((j) => j.peer === honestPeer).map((j) => j.job) as [number, number]
      const spareJob = jobs.find((j) => j.peer === sparePeer)!.job

      // The committee's verdict: the wrong stage's notes refuted, its bond slashed, the client compensated, the job reopened.
      const story = () => JSON.stringify(events.filter((e) => /^(lm\.verify|lm\.disputed|lm\.referee|lm\.stage\.bisection|market\.)/.test(e.kind)).map((e) => [e.node, e.kind, e.data]))
      // (On a loaded machine the verdict may come after the job's deadline, and the escrow back at once: open, then expired.)
      await vi.waitFor(() => expect(events.some((e) => e.kind === "market.resolved" && e.data["job"] === wrongJob), story()).toBe(true), { timeout: 45_000, interval: 200 })
      expect(["open", "expired"]).toContain(economy.job(wrongJob)!.state)
      const wj = economy.job(wrongJob)!
      expect(wj.notes.length).toBeGreaterThan(0)
      // (The states and the client's verification events, should a note not be refuted.)
      expect(wj.notes.map((n) => n.state), JSON.stringify(events.filter((e) => e.kind.startsWith("lm.verify") || e.kind === "lm.disputed").map((e) => [e.node, e.kind, e.data]))).toEqual(wj.notes.map(() => "refuted"))
      expect(wj.paidUnits).toBe(0n)
      expect(wj.compensation).toBeGreaterThan(0n)
      expect(economy.provider(wrongPeer)!.bond).toBeLessThan(BOND)
      // One verdict on the ledger, signed by validators holding ≥ 2/3 of the power: here every one of the three (two are short).
      expect(referees.reduce((n, x) => n + x.stats().verdicts, 0)).toBe(1)
      const resolved = events.filter((e) => e.kind === "market.resolved" && e.data["job"] === wrongJob)
      expect(resolved).toHaveLength(1)
      expect(resolved[0]!.data["providerRight"]).toBe(false)
      expect(resolved[0]!.data["signers"]).toBeGreaterThanOrEqual(2)
      // None signed "provider right"; all three signed "provider wrong" (the quorum of three equal validators is three).
      const signed = events.filter((e) => e.kind === "market.verdict.signed" && e.data["job"] === wrongJob)
      expect(signed.every((e) => e.data["providerRight"] === false)).toBe(true)
      const signers = [...new Set(signed.map((e) => e.node))]
      expect(signers.length).toBeGreaterThanOrEqual(2)
      // The drawn referee re-executed the whole stage (blocks 0-1) on the client's evidence, found the note wrong, and bisected it
      // against the stage server to the first wrong block: layer 2 of the stage, block 1 (the server corrupts its second block's output).
      const disputed = events.find((e) => e.kind === "lm.disputed" && e.data["job"] === wrongJob)!
      const finder = h.networks.findIndex((n) => n.self === disputed.data["referee"])
      expect(finder).toBeGreaterThanOrEqual(3)
      expect(lmReferees[finder - 3]!.reexecutions().filter((x) => x.job === wrongJob)).toEqual([expect.objectContaining({ from: 0, to: 1, outcome: "wrong" })])
      const bisected = events.filter((e) => e.kind === "market.bisection" && e.data["job"] === wrongJob)
      expect(bisected.length).toBeGreaterThanOrEqual(1)
      for (const b of bisected) expect(b.data).toMatchObject({ provider: wrongPeer, outcome: "wrong", layer: 2, proof: true })
      expect(events.some((e) => e.node === 1 && e.kind === "lm.stage.bisection" && e.data["job"] === wrongJob)).toBe(true)
      // Every other signer accepted the fraud proof by running that one block (block 1) alone — not the stage, nor its own trace.
      const coSigners = signers.filter((n) => n !== finder)
      expect(coSigners.length).toBeGreaterThanOrEqual(1)
      for (const node of coSigners) {
        expect(events.some((e) => e.node === node && e.kind === "market.verdict.proof" && e.data["job"] === wrongJob && e.data["accepted"] === true && e.data["layer"] === 2)).toBe(true)
        expect(events.some((e) => e.node === node && e.kind === "market.referee.judged" && e.data["job"] === wrongJob && e.data["proof"] === true && e.data["reexecuted"] === 1)).toBe(true)
        expect(lmReferees[node - 3]!.blockRuns().filter((x) => x.job === wrongJob)).toEqual([{ job: wrongJob, block: 1 }])
        expect(lmReferees[node - 3]!.reexecutions().filter((x) => x.job === wrongJob)).toEqual([])
      }

      // The referees re-executed one stage's blocks each time, never the whole model: the refuting one ran blocks 0-1 only.
      const runs = lmReferees.flatMap((x) => x.reexecutions())
      expect(runs.filter((x) => x.job === wrongJob).every((r) => r.from === 0 && r.to === 1 && r.outcome === "wrong")).toBe(true)
      expect(runs.every((x) => x.to - x.from + 1 < config.blocks)).toBe(true)
      expect(loaded.every(([from, to]) => to - from + 1 < config.blocks)).toBe(true)
      expect(loaded.filter(([from]) => from === 0).every(([, to]) => to === 1)).toBe(true)

      // The honest stages (2-3 on both routes, the spare 0-1): every note checked and found right, never disputed, paid.
      const honestRuns = runs.filter((x) => x.job !== wrongJob)
      expect(honestRuns.length).toBeGreaterThan(0)
      expect(honestRuns.every((x) => x.outcome === "right")).toBe(true)
      for (const job of [honestJob, honestAgain, spareJob]) expect(economy.job(job)!.notes.every((n) => n.state === "paid"), `job ${job}`).toBe(true)
      for (const job of [honestAgain, spareJob]) {
        expect(economy.job(job)!.state).toBe("settled")
        expect(economy.job(job)!.paidUnits).toBe(BigInt(N))
      }
      expect(economy.provider(honestPeer)!.bond).toBe(BOND)
      expect(economy.provider(sparePeer)!.bond).toBe(BOND)
      expect(events.filter((e) => e.kind === "lm.disputed").map((e) => e.data["job"])).toEqual([wrongJob])

      // A client cannot have an honest stage judged on inputs it did not send: evidence the note does not commit to is `unbound`, nothing re-executed.
      const hj = economy.job(honestAgain)!
      const note = hj.notes[0]!
      const units = Number(note.units)
      const made: LmInput[] = Array.from({ length: units }, (_, i) => ({ start: i === 0 ? 0 : i + 3, length: i === 0 ? 4 : 1, dim: config.dim, input: "activations", data: new Float32Array((i === 0 ? 4 : 1) * config.dim).fill(0.25) }))
      const before = lmReferees[0]!.reexecutions().length
      await Effect.runPromise(ctxs[0]!.network.send(h.networks[3]!.self, LM_VERIFY_TOPIC, encodeVerifyRequest({
        v: 1, t: "verify", nonce: 999, job: honestAgain, note: note.id, from: 2, to: 3, first: 0, input: "activations", dim: config.dim, inputs: made, leaves: [`0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`],
      })))
      await vi.waitFor(() => expect(events.some((e) => e.kind === "lm.referee.verified" && e.data["job"] === honestAgain && e.data["outcome"] === "unbound")).toBe(true), { timeout: 10_000, interval: 100 })
      expect(lmReferees[0]!.reexecutions().length).toBe(before)
      expect(economy.job(honestAgain)!.notes.every((n) => n.state === "paid")).toBe(true)

      // The escrow of the abandoned jobs comes back at their deadline: the client paid only the honest stages' tokens, and got the compensation.
      for (const job of [wrongJob, honestJob]) await vi.waitFor(() => expect(economy.job(job)!.state).toBe("expired"), { timeout: 40_000, interval: 250 })
      expect(economy.job(wrongJob)!.returned).toBe(economy.job(wrongJob)!.budget)
      const paid = jobs.reduce((n, j) => n + economy.job(j.job)!.paidUnits * PRICE, 0n)
      expect(economy.balanceOf(client)).toBe(balance - paid + wj.compensation)
    } finally {
      payer.stop()
    }
  }, 150_000)

  it("a client that disputes an honest stage sends no evidence: the stage's server sends every frozen note's, the committee signs provider right, its notes are paid, nothing is slashed", async () => {
    const client = ctxs[0]!.network.self
    const [wrongPeer, honestPeer] = [h.networks[1]!.self, h.networks[2]!.self]
    const balance = economy.balanceOf(client)
    const bond = economy.provider(honestPeer)!.bond
    // No verification and no confirming while it runs: every note stays pending, as a lying client keeps them.
    const payer = makeLmPayer(ctxs[0]!, { account: client, maxPricePerToken: CAP, pollMs: 600_000, deadlineMs: 60_000 })
    try {
      // Another prompt than the first test's: no validator has judged these notes' words before.
      await Effect.runPromise(generateThroughPipeline(ctxs[0]!, {
        blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context: promptTokens("Q: Why"), maxTokens: N, timeoutMs: 30_000, payment: payer, exclude: new Set([wrongPeer]),
      }))
      const honest = payer.jobs().find((s) => s.peer === honestPeer)!.job
      await vi.waitFor(() => expect(economy.job(honest)!.delivered).toBe(BigInt(N)), { timeout: 20_000, interval: 200 })
      const frozen = economy.job(honest)!.notes.map((n) => n.id)
      expect(frozen.length).toBeGreaterThan(1)
      // The lie: a dispute of every pending note, no evidence sent to anyone.
      await Effect.runPromise(ctxs[0]!.ledger.marketOp({ type: "dispute", job: honest, by: client }))
      expect(economy.job(honest)!.state).toBe("disputed")

      // The committee's verdict: provider right, every frozen note paid.
      await vi.waitFor(() => expect(economy.job(honest)!.notes.every((n) => n.state === "paid")).toBe(true), { timeout: 60_000, interval: 250 })
      const resolved = events.filter((e) => e.kind === "market.resolved" && e.data["job"] === honest)
      expect(resolved).toHaveLength(1)
      expect(resolved[0]!.data["providerRight"]).toBe(true)
      expect(resolved[0]!.data["signers"]).toBeGreaterThanOrEqual(2)
      const signed = events.filter((e) => e.kind === "market.verdict.signed" && e.data["job"] === honest)
      expect(signed.every((e) => e.data["providerRight"] === true)).toBe(true)
      // Each signer re-executed every frozen note itself (when asked to resolve, from the evidence the stage's server sent it to keep), and holds the note's word from it.
      const notes = economy.job(honest)!.notes
      for (const node of new Set(signed.map((e) => e.node))) {
        expect(new Set(lmReferees[node - 3]!.reexecutions().filter((x) => x.job === honest).map((x) => x.note))).toEqual(new Set(frozen))
        for (const n of notes) expect(lmReferees[node - 3]!.reexecute({ job: honest, kind: lmJobKind(2, 3), from: 0, units: Number(n.units) }, n.resultHash)).toBe(n.resultHash.toLowerCase())
      }
      expect(lmReferees.flatMap((x) => x.reexecutions()).filter((x) => x.job === honest).every((x) => x.outcome === "right" && x.from === 2 && x.to === 3)).toBe(true)
      // The evidence of every frozen note came from the stage's server, and validators kept it.
      const defended = events.filter((e) => e.kind === "lm.stage.defended" && e.node === 2 && e.data["job"] === honest && e.data["outcome"] === "kept")
      expect(new Set(defended.map((e) => e.data["note"]))).toEqual(new Set(frozen))
      // Nothing slashed: the bond is whole, no compensation went to the disputer.
      expect(economy.provider(honestPeer)!.bond).toBe(bond)
      expect(economy.job(honest)!.compensation).toBe(0n)
      expect(economy.job(honest)!.paidUnits).toBe(BigInt(N))

      // The other stage is paid as usual; the false disputer paid exactly the tokens it got, the ledger takes nothing more from it.
      const summary = await payer.finish()
      for (const s of summary.jobs) await vi.waitFor(() => expect(economy.job(s.job)!.state).toBe("settled"), { timeout: 20_000, interval: 250 })
      expect(economy.balanceOf(client)).toBe(balance - 2n * BigInt(N) * PRICE)
    } finally {
      payer.stop()
    }
  }, 150_000)
})
