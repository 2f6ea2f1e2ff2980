/**
 * The scenario file (scenarios/README.md) as an Effect Schema. Decoding is strict: an unknown key anywhere
 * is an error, and every error names its key path, so a typo never silently changes a run.
 * Cross-field checks (node ids, stake list length, parameter bounds) live in `load.ts`.
 */
import { Schema } from "effect"
import { parseDuration } from "../../runtime/core/duration.ts"

/** `250ms`, `30s`, `10m`, `1h`, `2d` → milliseconds. */
export const Duration = Schema.String.check(
  Schema.makeFilter((s) => parseDuration(s) !== undefined || `expected a duration such as 250ms, 30s, 10m, 1h, 2d, got "${s}"`),
)

const Probability = Schema.Number.check(Schema.makeFilter((n) => (n >= 0 && n <= 1) || `expected a probability from 0 to 1, got ${n}`))
const Count = (min: number, max: number) =>
  Schema.Number.check(Schema.makeFilter((n) => (Number.isInteger(n) && n >= min && n <= max) || `expected a whole number from ${min} to ${max}, got ${n}`))
const Positive = Schema.Number.check(Schema.makeFilter((n) => (Number.isFinite(n) && n > 0) || `expected a positive number, got ${n}`))
const NodeId = Schema.String

export const Latency = Schema.Struct({ min: Duration, max: Duration })

/** `N/duration`: N jobs per duration, e.g. `1/10s`. */
export const JobRate = Schema.String.check(
  Schema.makeFilter((s) => {
    const m = /^([1-9][0-9]{0,5})\/(.+)$/.exec(s)
    const d = m === null ? undefined : parseDuration(m[2]!)
    return (d !== undefined && d > 0) || `expected a rate such as 1/10s (jobs per duration), got "${s}"`
  }),
)

/** Extension: what the language-model pipeline did (sim/check/lm.ts). */
export const LmExpect = Schema.Struct({
  /** At least this many stages were replaced mid-generation, their session's inputs replayed to another server. */
  minFailovers: Schema.optional(Count(0, 1_000_000)),
  /** At least this many generations were begun again after a stage's result was refuted. */
  minRestarts: Schema.optional(Count(0, 1_000_000)),
  /** Per provider: at most this share of the tokens its block range served. */
  maxShare: Schema.optional(Schema.Record(Schema.String, Probability)),
})

/** The market expectation: settled jobs, lost jobs, providers slashed (and the extensions). */
export const MarketExpect = Schema.Struct({
  /** At least this many jobs settled (every unit delivered and paid). */
  minSettled: Schema.optional(Count(0, 1_000_000)),
  /** At most this many jobs neither settled nor refunded by the end (the spec's `lostJobs: 0`). */
  lostJobs: Schema.optional(Count(0, 1_000_000)),
  /** Each of these providers lost bond (a no-show penalty or a wrong-result slash); a provider with no behaviour never does. */
  slashed: Schema.optional(Schema.Array(NodeId)),
  /** Extension: these providers were paid nothing at all. */
  unpaid: Schema.optional(Schema.Array(NodeId)),
  /** Extension: at most this many paid debit notes carry a result a re-execution refutes. */
  wrongPaid: Schema.optional(Count(0, 1_000_000)),
})

export const Network = Schema.Struct({
  /**
   * Validators v0..v(n-1). Up to 1,000: the largest network the consensus bench runs, about
   * 1.2–1.4× real time on one core here (1 s blocks, vote certificates); beyond it, slower than real time.
   */
  validators: Count(1, 1_000),
  trainers: Schema.optional(Count(0, 1_000)),
  /** Tokens per validator: one number for all, or one per validator. */
  stake: Schema.optional(Schema.Union([Positive, Schema.Array(Positive)])),
  latency: Schema.optional(Latency),
  drop: Schema.optional(Probability),
  /**
   * Extension: how consensus votes travel — `aggregated` (default: to the round's proposer, which
   * publishes certificates; O(n) messages per height) or `gossip` (every vote to every validator).
   */
  votes: Schema.optional(Schema.Literals(["aggregated", "gossip"])),
  /** Extension: probability a message is delivered twice. */
  duplicate: Schema.optional(Probability),
  /** Extension: tokens each trainer bonds in its contributor pool at genesis (default, and at least: staking.minContributorBond). */
  trainerStake: Schema.optional(Schema.Number.check(Schema.makeFilter((n) => (Number.isFinite(n) && n >= 0) || `expected a number of tokens >= 0, got ${n}`))),
  /** Extension: most training samples each trainer holds (real data sets; default 600). */
  samplesPerTrainer: Schema.optional(Count(1, 60_000)),
  /** Compute-market providers p0..p(n-1). */
  providers: Schema.optional(Count(0, 256)),
  /** Tokens per unit of work: one number for all providers, or one per provider. */
  providerPrice: Schema.optional(Schema.Union([Positive, Schema.Array(Positive)])),
  /** Compute-market requesters r0..r(n-1), each posting jobs at `jobRate`. */
  requesters: Schema.optional(Count(0, 256)),
  /** Jobs per requester: `1/10s` is one job every 10 s of virtual time. */
  jobRate: Schema.optional(JobRate),
  /** Extension: a provider's time per unit of work (one duration, or one per provider; default 200ms). */
  providerSpeed: Schema.optional(Schema.Union([Duration, Schema.Array(Duration)])),
  /** Extension: jobs a provider runs at once (default 4). */
  providerCapacity: Schema.optional(Count(1, 1_000)),
  /** Extension: tokens each provider bonds (default and at least market.minProviderBond). */
  providerBond: Schema.optional(Positive),
  /** Extension: units of work per job (default 10). */
  jobUnits: Schema.optional(Count(1, 1_000_000)),
  /** Extension: how long a job may take from its posting (default 60s). */
  jobDeadline: Schema.optional(Duration),
  /** Extension: a requester's price cap per unit, in tokens (default twice the highest provider price). */
  jobMaxPrice: Schema.optional(Positive),
  /** The language model split in this many stages (block ranges) over the providers: p<i> serves stage i mod lmStages. */
  lmStages: Schema.optional(Count(1, 64)),
  /** Extension: tokens each generation asks for (default 32). */
  lmTokens: Schema.optional(Count(1, 100_000)),
  /** Extension: prompt positions each generation starts with (default 16). */
  lmPrompt: Schema.optional(Count(1, 100_000)),
  /** Extension: tokens a stage bills in one debit note (default 8). */
  lmChunk: Schema.optional(Count(1, 100_000)),
  /** Extension: how long a client waits for a stage's reply before failing it over (default 2s). */
  lmTimeout: Schema.optional(Duration),
})

export const Until = Schema.Struct({
  height: Schema.optional(Count(1, 1_000_000)),
  rounds: Schema.optional(Count(1, 100_000)),
  time: Schema.optional(Duration),
  maxTime: Schema.optional(Duration),
})

export const At = Schema.Struct({
  height: Schema.optional(Count(0, 1_000_000)),
  round: Schema.optional(Count(0, 100_000)),
  time: Schema.optional(Duration),
})

export const Byzantine = Schema.Struct({
  nodes: Schema.Array(NodeId),
  behavior: Schema.String,
  /** `delay`: how late everything is sent (default 2s). */
  delay: Schema.optional(Duration),
  /** `sybil-split`: how many identities the stake is split over. */
  identities: Schema.optional(Count(2, 1_000)),
})

export const Event = Schema.Struct({
  at: At,
  byzantine: Schema.optional(Byzantine),
  partition: Schema.optional(Schema.Array(Schema.Array(NodeId))),
  heal: Schema.optional(Schema.Literal(true)),
  crash: Schema.optional(NodeId),
  restart: Schema.optional(NodeId),
  /** A parameter proposal (one name: value) every honest validator votes for; executed after the voting period and timelock. */
  govern: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  /** A new validator registers and bonds on the ledger (ids continue the sequence: v4 after v0..v3). */
  join: Schema.optional(Schema.Struct({ node: NodeId, stake: Positive })),
  /** A validator unbonds all its stake and leaves the set. */
  leave: Schema.optional(NodeId),
})

export const Expect = Schema.Struct({
  safety: Schema.optional(Schema.Boolean),
  minHeight: Schema.optional(Count(0, 1_000_000)),
  slashed: Schema.optional(Schema.Array(NodeId)),
  honestNotSlashed: Schema.optional(Schema.Boolean),
  supplyConserved: Schema.optional(Schema.Boolean),
  minAccuracy: Schema.optional(Probability),
  /** Extension: the final accuracy is at most this (an attack that must hurt an undefended run). */
  maxAccuracy: Schema.optional(Probability),
  /** Validators that earned nothing for their behaviour: none of the rounds they coordinated as a byzantine coordinator (`forge-round`, `inflate-accuracy`) was accepted. */
  unpaid: Schema.optional(Schema.Array(NodeId)),
  /** Parameter values in force in the network (the committee's snapshot, not only the chain) at the end. */
  params: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  /** The active validator set at the end: who is in it, who is not. */
  validators: Schema.optional(Schema.Struct({ includes: Schema.optional(Schema.Array(NodeId)), excludes: Schema.optional(Schema.Array(NodeId)) })),
  /** Extension: a `sybil-split` gained at most this factor of votes (split ÷ whole). */
  maxSybilGain: Schema.optional(Schema.Number.check(Schema.makeFilter((n) => (Number.isFinite(n) && n >= 1) || "a number >= 1"))),
  /** The compute market: settled and lost jobs, providers slashed (sim/check/market.ts). */
  market: Schema.optional(MarketExpect),
  /** Language-model tokens generated and paid for at every stage (sim/check/lm.ts). */
  minTokens: Schema.optional(Count(0, 1_000_000_000)),
  /** Extension: the pipeline's failovers, restarts and routing (sim/check/lm.ts). */
  lm: Schema.optional(LmExpect),
})

export const ScenarioFile = Schema.Struct({
  name: Schema.String.check(Schema.makeFilter((s) => s.trim().length > 0 || "expected a non-empty name")),
  description: Schema.optional(Schema.String),
  seed: Schema.optional(Count(0, Number.MAX_SAFE_INTEGER)),
  network: Network,
  params: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  until: Until,
  events: Schema.optional(Schema.Array(Event)),
  expect: Schema.optional(Expect),
  /** Extension: the run takes long; `npm test` skips it unless DAI_SLOW_SCENARIOS=1. */
  slow: Schema.optional(Schema.Boolean),
})

export type ScenarioFile = typeof ScenarioFile.Type
export type ScenarioEvent = typeof Event.Type
