/**
 * The scenario runner: builds the world, schedules the scenario's events, runs until the target or
 * maxTime of virtual time, then checks the expectations with separate checkers (safety, liveness,
 * slashing, supply). Same scenario and seed, same trace hash.
 */
import { Effect } from "effect"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { byzantineOutbound } from "../faults/consensus.ts"
import { seedBanner } from "../kernel/seed.ts"
import type { Scenario, ScenarioAction, Trigger } from "./load.ts"
import { EconomicProbe, formatEconomics, type EconomicMetrics } from "./metrics.ts"
import { checkAccuracy, startTraining, trainingMetrics, type TrainingMetrics, type TrainingRun } from "./training-run.ts"
import type { TrainingSetup } from "./training-setup.ts"
import { ConsensusWorld } from "../world/world.ts"
import { sybilSplit, type SybilSplitResult } from "../faults/governance.ts"

export interface Expectation {
  readonly name: string
  readonly passed: boolean
  readonly detail: string
}

export interface ScenarioReport {
  readonly scenario: string
  readonly seed: number
  readonly passed: boolean
  /** `passed`, `failed` (an expectation does not hold) or `crashed` (the run threw). */
  readonly outcome: "passed" | "failed" | "crashed"
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
  } & EconomicMetrics & Partial<TrainingMetrics> & { readonly sybilGain?: number; readonly sybilRoi?: number; readonly sybil?: SybilSplitResult }
  readonly traceHash: string
  readonly errors: readonly string[]
}

export interface RunOptions {
  readonly seed?: number
  readonly sink?: (line: string) => void
  readonly signatures?: "simulated" | "secp256k1"
  /** The trainers of a scenario with training (`prepareTraining`); synthetic ones are built when absent. */
  readonly training?: TrainingSetup
  /** Sees the world once it is built (tests read its replicas at the end). */
  readonly onWorld?: (world: ConsensusWorld) => void
}

/** Run a loaded scenario to its end; never throws for what happens inside the world. */
export const runScenario = (scenario: Scenario, options: RunOptions = {}): ScenarioReport => {
  const seed = options.seed ?? scenario.seed
  const byzantine = new Set<string>()
  /** Committed block hash by height, and who committed what (the safety checker). */
  const committed = new Map<number, string>()
  const conflicts: string[] = []
  const heights = new Map<string, number>()
  const slashedPools = new Set<string>()
  let commits = 0
  let lastCommitAt = 0
  let invalid = 0
  const heightWaiters: Array<{ height: number; fire: () => void }> = []

  let probe: EconomicProbe | undefined
  const observe = (e: TelemetryEvent) => {
    probe?.observe(e)
    if (e.kind === "block.committed") {
      commits++
      const h = e.data.height as number
      const hash = e.data.hash as string
      const prior = committed.get(h)
      if (prior === undefined) committed.set(h, hash)
      else if (prior !== hash) conflicts.push(`height ${h}: ${e.node} committed ${hash.slice(0, 10)}…, another node ${prior.slice(0, 10)}…`)
      heights.set(e.node, Math.max(heights.get(e.node) ?? 0, h))
      if (!byzantine.has(e.node)) lastCommitAt = e.at
      for (const p of e.data.slashed as string[]) slashedPools.add(p)
      training?.world.onBlock()
      for (let i = heightWaiters.length - 1; i >= 0; i--) {
        if (maxHonestHeight() >= heightWaiters[i]!.height) heightWaiters.splice(i, 1)[0]!.fire()
      }
    } else if (e.kind === "net.invalid") invalid++
  }
  const maxHonestHeight = () => {
    let m = 0
    for (const [node, h] of heights) if (!byzantine.has(node) && h > m) m = h
    return m
  }

  const world = new ConsensusWorld({ scenario, seed, observe, ...(options.sink ? { sink: options.sink } : {}), ...(options.signatures ? { signatures: options.signatures } : {}) })
  const { scheduler } = world
  options.onWorld?.(world)
  probe = new EconomicProbe({ ids: scenario.validators, app: (id) => world.app(id) })
  let training: TrainingRun | undefined
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
        if (training?.world.isTrainer(action.node)) return training.world.crash(action.node)
        training?.world.validatorCrashed(action.node)
        return world.crash(action.node)
      case "restart": return training?.world.isTrainer(action.node) ? training.world.restart(action.node) : world.start(action.node)
      case "sybil-split": {
        // Measured on copies of an honest replica's ledger at this moment (sim/faults/governance.ts).
        byzantine.add(action.node)
        const honest = scenario.validators.filter((v) => !byzantine.has(v))
        const replica = honest.map((v) => world.app(v)).find((a) => a !== undefined)
        if (replica === undefined) throw new Error(`sybil-split at ${scheduler.now} ms: no honest validator is running to read the ledger from`)
        sybil = sybilSplit({ economy: replica.economy, attacker: action.node, honest, identities: action.identities, now: scheduler.now })
        world.trace.record({ t: scheduler.now, kind: "governance.sybil-split", node: action.node, identities: sybil.identities, gain: sybil.sybilGain })
        return
      }
      case "train-fault":
        probe?.attackStarted(action.nodes, action.behavior, scheduler.now)
        for (const id of action.nodes) byzantine.add(id)
        return training?.world.setFault(action.nodes, action.behavior)
    }
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
    for (const e of scenario.events) schedule(e.at, () => act(e.action))
    const target = scenario.until
    const end = Math.min(target.time ?? Infinity, target.maxTime)
    scheduler.runUntil({
      time: end,
      predicate: () => world.errors.length > 0 || (target.height !== undefined && maxHonestHeight() >= target.height)
        || (target.rounds !== undefined && (training?.world.completed ?? 0) >= target.rounds),
    })
  } catch (e) {
    crashed = (e as Error).stack ?? String(e)
  }
  const stats = world.net.stats()
  delivered = stats.delivered
  dropped = Object.values(stats.dropped).reduce((s, n) => s + n, 0)
  if (world.errors.length > 0 && crashed === undefined) crashed = world.errors.join("\n")

  const height = maxHonestHeight()
  const slashedIds = [...slashedPools].sort()
  const trained = training === undefined ? undefined : trainingMetrics(training, scenario)
  const rounds = training?.world.completed ?? 0
  const expectations = check(scenario, world, { conflicts, height, slashedIds, byzantine, trained, rounds, sybil })
  const passed = crashed === undefined && expectations.every((x) => x.passed)
  return {
    scenario: scenario.name,
    seed,
    passed,
    outcome: crashed !== undefined ? "crashed" : passed ? "passed" : "failed",
    expectations,
    metrics: {
      height, time: scheduler.now, rounds, slashed: slashedIds, safety: conflicts.length === 0, commits, lastCommitAt,
      messagesDelivered: delivered, messagesDropped: dropped, invalidMessages: invalid, events: world.trace.count,
      ...probe.finish(byzantine, scheduler.now),
      ...trained,
      ...(sybil === undefined ? {} : { sybilGain: sybil.sybilGain, sybilRoi: sybil.sybilRoi, sybil }),
    },
    traceHash: world.trace.hash(),
    errors: crashed === undefined ? [] : [crashed],
  }
}

/** The expectation checkers: each returns whether it holds and why. */
const check = (
  scenario: Scenario,
  world: ConsensusWorld,
  r: { conflicts: string[]; height: number; slashedIds: string[]; byzantine: Set<string>; trained: TrainingMetrics | undefined; rounds: number; sybil: SybilSplitResult | undefined },
): Expectation[] => {
  const e = scenario.expect
  const out: Expectation[] = []
  if (e.safety !== undefined) {
    out.push({ name: "safety", passed: (r.conflicts.length === 0) === e.safety, detail: r.conflicts.length === 0 ? "no two different blocks committed at one height" : r.conflicts.slice(0, 3).join("; ") })
  }
  if (e.minHeight !== undefined) out.push({ name: "minHeight", passed: r.height >= e.minHeight, detail: `reached height ${r.height}, expected at least ${e.minHeight}` })
  if (e.slashed !== undefined) {
    const missing = e.slashed.filter((id) => !r.slashedIds.includes(id))
    out.push({ name: "slashed", passed: missing.length === 0, detail: missing.length === 0 ? `slashed: ${r.slashedIds.join(", ") || "none"}` : `not slashed: ${missing.join(", ")} (slashed: ${r.slashedIds.join(", ") || "none"})` })
  }
  if (e.honestNotSlashed !== undefined) {
    const honestSlashed = r.slashedIds.filter((id) => !r.byzantine.has(id))
    out.push({ name: "honestNotSlashed", passed: (honestSlashed.length === 0) === e.honestNotSlashed, detail: honestSlashed.length === 0 ? "no honest validator lost stake" : `honest validators slashed: ${honestSlashed.join(", ")}` })
  }
  if (e.supplyConserved !== undefined) {
    const broken: string[] = []
    for (const id of scenario.validators) {
      const app = world.app(id)
      if (app === undefined) continue
      const s = app.economy.supply()
      if (s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt !== s.minted) broken.push(id)
    }
    out.push({ name: "supplyConserved", passed: (broken.length === 0) === e.supplyConserved, detail: broken.length === 0 ? "minted = balances + bonded + unbonding + pools + burnt on every running node" : `broken on ${broken.join(", ")}` })
  }
  if (e.minAccuracy !== undefined) out.push(checkAccuracy("minAccuracy", e.minAccuracy, r.trained, r.rounds))
  if (e.maxAccuracy !== undefined) out.push(checkAccuracy("maxAccuracy", e.maxAccuracy, r.trained, r.rounds))
  if (e.maxSybilGain !== undefined) {
    const s = r.sybil
    out.push({
      name: "maxSybilGain", passed: s !== undefined && s.sybilGain <= e.maxSybilGain,
      detail: s === undefined ? "no sybil-split happened" : `splitting ${s.stake} tokens over ${s.identities} identities (${s.identitiesRequested} asked, minimum bond ${s.minIdentityBond}) gave ${s.sybilGain.toFixed(3)}× the votes (${s.quadratic ? `quadratic: √N = ${s.theoreticalGain.toFixed(3)}` : "linear votes: 1"}), at most ${e.maxSybilGain} expected${s.outcomeFlipped ? "; it turned the vote" : ""}`,
    })
  }
  return out
}

/** The `--json` object of SCENARIOS.md (plus `outcome` and `errors`). */
export const reportJson = (r: ScenarioReport): string => JSON.stringify(r, null, 2)

/** The report as people read it. */
export const formatScenarioReport = (r: ScenarioReport): string => {
  const lines = [
    `${r.passed ? "PASSED" : r.outcome === "crashed" ? "CRASHED" : "FAILED"}  ${r.scenario}  (${seedBanner(r.seed)})`,
    ...r.expectations.map((x) => `  ${x.passed ? "ok  " : "FAIL"}  ${x.name.padEnd(17)} ${x.detail}`),
    `  height ${r.metrics.height}, ${(r.metrics.time / 1000).toFixed(1)}s virtual, ${r.metrics.commits} commits, slashed [${r.metrics.slashed.join(", ")}], ${r.metrics.messagesDelivered} messages delivered, ${r.metrics.messagesDropped} dropped, ${r.metrics.invalidMessages} invalid`,
    ...(r.metrics.accuracy === undefined ? [] : [`  training: ${r.metrics.rounds} rounds, accuracy ${r.metrics.accuracy.toFixed(4)}${r.metrics.epsilon === undefined ? "" : `, epsilon ${r.metrics.epsilon.toFixed(3)} at δ=1e-5`}${r.metrics.training ? `, ${r.metrics.training.roundsAborted} aborted, ${r.metrics.training.aggregator} on ${r.metrics.training.dataset} (${r.metrics.training.backend})` : ""}`]),
    `  economics: ${formatEconomics(r.metrics)}`,
    `  trace ${r.traceHash}`,
    ...r.errors.map((e) => `  error: ${e.split("\n").slice(0, 8).join("\n         ")}`),
  ]
  return lines.join("\n")
}
