/**
 * A throwaway language-model network in one process (`dai chat --devnet`): stage-server nodes and a
 * client node on libp2p over 127.0.0.1 (the first node is everyone's bootstrap), one in-memory ledger
 * from a genesis that funds every node's account (its peer id) with 1,000 DAI, each server node
 * registered as the market provider of its block range at its price per token (the LM service's
 * `serve`), and the client paying every stage per token from its account. Nothing persists: the
 * ledger and the nodes end with `close`.
 */
import { Effect, Exit, Result, Scope } from "effect"
import { makeFiberRunner, wallClock, wallNow } from "../adapters/clock.ts"
import { makeLibp2pNetwork } from "../adapters/libp2p/network.ts"
import { cryptoRandom } from "../adapters/random.ts"
import { DEFAULT_CHECKPOINT_DIR, readCheckpointConfig } from "../adapters/tfjs/lm/checkpoint.ts"
import { loadPipelineStage } from "../adapters/tfjs/lm/pipeline-stage.ts"
import { lmContext, type LmContext } from "../actors/lm/context.ts"
import { startLmService, type LmService } from "../actors/lm/service.ts"
import type { MarketContext } from "../actors/market/context.ts"
import { ledgerAtGenesis } from "../core/app/ledger-genesis.ts"
import { DEFAULT_PARAMS, type Params } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../core/units.ts"
import { makeMemoryChain } from "../services/memory-chain.ts"

export interface LmDevnetOptions {
  /** Stages the blocks are cut into (one server node each; default 2). */
  readonly stages?: number
  /** Each stage's price per token (base units; default 0.001 DAI, stage i at (i + 1) × that). */
  readonly pricePerToken?: (stage: number) => bigint
  /** The client's telemetry (its `lm.generate.*` events). */
  readonly emit: LmContext["emit"]
  readonly checkpoint?: string
}

export interface LmDevnet {
  /** The client node's LM service (generate). */
  readonly client: LmService
  /** The client's account (its peer id). */
  readonly account: string
  /** Every server node: its account and the blocks it serves at what price. */
  readonly servers: ReadonlyArray<{ readonly account: string; readonly from: number; readonly to: number; readonly pricePerToken: bigint }>
  /** The client's balance on the ledger now. */
  balance(): bigint
  close(): Promise<void>
}

/** The blocks 0..blocks-1 cut into `stages` contiguous ranges, as even as can be. */
export const splitBlocks = (blocks: number, stages: number): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  for (let i = 0, from = 0; i < stages; i++) {
    const size = Math.floor(blocks / stages) + (i < blocks % stages ? 1 : 0)
    out.push([from, from + size - 1])
    from += size
  }
  return out
}

/** Start the network; resolves once every server serves and the client reaches them. */
export const startLmDevnet = async (o: LmDevnetOptions): Promise<LmDevnet> => {
  const dir = o.checkpoint ?? DEFAULT_CHECKPOINT_DIR
  const model = readCheckpointConfig(dir).model
  const stages = Math.min(o.stages ?? 2, model.blocks)
  if (!(stages >= 1)) throw new Error(`stages must be from 1 to ${model.blocks}`)
  const ranges = splitBlocks(model.blocks, stages)
  const price = o.pricePerToken ?? ((i: number) => BigInt(i + 1) * (TOKEN / 1000n))
  const scope = Effect.runSync(Scope.make())
  const runners: Array<ReturnType<typeof makeFiberRunner>> = []
  const services: LmService[] = []
  const close = async () => {
    for (const s of services) s.stop()
    for (const r of runners) await Effect.runPromise(r.interruptAll)
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  try {
    const start = (bootstrap: readonly string[]) => Effect.runPromise(Scope.provide(scope)(makeLibp2pNetwork({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap })))
    const first = await start([])
    const bootstrap = [...(await Effect.runPromise(first.multiaddrs))]
    const transports = [first, ...(await Promise.all(ranges.map(() => start(bootstrap))))]
    await Promise.all(transports.map((t) => Effect.runPromise(t.awaitPeers(1, 30_000))))
    const accounts = transports.map((t) => t.network.self)
    const params: Params = { ...DEFAULT_PARAMS, "market.disputeWindow": 5_000, "market.minProviderBond": 100 } as Params
    const economy = Result.getOrThrow(ledgerAtGenesis({
      chainId: 7, time: Date.now() - 1_000, params,
      validators: [{ operator: "v0", address: `0x${"11".repeat(20)}`, amount: 10_000n * TOKEN, tier: 0, commission: 0n }],
      allocations: [{ address: "v0", amount: 20_000n * TOKEN }, ...accounts.map((address) => ({ address, amount: 1_000n * TOKEN })),
        { address: "rest", amount: TOTAL_SUPPLY - 20_000n * TOKEN - BigInt(accounts.length) * 1_000n * TOKEN }],
    }))
    const ledger = makeMemoryChain(economy, () => Math.max(Date.now(), economy.now))
    const shape = { blocks: model.blocks, contextLength: model.contextLength, vocabSize: model.vocabSize }
    const servers = ranges.map(([from, to], i) => ({ account: accounts[i + 1]!, from, to, pricePerToken: price(i) }))
    for (const [i, t] of transports.entries()) {
      const runner = makeFiberRunner()
      runners.push(runner)
      const base = lmContext({ name: i === 0 ? "client" : `stage${i - 1}`, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network: t.network, ...(i === 0 ? { emit: o.emit } : {}) })
      const ctx: MarketContext = { ...base, ledger, params: () => economy.params }
      const s = servers[i - 1]
      services.push(startLmService(ctx, {
        account: accounts[i]!, model: shape, loadStage: (from, to) => loadPipelineStage(dir, from, to), watchMs: 500, pollMs: 500, deadlineMs: 30_000,
        ...(s === undefined ? {} : { serve: { from: s.from, to: s.to, bond: 200n * TOKEN, pricePerToken: s.pricePerToken, capacity: 4 } }),
      }))
    }
    // Every server registered and serving, and the client finds every range's announcement.
    const until = Date.now() + 60_000
    const client = transports[0]!.network
    const found = () => Promise.all(ranges.map(([from, to]) => Effect.runPromise(Effect.orElseSucceed(client.findProviders(`lm/blocks/${from}-${to}`), () => []))))
    while (!services.slice(1).every((s) => s.served().length === 1) || (await found()).some((f) => f.length === 0)) {
      if (Date.now() > until) throw new Error("the stage servers did not start, or could not be found, within 60 s")
      await new Promise((r) => setTimeout(r, 200))
    }
    return { client: services[0]!, account: accounts[0]!, servers, balance: () => economy.balanceOf(accounts[0]!), close }
  } catch (e) {
    await close()
    throw e
  }
}
