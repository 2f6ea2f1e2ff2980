/**
 * Scenario loading: text (YAML or JSON) → a checked, normalised `Scenario`. Every problem is a
 * `FileError` that names the file and the key, and nothing runs until the whole file is valid.
 * Pure: the caller reads the file.
 */
import { Result } from "effect"
import { parseDuration } from "../../runtime/core/duration.ts"
import { resolveParams, type ParamName, type Params } from "../../runtime/core/params.ts"
import type { VoteRouting } from "../../runtime/core/consensus/aggregation.ts"
import { ScenarioFile, type ScenarioEvent } from "./schema.ts"
import { decodeFile, FileError } from "./decode-file.ts"
import { COORDINATOR_BEHAVIORS, TRAINING_BEHAVIORS, type CoordinatorBehavior, type TrainingBehavior } from "../faults/training.ts"
import { MARKET_PROVIDER_BEHAVIORS, MARKET_REQUESTER_BEHAVIORS, type MarketBehavior } from "../faults/market.ts"
import { parseMarket, type MarketSetup } from "./market-setup.ts"
import { LM_MARKET_BEHAVIORS, LM_STAGE_BEHAVIORS, type LmBehavior } from "../faults/lm.ts"
import { parseLm, type LmSetup } from "./lm-setup.ts"


export const CONSENSUS_BEHAVIORS = ["equivocate", "silent", "withhold", "delay"] as const
export const GOVERNANCE_BEHAVIORS = ["sybil-split"] as const
export type ConsensusBehavior = (typeof CONSENSUS_BEHAVIORS)[number]
// Training behaviours are listed beside their faults; re-exported for the scenario's readers.
export { COORDINATOR_BEHAVIORS, TRAINING_BEHAVIORS, type CoordinatorBehavior, type TrainingBehavior }

/** When an event fires: at a virtual time, when the chain reaches a height, or a training round. */
export type Trigger = { readonly time: number } | { readonly height: number } | { readonly round: number }

export type ScenarioAction =
  | { readonly type: "byzantine"; readonly nodes: readonly string[]; readonly behavior: ConsensusBehavior; readonly delay: number }
  /** Trainers that send corrupted updates, or validators that forge their rounds' results, from now on (sim/faults/training.ts). */
  | { readonly type: "train-fault"; readonly nodes: readonly string[]; readonly behavior: TrainingBehavior | CoordinatorBehavior }
  | { readonly type: "partition"; readonly groups: ReadonlyArray<readonly string[]> }
  | { readonly type: "heal" }
  | { readonly type: "crash"; readonly node: string }
  | { readonly type: "restart"; readonly node: string }
  /** A validator splits its stake over `identities` accounts to gain quadratic votes (sim/faults/governance.ts). */
  | { readonly type: "sybil-split"; readonly node: string; readonly identities: number }
  /** A parameter proposal every honest validator votes for, executed after the voting period and timelock. */
  | { readonly type: "govern"; readonly name: ParamName; readonly value: number | boolean }
  /** A new validator registers and bonds `stake` whole tokens on the ledger, then starts its node. */
  | { readonly type: "join"; readonly node: string; readonly stake: number }
  /** A validator unbonds all its stake on the ledger (it leaves the set at the next snapshot). */
  | { readonly type: "leave"; readonly node: string }
  /** Market providers or requesters behave so from now on (sim/faults/market.ts). */
  | { readonly type: "market-fault"; readonly nodes: readonly string[]; readonly behavior: MarketBehavior }
  /** Language-model stage servers or clients behave so from now on (sim/faults/lm.ts). */
  | { readonly type: "lm-fault"; readonly nodes: readonly string[]; readonly behavior: LmBehavior }

export interface Scenario {
  readonly file: string
  readonly name: string
  readonly description: string
  readonly seed: number
  readonly validators: readonly string[]
  readonly trainers: readonly string[]
  /** Whole tokens per validator, in validator order. */
  readonly stake: readonly number[]
  /** Whole tokens each trainer bonds as a contributor at genesis (0: staking.minContributorBond, the least a trainer bonds). */
  readonly trainerStake: number
  readonly latency: { readonly min: number; readonly max: number }
  readonly drop: number
  readonly duplicate: number
  /** How consensus votes travel (runtime/core/consensus/aggregation.ts). */
  readonly votes: VoteRouting
  /** Most training samples per trainer (real data sets). */
  readonly samplesPerTrainer: number
  /** Marked slow: `npm test` skips it unless DAI_SLOW_SCENARIOS=1. */
  readonly slow: boolean
  readonly params: Params
  readonly until: { readonly height?: number; readonly rounds?: number; readonly time?: number; readonly maxTime: number }
  /** Validators that join during the run (`join` events), in order: v4, v5, … after v0..v3. */
  readonly joiners: readonly string[]
  readonly events: ReadonlyArray<{ readonly at: Trigger; readonly action: ScenarioAction; readonly index: number }>
  /** The compute market (providers p0.., requesters r0..), when the network has one. */
  readonly market: MarketSetup | undefined
  /** The language model served by the market's providers in stages (`network.lmStages`), when there is one. */
  readonly lm: LmSetup | undefined
  readonly expect: typeof ScenarioFile.Type["expect"] & {}
}

const ms = (d: string): number => parseDuration(d)!

/** Parse and check a scenario. `file` is used in error messages only. */
export const parseScenario = (text: string, file: string): Scenario => {
  const decoded = decodeFile(ScenarioFile, text, file, "name, network, until, ...")
  if (Result.isFailure(decoded)) throw new FileError({ file, key: decoded.failure.key, reason: decoded.failure.message })
  const s = decoded.success
  const validators = Array.from({ length: s.network.validators }, (_, i) => `v${i}`)
  const trainers = Array.from({ length: s.network.trainers ?? 0 }, (_, i) => `t${i}`)
  // Validators that join later continue the sequence (v4 after v0..v3), in the order of their events.
  const joiners: string[] = []
  for (const [i, e] of (s.events ?? []).entries()) {
    if (e.join === undefined) continue
    const expected = `v${validators.length + joiners.length}`
    if (e.join.node !== expected) throw new FileError({ file, key: `events[${i}].join.node`, reason: `a joining validator continues the sequence: expected "${expected}", got "${e.join.node}"` })
    joiners.push(expected)
  }
  const market = parseMarket(s, file)
  const lm = parseLm(s, file, market)
  const nodes = new Set([...validators, ...joiners, ...trainers, ...(market?.providers ?? []), ...(market?.requesters ?? [])])
  const node = (key: string, id: string) => {
    if (!nodes.has(id)) {
      const more = `${trainers.length > 0 ? ` and t0..t${trainers.length - 1}` : ""}${market !== undefined && market.providers.length > 0 ? `, p0..p${market.providers.length - 1}` : ""}${market !== undefined && market.requesters.length > 0 ? `, r0..r${market.requesters.length - 1}` : ""}`
      throw new FileError({ file, key, reason: `unknown node "${id}" (this network has ${validators[0]}..${(joiners.at(-1) ?? validators.at(-1))}${more})` })
    }
    return id
  }

  const stake = s.network.stake === undefined ? validators.map(() => 1000)
    : typeof s.network.stake === "number" ? validators.map(() => s.network.stake as number)
    : [...s.network.stake]
  if (stake.length !== validators.length) throw new FileError({ file, key: "network.stake", reason: `expected one stake per validator (${validators.length}), got ${stake.length}` })

  const latency = s.network.latency === undefined ? { min: 10, max: 80 } : { min: ms(s.network.latency.min), max: ms(s.network.latency.max) }
  if (latency.min > latency.max) throw new FileError({ file, key: "network.latency", reason: `min (${s.network.latency?.min}) is above max (${s.network.latency?.max})` })

  const params = resolveParams(s.params ?? {})
  if (Result.isFailure(params)) {
    const e = params.failure
    const name = e._tag === "ParamConstraintViolated" ? e.names[0] : e.name
    throw new FileError({ file, key: `params.${name}`, reason: e.message })
  }

  const minBond = params.success["staking.minValidatorBond"]
  const low = stake.findIndex((x) => x < minBond)
  if (low !== -1) {
    throw new FileError({ file, key: typeof s.network.stake === "object" ? `network.stake[${low}]` : "network.stake", reason: `${stake[low]} tokens is below staking.minValidatorBond (${minBond})` })
  }

  const trainerStake = s.network.trainerStake ?? 0
  if (trainerStake > 0 && trainers.length === 0) throw new FileError({ file, key: "network.trainerStake", reason: "a trainer stake needs trainers (network.trainers)" })
  const minContributorBond = params.success["staking.minContributorBond"]
  if (trainerStake > 0 && trainerStake < minContributorBond) {
    throw new FileError({ file, key: "network.trainerStake", reason: `${trainerStake} tokens is below staking.minContributorBond (${minContributorBond})` })
  }

  const targets = [s.until.height, s.until.rounds, s.until.time].filter((x) => x !== undefined)
  if (targets.length !== 1) throw new FileError({ file, key: "until", reason: "expected exactly one of height, rounds or time" })
  if (s.until.rounds !== undefined && trainers.length === 0) throw new FileError({ file, key: "until.rounds", reason: "training rounds need trainers (network.trainers)" })
  const until = {
    ...(s.until.height !== undefined ? { height: s.until.height } : {}),
    ...(s.until.rounds !== undefined ? { rounds: s.until.rounds } : {}),
    ...(s.until.time !== undefined ? { time: ms(s.until.time) } : {}),
    maxTime: s.until.maxTime !== undefined ? ms(s.until.maxTime) : s.until.time !== undefined ? ms(s.until.time) : 3_600_000,
  }

  /** One parameter's value as the registry resolves it next to the scenario's own (durations in ms). */
  const resolveOne = (key: string, name: string, value: unknown): number | boolean => {
    const r = resolveParams({ ...(s.params ?? {}), [name]: value })
    if (Result.isFailure(r)) {
      const e = r.failure
      throw new FileError({ file, key: `${key}.${e._tag === "ParamConstraintViolated" ? e.names[0] : e.name}`, reason: e.message })
    }
    return r.success[name as ParamName] as number | boolean
  }
  const events = (s.events ?? []).map((e, index) => {
    const key = `events[${index}]`
    const at = trigger(file, `${key}.at`, e)
    const kinds = (["byzantine", "partition", "heal", "crash", "restart", "govern", "join", "leave"] as const).filter((k) => e[k] !== undefined)
    if (kinds.length > 1) throw new FileError({ file, key, reason: `expected exactly one of byzantine, partition, heal, crash, restart, govern, join, leave (got ${kinds.join(", ")})` })
    if (e.govern !== undefined) {
      const entries = Object.entries(e.govern)
      if (entries.length !== 1) throw new FileError({ file, key: `${key}.govern`, reason: `expected exactly one parameter (name: value), got ${entries.length}` })
      const [name, value] = entries[0]!
      return { at, action: { type: "govern" as const, name: name as ParamName, value: resolveOne(`${key}.govern`, name, value) }, index }
    }
    if (e.join !== undefined) {
      if (e.join.stake < minBond) throw new FileError({ file, key: `${key}.join.stake`, reason: `${e.join.stake} tokens is below staking.minValidatorBond (${minBond})` })
      return { at, action: { type: "join" as const, node: e.join.node, stake: e.join.stake }, index }
    }
    if (e.leave !== undefined) {
      const id = node(`${key}.leave`, e.leave)
      if (!id.startsWith("v")) throw new FileError({ file, key: `${key}.leave`, reason: `${id} is not a validator` })
      return { at, action: { type: "leave" as const, node: id }, index }
    }
    const act = action(file, key, e, node)
    if (act.type === "lm-fault" && lm === undefined) throw new FileError({ file, key: `${key}.byzantine.behavior`, reason: `"${act.behavior}" is a language-model stage's behaviour: it needs network.lmStages` })
    if (act.type === "market-fault" && lm !== undefined) {
      // In a pipeline the market's nodes are stage servers and clients: only the behaviours that mean something there.
      if (!(LM_MARKET_BEHAVIORS as readonly string[]).includes(act.behavior)) throw new FileError({ file, key: `${key}.byzantine.behavior`, reason: `"${act.behavior}" is not a behaviour of a pipeline's stage servers or clients (known with network.lmStages: ${[...LM_STAGE_BEHAVIORS, ...LM_MARKET_BEHAVIORS].join(", ")})` })
      return { at, action: { type: "lm-fault" as const, nodes: act.nodes, behavior: act.behavior as LmBehavior }, index }
    }
    return { at, action: act, index }
  })
  const expectedParams = Object.fromEntries(Object.entries(s.expect?.params ?? {}).map(([name, value]) => [name, resolveOne("expect.params", name, value)]))
  for (const [i, id] of (s.expect?.validators?.includes ?? []).entries()) node(`expect.validators.includes[${i}]`, id)
  for (const [i, id] of (s.expect?.validators?.excludes ?? []).entries()) node(`expect.validators.excludes[${i}]`, id)
  for (const id of s.expect?.slashed ?? []) node("expect.slashed", id)
  for (const [i, id] of (s.expect?.unpaid ?? []).entries()) {
    if (!node(`expect.unpaid[${i}]`, id).startsWith("v")) throw new FileError({ file, key: `expect.unpaid[${i}]`, reason: `${id} is not a validator: only a validator coordinates a round, and is paid or not for it` })
  }
  if (s.expect?.unpaid !== undefined && trainers.length === 0) throw new FileError({ file, key: "expect.unpaid", reason: "rounds need trainers (network.trainers)" })
  if (s.expect?.market !== undefined) {
    if (market === undefined) throw new FileError({ file, key: "expect.market", reason: "a market expectation needs a market (network.providers and network.requesters)" })
    for (const [i, id] of (s.expect.market.slashed ?? []).entries()) if (!market.providers.includes(node(`expect.market.slashed[${i}]`, id))) throw new FileError({ file, key: `expect.market.slashed[${i}]`, reason: `${id} is not a provider (p0, p1, ...)` })
    for (const [i, id] of (s.expect.market.unpaid ?? []).entries()) if (!market.providers.includes(node(`expect.market.unpaid[${i}]`, id))) throw new FileError({ file, key: `expect.market.unpaid[${i}]`, reason: `${id} is not a provider (p0, p1, ...)` })
  }
  if (s.expect?.minTokens !== undefined && lm === undefined) throw new FileError({ file, key: "expect.minTokens", reason: "tokens need a language model (network.lmStages)" })
  if (s.expect?.lm !== undefined) {
    if (lm === undefined) throw new FileError({ file, key: "expect.lm", reason: "a pipeline expectation needs a language model (network.lmStages)" })
    for (const id of Object.keys(s.expect.lm.maxShare ?? {})) if (!market!.providers.includes(node(`expect.lm.maxShare.${id}`, id))) throw new FileError({ file, key: `expect.lm.maxShare.${id}`, reason: `${id} is not a provider (p0, p1, ...)` })
  }
  if (market !== undefined) {
    const end = until.time ?? until.maxTime
    if (market.stopPostingAt(params.success["market.disputeWindow"], end) <= 0) {
      throw new FileError({ file, key: "until", reason: `the run (${end} ms) is too short for one job to end: a job takes up to network.jobDeadline (${market.jobDeadline} ms) + 2 × market.disputeWindow (${params.success["market.disputeWindow"]} ms)` })
    }
    const minBond = params.success["market.minProviderBond"]
    if (market.bond > 0 && market.bond < minBond) throw new FileError({ file, key: "network.providerBond", reason: `${market.bond} tokens is below market.minProviderBond (${minBond})` })
  }
  if (s.expect?.minAccuracy !== undefined && trainers.length === 0) throw new FileError({ file, key: "expect.minAccuracy", reason: "accuracy needs trainers (network.trainers)" })
  if (s.expect?.maxAccuracy !== undefined && trainers.length === 0) throw new FileError({ file, key: "expect.maxAccuracy", reason: "accuracy needs trainers (network.trainers)" })
  events.forEach((e, i) => {
    if ("round" in e.at && trainers.length === 0) throw new FileError({ file, key: `events[${i}].at.round`, reason: "round triggers need trainers (network.trainers)" })
  })

  return {
    file,
    name: s.name,
    description: s.description ?? "",
    seed: s.seed ?? 0,
    validators,
    trainers,
    stake,
    trainerStake,
    latency,
    drop: s.network.drop ?? 0,
    duplicate: s.network.duplicate ?? 0,
    votes: s.network.votes ?? "aggregated",
    samplesPerTrainer: s.network.samplesPerTrainer ?? 600,
    slow: s.slow ?? false,
    params: params.success,
    until,
    joiners,
    events,
    market,
    lm,
    expect: { ...(s.expect ?? {}), ...(s.expect?.params === undefined ? {} : { params: expectedParams }) },
  }
}

const trigger = (file: string, key: string, e: ScenarioEvent): Trigger => {
  const set = (["time", "height", "round"] as const).filter((k) => e.at[k] !== undefined)
  if (set.length !== 1) throw new FileError({ file, key, reason: "expected exactly one of time, height or round" })
  if (e.at.time !== undefined) return { time: ms(e.at.time) }
  if (e.at.height !== undefined) return { height: e.at.height }
  return { round: e.at.round! }
}

const action = (file: string, key: string, e: ScenarioEvent, node: (key: string, id: string) => string): ScenarioAction => {
  const set = (["byzantine", "partition", "heal", "crash", "restart", "govern", "join", "leave"] as const).filter((k) => e[k] !== undefined)
  if (set.length !== 1) throw new FileError({ file, key, reason: `expected exactly one of byzantine, partition, heal, crash, restart, govern, join, leave${set.length > 1 ? ` (got ${set.join(", ")})` : ""}` })
  if (e.byzantine !== undefined) {
    const b = e.byzantine
    const behavior = b.behavior
    if ((GOVERNANCE_BEHAVIORS as readonly string[]).includes(behavior)) {
      if (b.nodes.length !== 1) throw new FileError({ file, key: `${key}.byzantine.nodes`, reason: `"${behavior}" takes exactly one validator (the one that splits its stake)` })
      const id = node(`${key}.byzantine.nodes[0]`, b.nodes[0]!)
      if (!id.startsWith("v")) throw new FileError({ file, key: `${key}.byzantine.nodes[0]`, reason: `"${behavior}" splits a validator's stake, and ${id} is not a validator` })
      if (b.identities === undefined) throw new FileError({ file, key: `${key}.byzantine.identities`, reason: `"${behavior}" needs identities: N (2 or more), the accounts the stake is split over` })
      return { type: "sybil-split", node: id, identities: b.identities }
    }
    if ((LM_STAGE_BEHAVIORS as readonly string[]).includes(behavior)) {
      if (b.nodes.length === 0) throw new FileError({ file, key: `${key}.byzantine.nodes`, reason: "expected at least one node" })
      const nodes = b.nodes.map((n, i) => {
        const id = node(`${key}.byzantine.nodes[${i}]`, n)
        if (!id.startsWith("p")) throw new FileError({ file, key: `${key}.byzantine.nodes[${i}]`, reason: `"${behavior}" is a stage server's behaviour, and ${id} is not a provider (p0, p1, ...)` })
        return id
      })
      return { type: "lm-fault", nodes, behavior: behavior as LmBehavior }
    }
    const market = [...MARKET_PROVIDER_BEHAVIORS, ...MARKET_REQUESTER_BEHAVIORS] as readonly string[]
    if (market.includes(behavior)) {
      if (b.nodes.length === 0) throw new FileError({ file, key: `${key}.byzantine.nodes`, reason: "expected at least one node" })
      const provider = (MARKET_PROVIDER_BEHAVIORS as readonly string[]).includes(behavior)
      const nodes = b.nodes.map((n, i) => {
        const id = node(`${key}.byzantine.nodes[${i}]`, n)
        if (!id.startsWith(provider ? "p" : "r")) throw new FileError({ file, key: `${key}.byzantine.nodes[${i}]`, reason: `"${behavior}" is a market ${provider ? "provider's" : "requester's"} behaviour, and ${id} is not a ${provider ? "provider (p0, p1, ...)" : "requester (r0, r1, ...)"}` })
        return id
      })
      return { type: "market-fault", nodes, behavior: behavior as MarketBehavior }
    }
    if ((COORDINATOR_BEHAVIORS as readonly string[]).includes(behavior)) {
      if (b.nodes.length === 0) throw new FileError({ file, key: `${key}.byzantine.nodes`, reason: "expected at least one node" })
      const nodes = b.nodes.map((n, i) => {
        const id = node(`${key}.byzantine.nodes[${i}]`, n)
        if (!id.startsWith("v")) throw new FileError({ file, key: `${key}.byzantine.nodes[${i}]`, reason: `"${behavior}" is a coordinator's behaviour, and ${id} is not a validator` })
        return id
      })
      return { type: "train-fault", nodes, behavior: behavior as CoordinatorBehavior }
    }
    if ((TRAINING_BEHAVIORS as readonly string[]).includes(behavior)) {
      if (b.nodes.length === 0) throw new FileError({ file, key: `${key}.byzantine.nodes`, reason: "expected at least one node" })
      const nodes = b.nodes.map((n, i) => {
        const id = node(`${key}.byzantine.nodes[${i}]`, n)
        if (!id.startsWith("t")) throw new FileError({ file, key: `${key}.byzantine.nodes[${i}]`, reason: `"${behavior}" is a training behaviour, and ${id} is not a trainer (t0, t1, ...)` })
        return id
      })
      return { type: "train-fault", nodes, behavior: behavior as TrainingBehavior }
    }
    if (!(CONSENSUS_BEHAVIORS as readonly string[]).includes(behavior)) {
      throw new FileError({ file, key: `${key}.byzantine.behavior`, reason: `unknown behaviour "${behavior}" (known: ${[...CONSENSUS_BEHAVIORS, ...TRAINING_BEHAVIORS, ...COORDINATOR_BEHAVIORS, ...GOVERNANCE_BEHAVIORS, ...MARKET_PROVIDER_BEHAVIORS, ...MARKET_REQUESTER_BEHAVIORS, ...LM_STAGE_BEHAVIORS].join(", ")})` })
    }
    if (b.nodes.length === 0) throw new FileError({ file, key: `${key}.byzantine.nodes`, reason: "expected at least one node" })
    return {
      type: "byzantine",
      nodes: b.nodes.map((n, i) => {
        const id = node(`${key}.byzantine.nodes[${i}]`, n)
        if (!id.startsWith("v")) throw new FileError({ file, key: `${key}.byzantine.nodes[${i}]`, reason: `"${behavior}" is a consensus behaviour, and ${id} is not a validator` })
        return id
      }),
      behavior: behavior as ConsensusBehavior,
      delay: b.delay !== undefined ? ms(b.delay) : 2_000,
    }
  }
  if (e.partition !== undefined) {
    const seen = new Set<string>()
    const groups = e.partition.map((g, gi) => g.map((n, ni) => {
      const id = node(`${key}.partition[${gi}][${ni}]`, n)
      if (seen.has(id)) throw new FileError({ file, key: `${key}.partition[${gi}][${ni}]`, reason: `node "${id}" is in two groups` })
      seen.add(id)
      return id
    }))
    if (groups.length < 2) throw new FileError({ file, key: `${key}.partition`, reason: "expected at least two groups" })
    return { type: "partition", groups }
  }
  if (e.heal !== undefined) return { type: "heal" }
  if (e.crash !== undefined) return { type: "crash", node: node(`${key}.crash`, e.crash) }
  return { type: "restart", node: node(`${key}.restart`, e.restart!) }
}
