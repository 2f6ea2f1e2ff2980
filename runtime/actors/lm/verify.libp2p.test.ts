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
 * checked too, found right every time, never disputed, and paid.
 */
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { makeFiberRunner, wallClock, wallNow } from "../../adapters/clock.ts"
import { makeKeysFromPrivateKey } from "../../adapters/keys.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "../../adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../../adapters/random.ts"
import { DEFAULT_CHECKPOINT_DIR } from "../../adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../../adapters/tfjs/lm/generate.ts"
import { loadPipelineStage } from "../../adapters/tfjs/lm/pipeline-stage.ts"
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
/** The committee: validator i is network node 3 + i. */
const V = 3
const referees: RefereeActor[] = []
const lmReferees: LmReferee[] = []
const stages: Array<ReturnType<typeof loadPipelineStage>> = []
const runners: Array<ReturnType<typeof makeFiberRunner>> = []
/** Block ranges the referees loaded (each re-execution runs one stage's blocks). */
const loaded: Array<readonly [number, number]> = []
const events: Array<{ readonly node: number; readonly kind: string; readonly data: Record<string, unknown> }> = []

beforeAll(async () => {
  config = (await wholeModelTokens(DEFAULT_CHECKPOINT_DIR, context, 1)).config
  h = await startLibp2pNetworks(3 + V)
  const [client, s0, s1, ...validators] = h.networks.map((n) => n.self) as [string, string, string, ...string[]]
  const keys = validators.map((_, i) => Effect.runSync(makeKeysFromPrivateKey(new Uint8Array(32).fill(7 + i))))
  // A validator's operator is its peer id (the client asks referees by the operators the ledger lists); its signing key signs verdicts.
  economy = Result.getOrThrow(ledgerAtGenesis({
    // The default 60 s dispute window (PAID_PARAMS' 5 s would let the wrong stage settle its first note itself when a loaded machine's re-execution takes longer).
    chainId: 7, time: Date.now() - 1_000, params: { ...PAID_PARAMS, "market.disputeWindow": 60_000 },
    validators: validators.map((operator, i) => ({ operator, address: keys[i]!.address, amount: 10_000n * TOKEN, tier: 0, commission: 0n })),
    allocations: [...validators.map((address) => ({ address, amount: 20_000n * TOKEN })), ...[client, s0, s1].map((address) => ({ address, amount: 1_000n * TOKEN })),
      { address: "rest", amount: TOTAL_SUPPLY - BigInt(20_000 * V + 3_000) * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => Math.max(Date.now(), economy.now), undefined, { consensusChainId: 7 })
  ctxs = h.networks.map((network, i) => {
    const runner = makeFiberRunner()
    runners.push(runner)
    const base = lmContext({ name: `n${i}`, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network, emit: (kind, data) => void events.push({ node: i, kind, data }) })
    return { ...base, ledger, params: () => economy.params }
  })
  servers = ([[0, 1], [2, 3]] as const).map(([from, to], i) => {
    const ctx = ctxs[i + 1]!
    Effect.runSync(Effect.orDie(ledger.marketOp({ type: "registerProvider", provider: ctx.network.self, bond: BOND, kinds: [lmJobKind(from, to)], pricePerUnit: PRICE, capacity: 4 })))
    const stage = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
    stages.push(stage)
    return startStageServer(ctx, { stage, pricePerUnit: PRICE, market: { ctx, account: ctx.network.self, chunk: 8 }, wrongOutputs: i === 0 })
  })
  validators.forEach((validator, i) => {
    const ctx = ctxs[3 + i]!
    const lm = startLmReferee(ctx, {
      loadStage: (from, to) => {
        loaded.push([from, to])
        return loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
      },
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

describe("verification of paid pipeline inference, on libp2p loopback", () => {
  it("a stage returning wrong activations is found by re-executing that stage only, bisected to its wrong block, slashed by a committee verdict whose co-signers re-executed that one block, and the client compensated and refunded; the honest stage is never disputed", async () => {
    const client = ctxs[0]!.network.self
    const [wrongPeer, honestPeer] = [h.networks[1]!.self, h.networks[2]!.self]
    const balance = economy.balanceOf(client)
    const payer = makeLmPayer(ctxs[0]!, { account: client, maxPricePerToken: CAP, pollMs: 300, deadlineMs: 20_000, verify: { rate: 1, timeoutMs: 20_000 } })
    try {
      await Effect.runPromise(generateThroughPipeline(ctxs[0]!, { blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context, maxTokens: N, timeoutMs: 30_000, payment: payer }))
      const summary = await payer.finish()
      const [wrongJob, honestJob] = summary.jobs.map((s) => s.job) as [number, number]
      expect(summary.jobs.map((s) => s.peer)).toEqual([wrongPeer, honestPeer])

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
      expect(referees.reduce((n, r) => n + r.stats().verdicts, 0)).toBe(1)
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
      expect(lmReferees[finder - 3]!.reexecutions().filter((r) => r.job === wrongJob)).toEqual([expect.objectContaining({ from: 0, to: 1, outcome: "wrong" })])
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
        expect(lmReferees[node - 3]!.blockRuns().filter((r) => r.job === wrongJob)).toEqual([{ job: wrongJob, block: 1 }])
        expect(lmReferees[node - 3]!.reexecutions().filter((r) => r.job === wrongJob)).toEqual([])
      }

      // The referees re-executed one stage's blocks each time, never the whole model: the refuting one ran blocks 0-1 only.
      const runs = lmReferees.flatMap((r) => r.reexecutions())
      expect(runs.filter((r) => r.job === wrongJob).every((r) => r.from === 0 && r.to === 1 && r.outcome === "wrong")).toBe(true)
      expect(runs.every((r) => r.to - r.from + 1 < config.blocks)).toBe(true)
      expect(loaded.every(([from, to]) => to - from + 1 < config.blocks)).toBe(true)
      expect(loaded.filter(([from]) => from === 0).every(([, to]) => to === 1)).toBe(true)

      // The honest stage: every note checked and found right, never disputed, paid tokens × price.
      const honestRuns = runs.filter((r) => r.job === honestJob)
      expect(honestRuns.length).toBeGreaterThan(0)
      expect(honestRuns.every((r) => r.outcome === "right" && r.from === 2 && r.to === 3)).toBe(true)
      const hj = economy.job(honestJob)!
      expect(hj.state).toBe("settled")
      expect(hj.notes.every((n) => n.state === "paid")).toBe(true)
      expect(hj.paidUnits).toBe(BigInt(N))
      expect(economy.provider(honestPeer)!.bond).toBe(BOND)
      expect(events.filter((e) => e.kind === "lm.disputed").map((e) => e.data["job"])).toEqual([wrongJob])

      // A client cannot have an honest stage judged on inputs it did not send: evidence the note does not commit to is `unbound`, nothing re-executed.
      const note = hj.notes[0]!
      const units = Number(note.units)
      const made: LmInput[] = Array.from({ length: units }, (_, i) => ({ start: i === 0 ? 0 : i + 3, length: i === 0 ? 4 : 1, dim: config.dim, input: "activations", data: new Float32Array((i === 0 ? 4 : 1) * config.dim).fill(0.25) }))
      const before = lmReferees[0]!.reexecutions().length
      await Effect.runPromise(ctxs[0]!.network.send(h.networks[3]!.self, LM_VERIFY_TOPIC, encodeVerifyRequest({
        v: 1, t: "verify", nonce: 999, job: honestJob, note: note.id, from: 2, to: 3, first: 0, input: "activations", dim: config.dim, inputs: made, leaves: [`0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`],
      })))
      await vi.waitFor(() => expect(events.some((e) => e.kind === "lm.referee.verified" && e.data["job"] === honestJob && e.data["outcome"] === "unbound")).toBe(true), { timeout: 10_000, interval: 100 })
      expect(lmReferees[0]!.reexecutions().length).toBe(before)
      expect(economy.job(honestJob)!.notes.every((n) => n.state === "paid")).toBe(true)

      // The wrong stage's escrow comes back at its deadline: the client paid only the honest stage, and got the compensation.
      await vi.waitFor(() => expect(economy.job(wrongJob)!.state).toBe("expired"), { timeout: 40_000, interval: 250 })
      expect(economy.job(wrongJob)!.returned).toBe(economy.job(wrongJob)!.budget)
      expect(economy.balanceOf(client)).toBe(balance - BigInt(N) * PRICE + wj.compensation)
    } finally {
      payer.stop()
    }
  }, 150_000)
})
