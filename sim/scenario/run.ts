/**
 * The scenario runner: builds the world, schedules the scenario's events, runs until the target or
 * maxTime of virtual time, and composes the checkers of `sim/check/` (safety, liveness, slashing,
 * supply, accuracy, economics) into the run's verdict: passed, correctness, liveness or crash.
 * Same scenario and seed, same trace hash.
 */
import { Effect } from "effect"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { byzantineOutbound } from "../faults/consensus.ts"
import { seedBanner } from "../kernel/seed.ts"
import type { Scenario, ScenarioAction, Trigger } from "./load.ts"
import { EconomicProbe, formatEconomics, type EconomicMetrics } from "./metrics.ts"
import { startTraining, trainingMetrics, type TrainingMetrics, type TrainingRun } from "./training-run.ts"
import type { TrainingSetup } from "./training-setup.ts"
import { ConsensusWorld } from "../world/world.ts"
import { sybilSplit, type SybilSplitResult } from "../faults/governance.ts"
import { accuracyChecker } from "../check/accuracy.ts"
import { economicsChecker } from "../check/economics.ts"
import type { Checker, Expectation } from "../check/expectation.ts"
import { livenessChecker } from "../check/liveness.ts"
import { safetyChecker } from "../check/safety.ts"
import { slashingChecker } from "../check/slashing.ts"
import { supplyChecker } from "../check/supply.ts"
import { membershipChecker } from "../check/membership.ts"
import { unpaidChecker } from "../check/unpaid.ts"
import { EXIT_CODES, verdictOf, type Outcome } from "../check/verdict.ts"
import { marketChecker, marketMetrics, type MarketMetrics, type MarketProbe } from "../check/market.ts"
import { startMarketWorld, type MarketWorld } from "../world/market-world.ts"
import { lmChecker, lmMetrics, type LmMetrics, type LmProbe } from "../check/lm.ts"
import { startLmWorld, type LmWorld } from "../world/lm-world.ts"
import { unitResultHash } from "../../runtime/actors/market/work.ts"

export type { Expectation } from "../check/expectation.ts"
export type { Outcome } from "../check/verdict.ts"

export interface ScenarioReport {
  readonly scenario: string
  readonly seed: number
  readonly passed: boolean
  /**
   * `passed`; `correctness` (a safety, slashing, supply, accuracy or economics expectation does not
   * hold); `liveness` (the progress expected was not reached, every correctness expectation holds);
   * `crash` (a node or the simulator threw). scenarios/README.md's exit codes 0, 1, 3, 4.
   */
  readonly outcome: Outcome
  readonly expectations: readonly Expectation[]
  readonly metrics: {
    readonly height: number
    readonly time: number
    readonly rounds: number
    readonly slashed: readonly string[]
    readonly safety: boolean
    readonly commits: number
    /** Virtual time of the last block an honest node committed. */
    readonly lastCommitAt: number
    readonly messagesDelivered: number
    readonly messagesDropped: number
    readonly invalidMessages: number
    readonly events: number
  } & EconomicMetrics & Partial<TrainingMetrics> & Partial<MarketMetrics> & Partial<LmMetrics> & { readonly sybilGain?: number; readonly sybilRoi?: number; readonly sybil?: SybilSplitResult }
  readonly traceHash: string
  readonly errors: readonly string[]
}

export interface RunOptions {
  readonly seed?: number
  readonly sink?: (line: string) => void
  readonly signatures?: "simulated" | "secp256k1"
  /** The trainers of a scenario with training (`prepareTraining`); synthetic ones are built when absent. */
  readonly training?: TrainingSetup
  /**
   * Record every network delivery and drop in the trace (default true: `dai sim run` and `replay`).
   * Sweeps and swarms, which keep only the verdict and metrics, turn it off: about one trace line
   * per delivered message (n² per height) is then not written or hashed. The trace hash then covers
   * everything else a run records — each node's telemetry (steps, commits with block hashes,
   * evidence, slashes, errors), the scenario's events, governance and the ledger's slashes — so it
   * still tells two runs apart by what their nodes did, but no longer by message timing alone, and a
   * hash taken without deliveries is never comparable with one taken with them.
   */
  readonly traceDeliveries?: boolean
  /** Sees the world once it is built (tests read its replicas at the end). */
  readonly onWorld?: (world: ConsensusWorld) => void
  /** Sees the language-model pipeline once it is built (tests read its books at the end). */
  readonly onLm?: (lm: LmWorld) => void
}

/** Run a loaded scenario to its end; never throws for what happens inside the world. */
export const runScenario = (scenario: Scenario, options: RunOptions = {}): ScenarioReport => {
  const seed = options.seed ?? scenario.seed
  const byzantine = new Set<string>()
  const expected = scenario.expect
  const safety = safetyChecker(expected.safety)
  const liveness = livenessChecker({ minHeight: expected.minHeight, until: scenario.until }, byzantine)
  const slashing = slashingChecker(expected, byzantine)
  let commits = 0
  let lastCommitAt = 0
  let invalid = 0
  const heightWaiters: Array<{ height: number; fire: () => void }> = []

  let probe: EconomicProbe | undefined
  // The checkers that watch the run as it goes; supply, accuracy and economics judge only at the end.
  const watching: readonly Checker[] = [safety, liveness, slashing]
  const observe = (e: TelemetryEvent) => {
    probe?.observe(e)
    for (const c of watching) c.observe?.(e)
    if (e.kind === "block.committed") {
      commits++
      if (!byzantine.has(e.node)) lastCommitAt = e.at
      training?.world.onBlock()
      for (let i = heightWaiters.length - 1; i >= 0; i--) {
        if (liveness.height() >= heightWaiters[i]!.height) heightWaiters.splice(i, 1)[0]!.fire()
      }
    } else if (e.kind === "net.invalid") invalid++
  }

  const world = new ConsensusWorld({
    scenario, seed, observe, ...(options.sink ? { sink: options.sink } : {}), ...(options.signatures ? { signatures: options.signatures } : {}),
    ...(options.traceDeliveries === false ? { traceDeliveries: false } : {}),
  })
  const { scheduler } = world
  options.onWorld?.(world)
  probe = new EconomicProbe({ ids: scenario.validators, app: (id) => world.app(id), economy: world.ledger.economy, slashes: world.ledger.slashes, contributorPaid: (a) => world.ledger.contributorPaid(a) })
  let training: TrainingRun | undefined
  let market: MarketWorld | undefined
  let lm: LmWorld | undefined
  let sybil: SybilSplitResult | undefined
  let delivered = 0
  let dropped = 0

  const act = (action: ScenarioAction) => {
    world.trace.record({ t: scheduler.now, kind: "scenario.event", action: action.type })
    switch (action.type) {
      case "byzantine":
        probe?.attackStarted(action.nodes, action.behavior, scheduler.now)
        for (const id of action.nodes) {
          byzantine.add(id)
          const slot = world.slots.get(id)!
          world.setOutbound(id, byzantineOutbound(action.behavior, {
            chainId: world.genesis.chainId,
            sign: (digest) => Effect.runSync(slot.keys.sign(digest)),
            later: (ms, fn) => void scheduler.after(ms, fn),
          }, action.delay))
        }
        return
      case "partition": return world.net.partition(action.groups)
      case "heal": return world.net.heal()
      case "crash":
        if (lm?.has(action.node)) return lm.crash(action.node)
        if (market?.has(action.node)) return market.crash(action.node)
        if (training?.world.isTrainer(action.node)) return training.world.crash(action.node)
        training?.world.validatorCrashed(action.node)
        return world.crash(action.node)
      case "restart":
        if (lm?.has(action.node)) return lm.restart(action.node)
        if (market?.has(action.node)) return market.restart(action.node)
        if (training?.world.isTrainer(action.node)) return training.world.restart(action.node)
        world.start(action.node)
        lm?.validatorRestarted(action.node)
        return market?.validatorRestarted(action.node)
      case "sybil-split": {
        // Measured on copies of an honest replica's ledger at this moment (sim/faults/governance.ts).
        byzantine.add(action.node)
        const honest = scenario.validators.filter((v) => !byzantine.has(v))
        // The split is measured against the honest validators' votes (and delegates to one of them).
        if (!honest.some((v) => world.app(v) !== undefined)) throw new Error(`sybil-split at ${scheduler.now} ms: no honest validator is running to vote against it`)
        sybil = sybilSplit({ economy: world.ledger.economy, attacker: action.node, honest, identities: action.identities, now: scheduler.now })
        world.trace.record({ t: scheduler.now, kind: "governance.sybil-split", node: action.node, identities: sybil.identities, gain: sybil.sybilGain })
        return
      }
      case "govern": return govern(action.name, action.value)
      case "join": {
        const refused = world.join(action.node, action.stake)
        world.trace.record({ t: scheduler.now, kind: "validator.join", node: action.node, stake: action.stake, ...(refused === undefined ? {} : { refused }) })
        return
      }
      case "leave": {
        const refused = world.leave(action.node)
        world.trace.record({ t: scheduler.now, kind: "validator.leave", node: action.node, ...(refused === undefined ? {} : { refused }) })
        return
      }
      case "train-fault":
        probe?.attackStarted(action.nodes, action.behavior, scheduler.now)
        for (const id of action.nodes) byzantine.add(id)
        return training?.world.setFault(action.nodes, action.behavior)
      case "market-fault":
        return market?.setBehavior(action.nodes, action.behavior)
      case "lm-fault":
        return lm?.setBehavior(action.nodes, action.behavior)
    }
  }

  /**
   * A parameter proposal on the ledger: the first honest running validator proposes, every honest
   * running validator votes for it, and it is executed once its voting period and timelock are over.
   */
  const govern = (name: string, value: number | boolean) => {
    const chain = world.ledger
    const honest = [...scenario.validators, ...scenario.joiners].filter((v) => !byzantine.has(v) && world.app(v) !== undefined)
    const said = (kind: string, data: Record<string, string | number | boolean>) => world.trace.record({ t: scheduler.now, kind, name, value, ...data })
    if (honest.length === 0) return said("governance.refused", { reason: "no honest validator is running to propose" })
    const proposed = Effect.runSync(Effect.result(chain.propose(honest[0]!, { kind: "param", name, value })))
    if (proposed._tag === "Failure") return said("governance.refused", { reason: proposed.failure.message })
    const id = proposed.success
    for (const v of honest) Effect.runSync(Effect.ignore(chain.castVote(id, v, "for")))
    const p = Effect.runSync(chain.proposal(id))
    said("governance.proposed", { proposal: id, executableAt: p?.executableAt ?? 0 })
    scheduler.at(Math.max(scheduler.now, (p?.executableAt ?? scheduler.now) + 1), () => {
      const r = Effect.runSync(Effect.result(chain.executeProposal(id)))
      said(r._tag === "Success" ? "governance.executed" : "governance.refused", r._tag === "Success" ? { proposal: id } : { proposal: id, reason: r.failure.message })
    })
  }

  const schedule = (at: Trigger, fire: () => void) => {
    if ("time" in at) scheduler.at(Math.max(at.time, scheduler.now), fire)
    else if ("height" in at) {
      if (at.height <= 0) scheduler.at(scheduler.now, fire)
      else heightWaiters.push({ height: at.height, fire })
    } else training!.onRound(at.round, fire)
  }

  let crashed: string | undefined
  try {
    world.startAll()
    probe.started()
    training = startTraining(world, scenario, seed, options.training)
    // With network.lmStages the market's providers and requesters are the pipeline's stage servers and clients.
    market = scenario.lm === undefined ? startMarketWorld({ world, scenario, seed, observe }) : undefined
    lm = startLmWorld({ world, scenario, seed, observe })
    if (lm !== undefined) options.onLm?.(lm)
    for (const e of scenario.events) schedule(e.at, () => act(e.action))
    const target = scenario.until
    const end = Math.min(target.time ?? Infinity, target.maxTime)
    scheduler.runUntil({
      time: end,
      predicate: () => world.errors.length > 0 || (target.height !== undefined && liveness.height() >= target.height)
        || (target.rounds !== undefined && (training?.world.completed ?? 0) >= target.rounds),
    })
  } catch (e) {
    crashed = (e as Error).stack ?? String(e)
  }
  const stats = world.net.stats()
  delivered = stats.delivered
  dropped = Object.values(stats.dropped).reduce((s, n) => s + n, 0)
  if (world.errors.length > 0 && crashed === undefined) crashed = world.errors.join("\n")

  const height = liveness.height()
  const trained = training === undefined ? undefined : trainingMetrics(training, scenario)
  const rounds = training?.world.completed ?? 0
  const marketProbe: MarketProbe | undefined = market === undefined ? undefined : {
    economy: () => world.ledger.economy, providers: market.setup.providers, byzantine: () => market!.byzantine, reexecute: unitResultHash,
    announced: market.announced,
  }
  const lmWorld = lm
  const lmProbe: LmProbe | undefined = lmWorld === undefined ? undefined : {
    economy: () => world.ledger.economy, books: lmWorld.books, served: () => lmWorld.served(), spoiled: lmWorld.spoiled,
    rangeOf: new Map(lmWorld.market.providers.map((p, i) => { const r = lmWorld.setup.ranges[lmWorld.setup.serves[i]!]!; return [p, `${r.from}-${r.to}`] as const })),
  }
  const pipelineMarket: MarketProbe | undefined = lmWorld === undefined ? undefined : {
    economy: () => world.ledger.economy, providers: lmWorld.market.providers, byzantine: () => lmWorld.byzantine, reexecute: lmWorld.reexecute,
  }
  const checkers: readonly Checker[] = [
    safety, liveness, slashing,
    supplyChecker(expected.supplyConserved, { supply: () => world.ledger.economy.supply() }),
    accuracyChecker(expected), economicsChecker(expected),
    membershipChecker(expected, {
      ids: () => [...scenario.validators, ...scenario.joiners], app: (id) => world.app(id), ledgerParams: () => world.ledger.economy.params,
    }),
    unpaidChecker(expected, {
      attempts: () => training?.world.byzantineRounds ?? [],
      ledger: () => scenario.validators.filter((v) => !byzantine.has(v)).map((v) => world.app(v)?.training).find((t) => t !== undefined),
    }),
    marketChecker(expected.market, marketProbe ?? pipelineMarket),
    lmChecker(expected, lmProbe),
  ]
  const expectations = checkers.flatMap((c) => c.expectations({ time: scheduler.now, rounds, accuracy: trained?.accuracy, sybil }))
  const outcome = verdictOf(expectations, crashed !== undefined)
  return {
    scenario: scenario.name,
    seed,
    passed: outcome === "passed",
    outcome,
    expectations,
    metrics: {
      height, time: scheduler.now, rounds, slashed: slashing.slashed(), safety: safety.conflicts().length === 0, commits, lastCommitAt,
      messagesDelivered: delivered, messagesDropped: dropped, invalidMessages: invalid, events: world.trace.count,
      ...probe.finish(byzantine, scheduler.now),
      ...trained,
      ...((marketProbe ?? pipelineMarket) === undefined ? {} : marketMetrics((marketProbe ?? pipelineMarket)!, scheduler.now)),
      ...(lmProbe === undefined ? {} : lmMetrics(lmProbe)),
      ...(sybil === undefined ? {} : { sybilGain: sybil.sybilGain, sybilRoi: sybil.sybilRoi, sybil }),
    },
    traceHash: world.trace.hash(),
    errors: crashed === undefined ? [] : [crashed],
  }
}

/** The `--json` object of scenarios/README.md (plus `outcome` and `errors`). */
export const reportJson = (r: ScenarioReport): string => JSON.stringify(r, null, 2)

const HEADLINE: Readonly<Record<Outcome, string>> = { passed: "PASSED", correctness: "FAILED (correctness)", liveness: "FAILED (liveness)", crash: "CRASHED" }

/** The report as people read it. */
export const formatScenarioReport = (r: ScenarioReport): string => {
  const lines = [
    `${HEADLINE[r.outcome]}  ${r.scenario}  (${seedBanner(r.seed)}, exit ${EXIT_CODES[r.outcome]})`,
    ...r.expectations.map((x) => `  ${x.passed ? "ok  " : "FAIL"}  ${x.name.padEnd(17)} ${x.passed ? "" : `[${x.kind}] `}${x.detail}`),
    `  height ${r.metrics.height}, ${(r.metrics.time / 1000).toFixed(1)}s virtual, ${r.metrics.commits} commits, slashed [${r.metrics.slashed.join(", ")}], ${r.metrics.messagesDelivered} messages delivered, ${r.metrics.messagesDropped} dropped, ${r.metrics.invalidMessages} invalid`,
    ...(r.metrics.accuracy === undefined ? [] : [`  training: ${r.metrics.rounds} rounds, accuracy ${r.metrics.accuracy.toFixed(4)}${r.metrics.epsilon === undefined ? "" : `, epsilon ${r.metrics.epsilon.toFixed(3)} at δ=1e-5`}${r.metrics.training ? `, ${r.metrics.training.roundsAborted} aborted, ${r.metrics.training.aggregator} on ${r.metrics.training.dataset} (${r.metrics.training.backend})` : ""}`]),
    `  economics: ${formatEconomics(r.metrics)}`,
    ...(r.metrics.marketJobs === undefined ? [] : [`  market: ${r.metrics.marketJobs} jobs, ${r.metrics.marketSettled} settled, ${r.metrics.marketExpired} expired, ${r.metrics.marketLost} lost, ${r.metrics.marketInFlight} running; paid ${r.metrics.marketPaid} tokens, fees burnt ${r.metrics.marketFeesBurnt}, to stakers ${r.metrics.marketFeesToStakers}; penalties ${r.metrics.marketPenalties} from [${(r.metrics.marketSlashed ?? []).join(", ")}], ${r.metrics.marketRefuted} jobs with a refuted result, ${r.metrics.marketWrongPaid} wrong results paid`]),
    ...(r.metrics.lmTokens === undefined ? [] : [`  lm: ${r.metrics.lmGenerations} generations (${r.metrics.lmGenerationsFailed} failed, ${r.metrics.lmRestarts} begun again), ${r.metrics.lmTokens} tokens, ${r.metrics.lmTokensPaid} paid at every stage, ${r.metrics.lmWrongTokens} through a wrong stage; ${r.metrics.lmFailovers} failovers; first token ${r.metrics.lmFirstTokenMs ?? "-"} ms, ${r.metrics.lmMsPerToken?.toFixed(1) ?? "-"} ms per token (median, virtual)`]),
    `  trace ${r.traceHash}`,
    ...r.errors.map((e) => `  error: ${e.split("\n").slice(0, 8).join("\n         ")}`),
  ]
  return lines.join("\n")
}
