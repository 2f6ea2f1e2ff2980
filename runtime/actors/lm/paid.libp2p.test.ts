/**
 * Pipeline inference paid per token, end to end on 127.0.0.1 (issue 14, items 4 and 6): two stage
 * servers on libp2p nodes hold blocks 0-1 and 2-3, registered as market providers at different prices
 * per token on one in-memory ledger; a client pays every stage through a market job per stage. The text
 * equals the whole model's greedy text, each stage is paid exactly tokens × its price, the rest of the
 * escrow is returned; a generation abandoned mid-way pays for the tokens served and is refunded the
 * rest after its jobs' deadline; a server paid per token opens no session without a job assigned to it.
 */
import { Effect, Fiber, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { makeFiberRunner, wallClock, wallNow } from "../../adapters/clock.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "../../adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../../adapters/random.ts"
import { selectBackend } from "../../adapters/tfjs/backend.ts"
import { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } from "../../adapters/tfjs/lm/checkpoint.ts"
import { generateTokens, promptTokens } from "../../adapters/tfjs/lm/generate.ts"
import { makeGpt } from "../../adapters/tfjs/lm/gpt.ts"
import { loadPipelineStage } from "../../adapters/tfjs/lm/pipeline-stage.ts"
import { ledgerAtGenesis } from "../../core/app/ledger-genesis.ts"
import type { Economy } from "../../core/econ/index.ts"
import type { LmConfig } from "../../core/lm/config.ts"
import { DEFAULT_PARAMS, type Params } from "../../core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { makeMemoryChain } from "../../services/memory-chain.ts"
import type { MarketContext } from "../market/context.ts"
import { generateThroughPipeline, LmPipelineError, type PipelineEvent } from "./client.ts"
import { lmContext } from "./context.ts"
import { lmJobKind } from "./paid.ts"
import { makeLmPayer } from "./payment.ts"
import { startStageServer, type StageServer } from "./stage-server.ts"

const N = 20
const context = promptTokens("The ")
const MILLI = TOKEN / 1000n
const PRICES = [2n * MILLI, 3n * MILLI] as const
const CAP = 5n * MILLI
let config: LmConfig
let want: number[]
let h: Libp2pHarness
let economy: Economy
let ctxs: MarketContext[]
let servers: StageServer[]
const stages: Array<ReturnType<typeof loadPipelineStage>> = []
const runners: Array<ReturnType<typeof makeFiberRunner>> = []
const params: Params = { ...DEFAULT_PARAMS, "market.disputeWindow": 5_000, "market.minProviderBond": 100 } as Params

beforeAll(async () => {
  await selectBackend("cpu")
  const { file, weights } = loadCheckpoint(DEFAULT_CHECKPOINT_DIR)
  config = file.model
  const whole = makeGpt(file.model, weights)
  try {
    want = generateTokens(whole, context, { maxTokens: N, temperature: 0, seed: 0 })
  } finally {
    whole.dispose()
  }
  h = await startLibp2pNetworks(3)
  // One ledger for the three nodes; their accounts are their peer ids (the network names senders by them).
  const [client, s0, s1] = h.networks.map((n) => n.self)
  economy = Result.getOrThrow(ledgerAtGenesis({
    chainId: 7, time: Date.now() - 1_000, params,
    validators: [{ operator: "v0", address: `0x${"11".repeat(20)}`, amount: 10_000n * TOKEN, tier: 0, commission: 0n }],
    allocations: [{ address: "v0", amount: 20_000n * TOKEN }, { address: client!, amount: 1_000n * TOKEN }, { address: s0!, amount: 1_000n * TOKEN }, { address: s1!, amount: 1_000n * TOKEN },
      { address: "rest", amount: TOTAL_SUPPLY - 23_000n * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => Math.max(Date.now(), economy.now))
  ctxs = h.networks.map((network, i) => {
    const runner = makeFiberRunner()
    runners.push(runner)
    const base = lmContext({ name: `n${i}`, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network })
    return { ...base, ledger, params: () => economy.params }
  })
  servers = ([[0, 1], [2, 3]] as const).map(([from, to], i) => {
    const ctx = ctxs[i + 1]!
    Effect.runSync(Effect.orDie(ledger.marketOp({ type: "registerProvider", provider: ctx.network.self, bond: 200n * TOKEN, kinds: [lmJobKind(from, to)], pricePerUnit: PRICES[i]!, capacity: 4 })))
    const stage = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
    stages.push(stage)
    return startStageServer(ctx, { stage, pricePerUnit: PRICES[i]!, market: { ctx, account: ctx.network.self, chunk: 8 } })
  })
  // The client finds both announcements before the first generation (the DHT takes a moment).
  await vi.waitFor(async () => {
    for (const key of ["lm/blocks/0-1", "lm/blocks/2-3"]) expect(await Effect.runPromise(Effect.orElseSucceed(ctxs[0]!.network.findProviders(key), () => []))).not.toEqual([])
  }, { timeout: 30_000, interval: 200 })
}, 120_000)

afterAll(async () => {
  servers?.forEach((s) => s.stop())
  stages.forEach((s) => s.dispose())
  for (const r of runners) await Effect.runPromise(r.interruptAll)
  await h?.close()
})

const generate = (payer: ReturnType<typeof makeLmPayer> | undefined, events: PipelineEvent[], onToken?: (t: number) => void) =>
  generateThroughPipeline(ctxs[0]!, {
    blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context, maxTokens: N, timeoutMs: 30_000,
    onEvent: (e) => events.push(e), ...(payer === undefined ? {} : { payment: payer }), ...(onToken === undefined ? {} : { onToken }),
  })

describe("pipeline inference paid per token, on libp2p loopback", () => {
  it("gives the whole model's greedy text; each stage is paid tokens × its price and the rest of the escrow is returned", async () => {
    const client = ctxs[0]!.network.self
    const balance = economy.balanceOf(client)
    const payer = makeLmPayer(ctxs[0]!, { account: client, maxPricePerToken: CAP, pollMs: 300 })
    try {
      const events: PipelineEvent[] = []
      const got = await Effect.runPromise(generate(payer, events))
      expect(got.tokens).toEqual(want)
      expect(got.route.map((s) => s.peer)).toEqual([h.networks[1]!.self, h.networks[2]!.self])
      const summary = await payer.finish()
      expect(summary.jobs).toHaveLength(2)
      for (const [i, s] of summary.jobs.entries()) {
        const j = economy.job(s.job)!
        expect({ kind: j.kind, provider: j.provider, units: j.units, state: j.state }).toEqual({ kind: lmJobKind(i * 2, i * 2 + 1), provider: h.networks[i + 1]!.self, units: BigInt(N), state: "settled" })
        expect(j.pricePerUnit).toBe(PRICES[i])
        expect(j.paidUnits).toBe(BigInt(N))
        // Paid = tokens × price (to the provider after the market's fee, the fee burnt or to stakers); the rest returned.
        expect(j.paid + j.feeBurnt + j.feeToStakers).toBe(BigInt(N) * PRICES[i]!)
        expect(j.returned).toBe(j.budget - BigInt(N) * PRICES[i]!)
        expect(j.budget).toBe(BigInt(N) * CAP)
        expect(j.notes.length).toBeGreaterThanOrEqual(Math.ceil(N / 8))
      }
      expect(summary.paid).toBe(BigInt(N) * (PRICES[0] + PRICES[1]))
      expect(summary.held).toBe(0n)
      expect(economy.balanceOf(client)).toBe(balance - BigInt(N) * (PRICES[0] + PRICES[1]))
      expect(events.filter((e) => e.kind === "job").map((e) => e.kind === "job" && e.units)).toEqual([N, N])
    } finally {
      payer.stop()
    }
  }, 90_000)

  it("a generation abandoned mid-way pays for the tokens served and gets the rest back after the deadline", async () => {
    const client = ctxs[0]!.network.self
    const balance = economy.balanceOf(client)
    const payer = makeLmPayer(ctxs[0]!, { account: client, maxPricePerToken: CAP, pollMs: 300, deadlineMs: 10_000 })
    try {
      const events: PipelineEvent[] = []
      let seen = 0
      const fiber = Effect.runFork(generate(payer, events, () => void seen++))
      await vi.waitFor(() => expect(seen).toBeGreaterThanOrEqual(5), { timeout: 60_000, interval: 10 })
      await Effect.runPromise(Fiber.interrupt(fiber))
      const summary = await payer.finish()
      const served = summary.jobs.map((s) => s.served)
      expect(served.every((n) => n >= 5 && n < N)).toBe(true)
      // Paid what the servers answered, at their prices; the rest comes back at the deadline.
      await vi.waitFor(() => expect(summary.jobs.map((s) => economy.job(s.job)!.state)).toEqual(["expired", "expired"]), { timeout: 30_000, interval: 200 })
      let spent = 0n
      for (const [i, s] of summary.jobs.entries()) {
        const j = economy.job(s.job)!
        // What the server answered: the replies the client read, and the request in flight when it gave up (computed, billed, unread).
        expect(j.paidUnits >= BigInt(s.served) && j.paidUnits <= BigInt(s.served) + 1n).toBe(true)
        expect(j.paid + j.feeBurnt + j.feeToStakers).toBe(j.paidUnits * PRICES[i]!)
        expect(j.returned).toBe(j.budget - j.paidUnits * PRICES[i]!)
        spent += j.paidUnits * PRICES[i]!
      }
      expect(economy.balanceOf(client)).toBe(balance - spent)
    } finally {
      payer.stop()
    }
  }, 90_000)

  it("a paid server opens no session without a job assigned to it", async () => {
    const events: PipelineEvent[] = []
    const r = await Effect.runPromise(Effect.result(generate(undefined, events)))
    expect(Result.isFailure(r) && r.failure).toBeInstanceOf(LmPipelineError)
    expect(Result.isFailure(r) && r.failure.reason).toMatch(/paid per token/)
    expect(servers.every((s) => s.sessions === 0)).toBe(true)
  }, 60_000)
})
