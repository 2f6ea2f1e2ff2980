/**
 * For tests: a small network for paid pipeline inference on 127.0.0.1 — `n` libp2p nodes, one
 * in-memory ledger whose accounts are the nodes' peer ids (each funded with 1,000 DAI), and a
 * MarketContext per node on the wall clock — and the whole model's greedy tokens to compare with.
 */
import { Effect, Result } from "effect"
import { makeFiberRunner, wallClock, wallNow } from "../../adapters/clock.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "../../adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../../adapters/random.ts"
import { selectBackend } from "../../adapters/tfjs/backend.ts"
import { loadCheckpoint } from "../../adapters/tfjs/lm/checkpoint.ts"
import { generateTokens } from "../../adapters/tfjs/lm/generate.ts"
import { makeGpt } from "../../adapters/tfjs/lm/gpt.ts"
import { ledgerAtGenesis } from "../../core/app/ledger-genesis.ts"
import type { Economy } from "../../core/econ/index.ts"
import type { LmConfig } from "../../core/lm/config.ts"
import { DEFAULT_PARAMS, type Params } from "../../core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { makeMemoryChain } from "../../services/memory-chain.ts"
import type { MarketContext } from "../market/context.ts"
import { type LmContext, lmContext } from "./context.ts"

export interface PaidNetwork {
  readonly h: Libp2pHarness
  readonly economy: Economy
  readonly ctxs: readonly MarketContext[]
  close(): Promise<void>
}

/** Market parameters of the test network: a 5 s dispute window (the minimum), a 100 DAI provider bond. */
export const PAID_PARAMS: Params = { ...DEFAULT_PARAMS, "market.disputeWindow": 5_000, "market.minProviderBond": 100 } as Params

/** `n` connected nodes sharing one ledger; `emit[i]` receives node i's telemetry. */
export const startPaidNetwork = async (n: number, emit: ReadonlyArray<LmContext["emit"] | undefined> = []): Promise<PaidNetwork> => {
  const h = await startLibp2pNetworks(n)
  const peers = h.networks.map((x) => x.self)
  const economy = Result.getOrThrow(ledgerAtGenesis({
    chainId: 7, time: Date.now() - 1_000, params: PAID_PARAMS,
    validators: [{ operator: "v0", address: `0x${"11".repeat(20)}`, amount: 10_000n * TOKEN, tier: 0, commission: 0n }],
    allocations: [{ address: "v0", amount: 20_000n * TOKEN }, ...peers.map((address) => ({ address, amount: 1_000n * TOKEN })),
      { address: "rest", amount: TOTAL_SUPPLY - 20_000n * TOKEN - BigInt(n) * 1_000n * TOKEN }],
  }))
  const ledger = makeMemoryChain(economy, () => Math.max(Date.now(), economy.now))
  const runners: Array<ReturnType<typeof makeFiberRunner>> = []
  const ctxs = h.networks.map((network, i): MarketContext => {
    const runner = makeFiberRunner()
    runners.push(runner)
    const e = emit[i]
    const base = lmContext({ name: `n${i}`, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network, ...(e === undefined ? {} : { emit: e }) })
    return { ...base, ledger, params: () => economy.params }
  })
  return {
    h, economy, ctxs,
    close: async () => {
      for (const r of runners) await Effect.runPromise(r.interruptAll)
      await h.close()
    },
  }
}

/** The whole model's greedy tokens after `context` (one process, the cpu backend). */
export const wholeModelTokens = async (dir: string, context: readonly number[], maxTokens: number): Promise<{ readonly config: LmConfig; readonly tokens: number[] }> => {
  await selectBackend("cpu")
  const { file, weights } = loadCheckpoint(dir)
  const whole = makeGpt(file.model, weights)
  try {
    return { config: file.model, tokens: generateTokens(whole, context, { maxTokens, temperature: 0, seed: 0 }) }
  } finally {
    whole.dispose()
  }
}
