/**
 * The compute market on a real node (the counterpart of sim/world/market-world.ts): the market actors
 * of runtime/actors/market over the node's ports, its ledger (the Chain port: the node's in-memory
 * ledger without a chain, ComputeMarket on an EVM chain) and TensorFlow.js inference
 * (runtime/adapters/tfjs/market-work.ts) on the genesis's evaluation set with the network's models.
 *
 * - every validator runs a referee (re-executes what a requester asks it to check, and signs the
 *   committee's verdict on a dispute with its consensus key), and the language model's referee
 *   (runtime/actors/lm/referee.ts: re-executes a paid stage's note on a client's evidence; the market's
 *   referee judges `infer:lm/*` disputes by it);
 * - a node whose account is a registered provider serving `infer:<dataset>` serves its jobs (registered
 *   by `dai provider start` through the API, or by `provider` here, as the devnet does);
 * - every node runs a requester for its account: the jobs posted through its API (`POST /market/jobs`,
 *   `dai job submit`) go to its `submit` and are routed, checked and paid; with `requester`, it also
 *   posts a stream of jobs (the devnet's built-in requester).
 *
 * The actors speak in ledger accounts; a directory of signed hellos maps them to libp2p peers
 * (runtime/actors/market/directory.ts). The models a job may run on are the chain's last committed
 * rounds' (MODEL_WINDOW): this node holds the genesis's initial model and each global model its
 * training adopts (read from its store, where model sync keeps it, and checked against its hash).
 */
import { Effect, Result } from "effect"
import type { AppGenesis } from "../core/app/app.ts"
import { modelHash } from "../core/training/hash.ts"
import { startMarketDirectory, accountNetwork, type MarketDirectory } from "../actors/market/directory.ts"
import type { MarketContext } from "../actors/market/context.ts"
import { startProvider, type ProviderActor } from "../actors/market/provider.ts"
import { startReferee, type RefereeActor } from "../actors/market/referee.ts"
import { startRequester, type RequesterActor } from "../actors/market/requester.ts"
import type { Reexecute } from "../actors/market/work.ts"
import { parseLmJobKind } from "../actors/lm/paid.ts"
import { startLmReferee, type LmReferee } from "../actors/lm/referee.ts"
import { traceWorkByKind } from "../actors/lm/trace-work.ts"
import { bytesFloat, decodeTrain } from "../actors/training/wire.ts"
import type { RealNode } from "./real-world.ts"
import { genesisSeed } from "./training/local-data.ts"

/** Where model sync keeps the node's adopted global model (runtime/actors/training/model-sync.ts GLOBAL_KEY). */
const GLOBAL_MODEL_KEY = "training/global"
/** How often the store is read for a newly adopted model. */
const WATCH_EVERY_MS = 2_000
/** How often a node that is not serving reads the ledger for its registration (`dai provider start`). */
const REGISTRATION_EVERY_MS = 5_000
/** How often the requester reads its own jobs for ones no run holds (one `marketJobs` call: only live jobs are read on a chain). */
const SWEEP_EVERY_MS = 30_000
/** A provider looks for assignments nobody announced at every this many polls (a poll a second). */
const SCAN_EVERY = 15

/** How this node takes part in the market (`undefined` parts: not that role). */
export interface NodeMarketOptions {
  /** Register as a provider with these terms (a registered account keeps its registration and serves). */
  readonly provider?: { readonly bond: bigint; readonly pricePerUnit: bigint; readonly capacity: number; readonly chunk?: number }
  /** Post a job every `interval` ms from this node's account. */
  readonly requester?: { readonly units: number; readonly maxPricePerUnit: bigint; readonly interval: number; readonly deadline: number; readonly maxRunning?: number }
}

export interface NodeMarket {
  /** The job kind this node computes (`infer:mnist`), undefined when its data set has none. */
  readonly kind: string | undefined
  readonly directory: MarketDirectory
  /** The provider actor, once this node's account serves. */
  readonly provider: () => ProviderActor | undefined
  /** The node account's requester (always; it posts a stream only with `options.requester`). */
  readonly requester: RequesterActor
  readonly referee: RefereeActor | undefined
  /** The language model's referee (a validator's, unless started with `lm: false`). */
  readonly lmReferee: LmReferee | undefined
  stop(): void
}

/** Start the market on `node`; stop() ends every actor it started. */
export const startNodeMarket = async (o: {
  readonly node: RealNode
  readonly genesis: AppGenesis
  readonly options?: NodeMarketOptions
  /** The language model a validator referees (default: the committed checkpoint); false: no lm referee (the node runs no language model). */
  readonly lm?: { readonly checkpoint?: string } | false
}): Promise<NodeMarket> => {
  const { node, genesis } = o
  const { ctx, app, keys } = node
  const address = keys.address.toLowerCase()
  const account = app.accountOf(address)
  const p = genesis.params
  const dataset = p["training.dataset"]
  // The market sells inference of the MNIST models only (the language model is served by its own stage servers).
  const kind = dataset === "synthetic" || dataset === "fortunes" || p["training.model"] === "gpt" ? undefined : `infer:${dataset}`

  const directory = startMarketDirectory({
    chainId: app.chainId, network: ctx.network, clock: ctx.clock, now: ctx.now, run: ctx.run, address,
    sign: (d) => Effect.runSync(keys.sign(d)), verify: keys.verify, accountOf: (a) => app.accountOf(a),
    invalid: (peer, reason) => ctx.fault(peer, reason),
  })
  const mctx: MarketContext = {
    name: ctx.name, clock: ctx.clock, now: ctx.now, run: ctx.run, random: ctx.random, ledger: ctx.ledger, emit: ctx.emit,
    params: () => app.params(),
    network: accountNetwork(ctx.network, directory),
    fault: (from, reason) => ctx.fault(directory.peerOf(from) ?? from, reason),
  }

  let stopped = false
  const timers: Array<() => void> = []
  // The models a delivery may name, and the weights this node holds (the initial model, then each adopted one).
  const held = new Map<string, Float32Array>()
  let work: import("../adapters/tfjs/market-work.ts").TracedInferenceWork | undefined
  let windowSize = 4
  if (kind !== undefined) {
    const tfjs = await import("../adapters/tfjs/market-work.ts")
    const { initialWeights, paramCount } = await import("../adapters/tfjs/model.ts")
    windowSize = tfjs.MODEL_WINDOW
    const model = p["training.model"] as "mlp" | "cnn" // not gpt: kind is undefined then
    const initial = initialWeights(model, genesisSeed(genesis))
    const initialHash = modelHash(initial)
    held.set(initialHash, initial)
    const window = () => {
      const rounds = [...app.rounds().values()].sort((a, b) => b.round - a.round).slice(0, windowSize).map((r) => ({ hash: r.modelHash, round: r.round }))
      return rounds.length < windowSize ? [...rounds, { hash: initialHash, round: 0 }] : rounds
    }
    // Built on first use: the evaluation set is loaded only by a node that computes.
    let made: import("../adapters/tfjs/market-work.ts").TracedInferenceWork | undefined
    const lazy = () => (made ??= tfjs.makeInferenceWork({ kind, model, samples: tfjs.evaluationSamples(dataset, p["training.evalSamples"]), models: { window, weights: (h) => held.get(h) } }))
    work = {
      kind,
      work: (t) => lazy().work(t),
      reexecute: (t, claimed) => lazy().reexecute(t, claimed),
      classes: (w, from, units) => lazy().classes(w, from, units),
      resultWord: (t, h, c) => lazy().resultWord(t, h, c),
      // The layered side: a referee bisects a dispute to its first diverging layer, a provider defends with its trace.
      traced: { trace: (t, c) => lazy().traced.trace(t, c), layers: (t, c) => lazy().traced.layers(t, c), layer: (t, c, k, i) => lazy().traced.layer(t, c, k, i), word: (t, c, r) => lazy().traced.word(t, c, r) },
      providerTrace: (t, w) => lazy().providerTrace(t, w),
      trace: (w, f, u) => lazy().trace(w, f, u),
    }
    const size = paramCount(model)
    // Adopt what model sync adopted: the store's global model, if its weights hash to what it says.
    const watchModels = () =>
      ctx.run(Effect.ignore(Effect.gen(function*() {
        const bytes = yield* ctx.store.get(GLOBAL_MODEL_KEY)
        if (bytes === undefined) return
        const m = decodeTrain(bytes)
        if (Result.isFailure(m) || m.success.header.kind !== "global") return
        const hash = String((m.success.header.body as { modelHash?: unknown }).modelHash ?? "")
        if (held.has(hash)) return
        const weights = bytesFloat(m.success.payload, size)
        if (weights === undefined || modelHash(weights) !== hash) return
        held.set(hash, weights)
        // Keep the window's models (and the initial one) only.
        const keep = new Set([initialHash, ...window().map((w) => w.hash), hash])
        for (const h of [...held.keys()]) if (!keep.has(h) && held.size > windowSize + 2) held.delete(h)
      })))
    watchModels()
    timers.push(every(ctx.clock, WATCH_EVERY_MS, watchModels, () => stopped))
  }

  const isValidator = app.operatorOf(address) !== undefined
  // A validator also referees the language model's paid stages (issue 14, item 6): it re-executes one
  // stage's blocks of the checkpoint on the evidence a client sends (`lm/verify/v1`), and the market's
  // referee signs verdicts on `infer:lm/*` jobs by those re-executions.
  let lmReferee: LmReferee | undefined
  if (isValidator && o.lm !== false) {
    const { DEFAULT_CHECKPOINT_DIR } = await import("../adapters/tfjs/lm/checkpoint.ts")
    const { activeLmBackend, loadPipelineStage } = await import("../adapters/tfjs/lm/pipeline-stage.ts")
    const dir = o.lm?.checkpoint ?? DEFAULT_CHECKPOINT_DIR
    // It judges (and announces, `lm/referee/<backend>`) the notes of stages on its own backend only: core/lm/backend.ts.
    lmReferee = startLmReferee(mctx, { loadStage: (from, to) => loadPipelineStage(dir, from, to), backend: activeLmBackend() })
  }
  const lmr = lmReferee
  // An `infer:lm/*` note is the lm referee's to re-execute, any other kind the market work's.
  const reexecute: Reexecute = (t, claimed) => parseLmJobKind(t.kind) !== undefined ? lmr?.reexecute(t, claimed) : work?.reexecute(t, claimed)
  // Disputes are bisected to a layer: the MNIST work's layers, a language-model stage's blocks (its note's trace, the lm referee's
  // own re-execution; a stage server silent in the bisection is judged by that re-execution whole).
  const traced = lmr === undefined ? work?.traced : traceWorkByKind(lmr.trace, work?.traced)
  const isLm = (k: string) => parseLmJobKind(k) !== undefined
  const referee = isValidator
    ? startReferee(mctx, {
      account, reexecute, keys,
      ...(traced === undefined ? {} : { trace: traced, bisects: (k: string) => (k === kind && work !== undefined) || (isLm(k) && lmr !== undefined), wholeWhenSilent: isLm }),
    })
    : undefined

  let provider: ProviderActor | undefined
  const serve = (terms: { bond: bigint; pricePerUnit: bigint; capacity: number; chunk?: number }) => {
    if (provider !== undefined || work === undefined || kind === undefined || stopped) return
    provider = startProvider(mctx, {
      account, kind, bond: terms.bond, pricePerUnit: terms.pricePerUnit, capacity: terms.capacity, work: work.work, trace: work.providerTrace,
      // The requester's `assigned` message wakes it; a full scan of the ledger's jobs is one call per job on a chain.
      scanEvery: SCAN_EVERY,
      ...(terms.chunk === undefined ? {} : { chunk: terms.chunk }),
    })
  }
  if (o.options?.provider !== undefined) serve(o.options.provider)
  else if (kind !== undefined) {
    // Registered by `dai provider start` (through the API) at any time: serve once the ledger says so.
    // One read at a time, every REGISTRATION_EVERY_MS: a slow chain is not sent a backlog of them.
    let looking = false
    const look = () => {
      if (looking) return
      looking = true
      ctx.run(Effect.ensuring(Effect.ignore(Effect.map(ctx.ledger.marketProvider(account), (r) => {
        if (r !== undefined && !r.retired && r.kinds.includes(kind)) serve({ bond: r.bond, pricePerUnit: r.pricePerUnit, capacity: r.capacity })
      })), Effect.sync(() => void (looking = false))))
    }
    look()
    timers.push(every(ctx.clock, REGISTRATION_EVERY_MS, look, () => stopped || provider !== undefined))
  }

  const r = o.options?.requester
  // A chain is slower than the simulator's ledger: read the jobs less often, and let no backlog pile up.
  // The sweep refunds this account's jobs that no run holds once past their deadline (a post whose
  // answer was lost, a job of an earlier run of this node): nobody else would.
  const requester = r === undefined || kind === undefined
    ? startRequester(mctx, { account, pollInterval: 2_000, sweepInterval: SWEEP_EVERY_MS })
    : startRequester(mctx, {
      account, kind, units: r.units, maxPricePerUnit: r.maxPricePerUnit, interval: r.interval, deadline: r.deadline,
      pollInterval: 2_000, maxRunning: r.maxRunning ?? 2, sweepInterval: SWEEP_EVERY_MS,
    })

  return {
    kind,
    directory,
    provider: () => provider,
    requester,
    referee,
    lmReferee,
    stop: () => {
      stopped = true
      for (const cancel of timers) cancel()
      requester.stop()
      provider?.stop()
      referee?.stop()
      lmReferee?.stop()
      directory.stop()
    },
  }
}

/** Call `fn` every `ms` on `clock` until `done()` or the returned cancel. */
const every = (clock: RealNode["ctx"]["clock"], ms: number, fn: () => void, done: () => boolean): (() => void) => {
  let timer: unknown
  const tick = () => {
    if (done()) return
    fn()
    timer = clock.setTimeout(tick, ms)
  }
  timer = clock.setTimeout(tick, ms)
  return () => clock.clearTimeout(timer)
}
