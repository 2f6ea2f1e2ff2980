/**
 * The TUI's view model: a pure reducer over telemetry events (docs/telemetry.md lists the kinds it
 * understands). No I/O, no blessed: the same function serves a live node, a replayed trace and the
 * tests. It never throws: a malformed field reads as missing, an unknown kind becomes a log line,
 * and every list is bounded so a node that runs for weeks keeps a constant-size model.
 */
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { votesText } from "./format.ts"
import { amount, bool, count, describe, firstAmount, list, num, record, str } from "./fields.ts"
import { marketView, type MarketView } from "./market-model.ts"
import { initialLm, reduceLm, type LmView } from "./lm-model.ts"
import { phrase } from "./phrases.ts"
import { items, last, push, replaceLast, ring, type Ring } from "./ring.ts"

export type LogLevel = "debug" | "info" | "warn" | "error"

export interface LogLine {
  readonly at: number
  readonly node: string
  readonly level: LogLevel
  readonly text: string
}

export interface ValidatorRow {
  /** Address or name as the events give it; the key of the row. */
  readonly id: string
  /** A friendlier name (the node name from `node.started`), if known. */
  readonly name: string | undefined
  readonly power: number | undefined
  readonly stake: bigint | undefined
  readonly contribution: number | undefined
  readonly missed: number | undefined
  readonly jailed: boolean
  /** Blocks this validator proposed, as seen in our own commits. */
  readonly proposed: number
  /** Total slashed from it, as seen in `stake.slashed`. */
  readonly slashed: bigint
}

export interface RoundPoint {
  readonly round: number
  readonly accuracy: number | undefined
  readonly loss: number | undefined
}

export interface Training {
  readonly round: number | undefined
  readonly state: "idle" | "open" | "completed"
  readonly cohort: number | undefined
  readonly received: number | undefined
  readonly myScore: number | undefined
  /** Privacy spent so far; undefined when differential privacy is off (or never reported). */
  readonly epsilon: number | undefined
  readonly delta: number | undefined
  /** Accuracy and loss per completed round, oldest first (the chart's series). */
  readonly history: Ring<RoundPoint>
}

export type ProposalId = string | number

export interface ProposalRow {
  readonly id: ProposalId
  readonly title: string
  readonly state: string
  /** Quadratic vote tallies (votes, not tokens). */
  readonly forVotes: bigint
  readonly againstVotes: bigint
  readonly abstainVotes: bigint
  readonly endsAt: number | undefined
  /** What we voted, once we did. */
  readonly myVote: string | undefined
}

export interface ViewModel {
  /** The node whose view this is; events of other nodes only feed the shared parts (validators, proposals, rounds) and the log. */
  readonly self: string | undefined
  readonly address: string | undefined
  /** Time of the latest event (ms: virtual in a replay, Unix for a live node). */
  readonly now: number
  readonly events: number
  readonly height: number
  readonly round: number | undefined
  readonly step: string | undefined
  readonly peers: number | undefined
  readonly lastBlock: { readonly hash: string | undefined; readonly proposer: string | undefined; readonly txs: number | undefined; readonly at: number } | undefined
  readonly myStake: bigint | undefined
  readonly rewards: bigint | undefined
  /** Annual percentage rate as a fraction (0.125 = 12.5 %). */
  readonly apr: number | undefined
  /** What each of my positions is doing, by position id (its staking machine's phrase), newest first; at most 8. */
  readonly positions: readonly { readonly id: string; readonly state: string }[]
  /** Node names by address, from `node.started` (so tables say v1, not 0x7152…). */
  readonly names: Readonly<Record<string, string>>
  readonly validators: readonly ValidatorRow[]
  readonly training: Training
  readonly proposals: readonly ProposalRow[]
  readonly log: Ring<LogLine>
  /** Each node's latest committed height: a `stake.slashed` follows its node's `block.committed`, which dates it. */
  readonly committed: Readonly<Record<string, number>>
  /** Slashes already counted (`pool@height/infraction`, newest last): every node reports the same slash, it counts once. */
  readonly slashes: Ring<string>
  /** The compute market as our node's ledger last showed it (`market` events); undefined until one came. */
  readonly market: MarketView | undefined
  /** The language model: the block ranges our node serves and its generations (`lm.*` events). */
  readonly lm: LmView
}

/** Bounds that keep the model a constant size. */
export const LIMITS = { log: 500, rounds: 200, validators: 1000, proposals: 100, names: 1000, slashes: 200 } as const

/** The model before any event; `self` names the node whose view it is (else the first node seen). */
export const initialModel = (self?: string): ViewModel => ({
  self,
  address: undefined,
  now: 0,
  events: 0,
  height: 0,
  round: undefined,
  step: undefined,
  peers: undefined,
  lastBlock: undefined,
  myStake: undefined,
  rewards: undefined,
  apr: undefined,
  positions: [],
  names: {},
  validators: [],
  training: { round: undefined, state: "idle", cohort: undefined, received: undefined, myScore: undefined, epsilon: undefined, delta: undefined, history: ring(LIMITS.rounds) },
  proposals: [],
  log: ring(LIMITS.log),
  committed: {},
  slashes: ring(LIMITS.slashes),
  market: undefined,
  lm: initialLm,
})

type Data = Readonly<Record<string, unknown>>

const NO_DATA: Data = {}

/** Reduce one event into the model. Pure; never throws, whatever the event holds. */
export const reduce = (model: ViewModel, event: TelemetryEvent): ViewModel => {
  const e = sane(event)
  if (e === undefined) return logged({ ...model, events: model.events + 1 }, { at: model.now, node: "?", level: "warn", text: "malformed telemetry event ignored" })
  const base: ViewModel = {
    ...model,
    events: model.events + 1,
    now: Math.max(model.now, e.at),
    self: model.self ?? (e.node === "" ? undefined : e.node),
  }
  try {
    return apply(base, e)
  } catch (err) {
    // Readers never throw; this is the last guard so a bug in one branch cannot take the TUI down.
    return logged(base, { at: e.at, node: e.node, level: "error", text: `could not show ${e.kind}: ${String(err)}` })
  }
}

/** Reduce many events. */
export const reduceAll = (model: ViewModel, events: Iterable<TelemetryEvent>): ViewModel => {
  let m = model
  for (const e of events) m = reduce(m, e)
  return m
}

interface Event {
  readonly at: number
  readonly node: string
  readonly kind: string
  readonly data: Data
}

const sane = (event: unknown): Event | undefined => {
  const e = record(event)
  if (e === undefined || typeof e.kind !== "string") return undefined
  const at = typeof e.at === "number" && Number.isFinite(e.at) ? e.at : 0
  return { at, node: typeof e.node === "string" ? e.node : "", kind: e.kind, data: record(e.data) ?? NO_DATA }
}

const logged = (m: ViewModel, line: LogLine): ViewModel => ({ ...m, log: push(m.log, line) })

const line = (e: Event, level: LogLevel, text: string): LogLine => ({ at: e.at, node: e.node, level, text })

const levelOf = (v: unknown): LogLevel => (v === "debug" || v === "info" || v === "warn" || v === "error" ? v : "info")

const apply = (m: ViewModel, e: Event): ViewModel => {
  const mine = m.self === undefined || e.node === m.self || e.node === ""
  const d = e.data
  switch (e.kind) {
    case "node.started": {
      const address = str(d, "address")
      const names = address !== undefined && e.node !== "" && Object.keys(m.names).length < LIMITS.names ? { ...m.names, [address]: e.node } : m.names
      const next = { ...m, names, validators: m.validators.map((v) => (v.id === address ? { ...v, name: e.node } : v)) }
      return logged(mine ? { ...next, address: address ?? m.address, height: Math.max(m.height, count(d, "height") ?? 0) } : next, line(e, "info", `node started${address ? ` as ${address}` : ""}`))
    }
    case "block.committed": {
      const height = count(d, "height")
      if (!mine) return height === undefined ? m : { ...m, committed: noteCommit(m, e.node, height) }
      const proposer = str(d, "proposer")
      const txs = count(d, "txs")
      const slashed = (list(d, "slashed") ?? []).filter((x): x is string => typeof x === "string")
      const next: ViewModel = {
        ...m,
        committed: height === undefined ? m.committed : noteCommit(m, e.node, height),
        height: height !== undefined ? Math.max(m.height, height) : m.height,
        round: count(d, "round") ?? m.round,
        step: "commit",
        lastBlock: { hash: str(d, "hash"), proposer, txs, at: e.at },
        validators: proposer === undefined ? m.validators : upsertValidator(m, proposer, (v) => ({ ...v, proposed: v.proposed + 1 })),
      }
      const by = proposer === undefined ? "" : ` by ${nameOf(m, proposer)}`
      return logged(next, line(e, slashed.length > 0 ? "warn" : "info", `block ${height ?? "?"} committed${by}, ${txs ?? "?"} txs${slashed.length > 0 ? `, slashed ${slashed.map((s) => nameOf(m, s)).join(", ")}` : ""}`))
    }
    case "consensus.step": {
      if (!mine) return m
      // Steps come several times a block: they update the header, not the log.
      const height = count(d, "height")
      return { ...m, round: count(d, "round") ?? m.round, step: str(d, "step") ?? m.step, height: height !== undefined && height > 0 ? Math.max(m.height, height - 1) : m.height }
    }
    case "peers":
      return mine ? { ...m, peers: count(d, "count") ?? m.peers } : m
    case "peer.connected":
    case "peer.disconnected": {
      if (!mine) return m
      const given = count(d, "count")
      const peers = given ?? Math.max(0, (m.peers ?? 0) + (e.kind === "peer.connected" ? 1 : -1))
      return logged({ ...m, peers }, line(e, "debug", `${e.kind === "peer.connected" ? "connected to" : "disconnected from"} ${str(d, "peer") ?? "a peer"}`))
    }
    case "validators":
      return { ...m, validators: validatorList(m, list(d, "validators") ?? []) }
    case "stake.position":
    case "rewards": {
      if (!mine) return m
      const id = d.position === undefined ? undefined : String(d.position)
      const state = str(d, "state")
      return {
        ...m,
        positions: id === undefined || state === undefined ? m.positions : [{ id, state }, ...m.positions.filter((p) => p.id !== id)].slice(0, 8),
        myStake: amount(d, "stake") ?? m.myStake,
        rewards: firstAmount(d, "rewards", "total") ?? m.rewards,
        apr: num(d, "apr") ?? m.apr,
      }
    }
    case "stake.slashed": {
      const pool = str(d, "pool")
      const amt = amount(d, "amount") ?? 0n
      // Every replica executes the block and reports the slash: count it once, by pool, height and infraction.
      const key = slashKey(m, e)
      if (key !== undefined && items(m.slashes).includes(key)) return m
      const seen = key === undefined ? m.slashes : push(m.slashes, key)
      const next = pool === undefined ? { ...m, slashes: seen } : { ...m, slashes: seen, validators: upsertValidator(m, pool, (v) => ({ ...v, slashed: v.slashed + amt, jailed: true })) }
      return logged(next, line(e, "warn", `${pool === undefined ? "a validator" : nameOf(m, pool)} slashed (${str(d, "infraction") ?? "?"})${bool(d, "tombstoned") === true ? ", tombstoned" : ""}`))
    }
    case "training.round.opened":
    case "training.round.progress":
    case "training.round.completed":
      return training(m, e, mine)
    case "governance.proposal":
    case "governance.vote":
      return governance(m, e, mine)
    case "lm.stage.stats":
    case "lm.generate.token":
      // Too many for the log: the view only.
      return mine ? { ...m, lm: reduceLm(m.lm, e.kind, e.at, d) } : m
    case "lm.generate.started":
    case "lm.generate.route":
    case "lm.generate.done":
    case "lm.generate.failed": {
      const p = phrase(e.kind, d, (id) => nameOf(m, id))
      return logged(mine ? { ...m, lm: reduceLm(m.lm, e.kind, e.at, d) } : m, line(e, p.level, p.text))
    }
    case "market":
      // Every node publishes the same ledger's market: ours is the view.
      return mine ? { ...m, market: marketView(e.at, d) } : m
    case "log":
    case "consensus.log":
      return logged(m, line(e, levelOf(d.level), str(d, "message") ?? describe(d)))
    case "node.error":
      return logged(m, line(e, "error", `${str(d, "action") ?? "error"}: ${str(d, "error") ?? describe(d)}`))
    default: {
      const p = phrase(e.kind, d, (id) => nameOf(m, id))
      return logged(m, line(e, p.level, p.text))
    }
  }
}

/** The committed heights with `node` at `height` (never lowered; bounded like the names). */
const noteCommit = (m: ViewModel, node: string, height: number): Readonly<Record<string, number>> => {
  const before = m.committed[node]
  if (before !== undefined && before >= height) return m.committed
  if (before === undefined && Object.keys(m.committed).length >= LIMITS.names) return m.committed
  return { ...m.committed, [node]: height }
}

/** What identifies a slash across the nodes reporting it: pool, height (given, or its node's last commit) and infraction; undefined when undatable. */
const slashKey = (m: ViewModel, e: Event): string | undefined => {
  const d = e.data
  const height = count(d, "height") ?? str(d, "evidence") ?? m.committed[e.node]
  return height === undefined ? undefined : `${str(d, "pool") ?? "?"}@${height}/${str(d, "infraction") ?? "?"}`
}

/** The display name of an address or id. */
export const nameOf = (m: ViewModel, id: string): string => m.names[id] ?? m.validators.find((v) => v.id === id)?.name ?? id

const emptyValidator = (m: ViewModel, id: string): ValidatorRow => ({
  id, name: m.names[id], power: undefined, stake: undefined, contribution: undefined, missed: undefined, jailed: false, proposed: 0, slashed: 0n,
})

/** Update (or add, within the bound) the row of `id`, which may be given as an address or a name. */
const upsertValidator = (m: ViewModel, id: string, f: (v: ValidatorRow) => ValidatorRow): readonly ValidatorRow[] => {
  const i = m.validators.findIndex((v) => v.id === id || v.name === id)
  if (i >= 0) return m.validators.map((v, j) => (j === i ? f(v) : v))
  if (m.validators.length >= LIMITS.validators) return m.validators
  return [...m.validators, f(emptyValidator(m, id))]
}

/** A full `validators` list replaces the rows, keeping the counters only we track (proposed, slashed). */
const validatorList = (m: ViewModel, raw: readonly unknown[]): readonly ValidatorRow[] => {
  const rows: ValidatorRow[] = []
  const seen = new Set<string>()
  const previous = new Map(m.validators.map((v) => [v.id, v]))
  for (const item of raw) {
    if (rows.length >= LIMITS.validators) break
    const r = record(item)
    const id = r && (str(r, "address") ?? str(r, "id") ?? str(r, "name"))
    if (r === undefined || id === undefined || seen.has(id)) continue
    seen.add(id)
    const before = previous.get(id) ?? emptyValidator(m, id)
    rows.push({
      ...before,
      name: str(r, "name") ?? before.name,
      power: num(r, "power") ?? before.power,
      stake: amount(r, "stake") ?? before.stake,
      contribution: num(r, "contribution") ?? before.contribution,
      missed: count(r, "missed") ?? before.missed,
      jailed: bool(r, "jailed") ?? before.jailed,
    })
  }
  return rows.sort((a, b) => (b.power ?? -1) - (a.power ?? -1))
}

const training = (m: ViewModel, e: Event, mine: boolean): ViewModel => {
  const d = e.data
  const t = m.training
  const round = count(d, "round")
  // Another node's report of an older round must not move the header back.
  const current = round === undefined || t.round === undefined || round >= t.round
  const state = e.kind === "training.round.opened" ? "open" : e.kind === "training.round.completed" ? "completed" : "open"
  const sameRound = round === undefined || round === t.round
  let next: Training = current
    ? {
        ...t,
        round: round ?? t.round,
        state,
        cohort: count(d, "cohort") ?? (sameRound ? t.cohort : undefined),
        received: count(d, "received") ?? (e.kind === "training.round.opened" ? 0 : sameRound ? t.received : undefined),
        epsilon: num(d, "epsilon") ?? t.epsilon,
        delta: num(d, "delta") ?? t.delta,
        myScore: mine ? (num(d, "myScore") ?? t.myScore) : t.myScore,
      }
    : t
  if (e.kind === "training.round.completed" && round !== undefined) {
    const point: RoundPoint = { round, accuracy: num(d, "accuracy"), loss: num(d, "loss") }
    const newest = last(t.history)
    if (newest === undefined || round > newest.round) next = { ...next, history: push(next.history, point) }
    else if (round === newest.round) next = { ...next, history: replaceLast(next.history, (p) => ({ round, accuracy: point.accuracy ?? p.accuracy, loss: point.loss ?? p.loss })) }
  }
  const m2 = { ...m, training: next }
  if (e.kind === "training.round.progress") return m2
  // Rounds read back from the chain at start (a restarted node's history) fill the chart, not the log.
  if (bool(d, "restored") === true) return m2
  // A round is reported when the chain commits it and again when its scores are revealed: the
  // reveal is a line only for the score it brings us.
  if (e.kind === "training.round.completed" && bool(d, "revealed") === true) {
    const score = num(d, "myScore")
    return mine && score !== undefined ? logged(m2, line(e, "info", `training round ${round ?? "?"} scores revealed: my score ${score.toFixed(3)}`)) : m2
  }
  const acc = num(d, "accuracy")
  const text = e.kind === "training.round.opened"
    ? `training round ${round ?? "?"} opened, cohort ${count(d, "cohort") ?? "?"}`
    : `training round ${round ?? "?"} completed${acc !== undefined ? `, accuracy ${(acc * 100).toFixed(1)} %` : ""}`
  return logged(m2, line(e, "info", text))
}

const governance = (m: ViewModel, e: Event, mine: boolean): ViewModel => {
  const d = e.data
  const rawId = d.id ?? d.proposal
  const id: ProposalId | undefined = typeof rawId === "number" && Number.isSafeInteger(rawId) ? rawId : typeof rawId === "string" && rawId !== "" ? rawId : undefined
  if (id === undefined) return logged(m, line(e, "warn", `${e.kind} without an id: ${describe(d)}`))
  const i = m.proposals.findIndex((p) => p.id === id)
  const before: ProposalRow = m.proposals[i] ?? { id, title: `proposal ${id}`, state: "Active", forVotes: 0n, againstVotes: 0n, abstainVotes: 0n, endsAt: undefined, myVote: undefined }
  const tallies = {
    forVotes: firstAmount(d, "forVotes", "for"),
    againstVotes: firstAmount(d, "againstVotes", "against"),
    abstainVotes: firstAmount(d, "abstainVotes", "abstain"),
  }
  let row: ProposalRow = {
    ...before,
    title: str(d, "title") ?? before.title,
    state: str(d, "state") ?? before.state,
    endsAt: num(d, "endsAt") ?? before.endsAt,
    forVotes: tallies.forVotes ?? before.forVotes,
    againstVotes: tallies.againstVotes ?? before.againstVotes,
    abstainVotes: tallies.abstainVotes ?? before.abstainVotes,
  }
  let text = `proposal ${id} ${row.state}: ${row.title}`
  if (e.kind === "governance.vote") {
    const choice = choiceOf(d)
    const votes = firstAmount(d, "votes", "weight") ?? 0n
    const hasTallies = tallies.forVotes !== undefined || tallies.againstVotes !== undefined
    // Without tallies the vote adds its weight; counted from our node only, so N nodes reporting it count once.
    if (!hasTallies && mine && choice !== undefined) {
      row = choice === "yes" ? { ...row, forVotes: row.forVotes + votes } : choice === "no" ? { ...row, againstVotes: row.againstVotes + votes } : { ...row, abstainVotes: row.abstainVotes + votes }
    }
    const voter = str(d, "voter")
    const isMe = voter !== undefined && (voter === m.address || voter === m.self)
    if (isMe && choice !== undefined) row = { ...row, myVote: choice }
    text = `${voter === undefined ? "someone" : nameOf(m, voter)} voted ${choice ?? "?"} on proposal ${id} (${votesText(votes)} votes)`
  }
  let proposals: readonly ProposalRow[]
  if (i >= 0) proposals = m.proposals.map((p, j) => (j === i ? row : p))
  else proposals = [...m.proposals, row].slice(-LIMITS.proposals)
  return logged({ ...m, proposals }, line(e, "info", text))
}

const choiceOf = (d: Data): "yes" | "no" | "abstain" | undefined => {
  const c = d.choice ?? d.support
  if (c === true || c === "yes" || c === "for") return "yes"
  if (c === false || c === "no" || c === "against") return "no"
  if (c === "abstain") return "abstain"
  return undefined
}
