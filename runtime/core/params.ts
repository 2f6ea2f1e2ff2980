/**
 * The parameter registry: every tunable number of the network, with its default, its unit and the
 * bounds the constitution allows. Scenarios, sweeps, governance proposals and the node's config all
 * name parameters by these dotted names; a value outside its bounds is refused here, before it can
 * reach any machine.
 */
import { Data, Result } from "effect"
import { formatDuration, parseDuration } from "./duration.ts"

/** A parameter's value as the registry holds it (durations in ms, fractions as numbers). */
export type ParamValue = number | boolean | string

interface Common<V extends ParamValue> {
  readonly default: V
  readonly unit: string
  readonly description: string
}
export interface DurationDef extends Common<number> { readonly kind: "duration"; readonly min: number; readonly max: number }
export interface FractionDef extends Common<number> { readonly kind: "fraction"; readonly min: number; readonly max: number }
export interface NumberDef extends Common<number> { readonly kind: "number"; readonly min: number; readonly max: number }
export interface IntegerDef extends Common<number> { readonly kind: "integer"; readonly min: number; readonly max: number }
/** Whole tokens (the economy converts to base units). */
export interface TokensDef extends Common<number> { readonly kind: "tokens"; readonly min: number; readonly max: number }
export interface BooleanDef extends Common<boolean> { readonly kind: "boolean" }
export interface ChoiceDef<C extends string = string> extends Common<C> { readonly kind: "choice"; readonly oneOf: readonly C[] }
/** A string of a small grammar, such as `dirichlet:0.5`; `check` returns a reason when invalid. */
export interface PatternDef extends Common<string> {
  readonly kind: "pattern"
  readonly forms: string
  readonly check: (value: string) => string | undefined
}
export type ParamDef = DurationDef | FractionDef | NumberDef | IntegerDef | TokensDef | BooleanDef | ChoiceDef | PatternDef

const duration = (d: string, min: string, max: string, description: string): DurationDef => ({
  kind: "duration", default: ms(d), min: ms(min), max: ms(max), unit: "duration", description,
})
const fraction = (d: number, min: number, max: number, description: string): FractionDef => ({
  kind: "fraction", default: d, min, max, unit: "fraction", description,
})
const number = (d: number, min: number, max: number, unit: string, description: string): NumberDef => ({
  kind: "number", default: d, min, max, unit, description,
})
const integer = (d: number, min: number, max: number, unit: string, description: string): IntegerDef => ({
  kind: "integer", default: d, min, max, unit, description,
})
const amount = (d: number, min: number, max: number, description: string): TokensDef => ({
  kind: "tokens", default: d, min, max, unit: "tokens", description,
})
const flag = (d: boolean, description: string): BooleanDef => ({ kind: "boolean", default: d, unit: "bool", description })
const choice = <const C extends string>(d: C, oneOf: readonly C[], description: string): ChoiceDef<C> => ({
  kind: "choice", default: d, oneOf, unit: "choice", description,
})
const ms = (text: string): number => {
  const v = parseDuration(text)
  if (v === undefined) throw new Error(`bad duration literal in the registry: ${text}`)
  return v
}

const checkPartition = (v: string): string | undefined => {
  if (v === "iid") return undefined
  const shards = /^shards:(\d+)$/.exec(v)
  if (shards !== null) {
    const k = Number(shards[1])
    return k >= 1 && k <= 10 ? undefined : "shards:k needs 1 <= k <= 10"
  }
  const dir = /^dirichlet:(\d+(?:\.\d+)?)$/.exec(v)
  if (dir !== null) {
    const a = Number(dir[1])
    return a >= 0.01 && a <= 1000 ? undefined : "dirichlet:alpha needs 0.01 <= alpha <= 1000"
  }
  return "expected iid, shards:k or dirichlet:alpha"
}

/** Every parameter, by dotted name. The numbers here are the constitution's bounds. */
export const REGISTRY = {
  "consensus.timeoutPropose": duration("3s", "200ms", "60s", "time a validator waits for a proposal in round 0"),
  "consensus.timeoutPrevote": duration("1s", "100ms", "60s", "time a validator waits for +2/3 prevotes after any 2/3 arrived"),
  "consensus.timeoutPrecommit": duration("1s", "100ms", "60s", "time a validator waits for +2/3 precommits after any 2/3 arrived"),
  "consensus.timeoutDelta": duration("500ms", "0ms", "30s", "added to every step timeout per round, so timeouts grow until the network is synchronous"),
  "consensus.timeoutCommit": duration("1s", "0ms", "60s", "pause after a commit before the next height (the block interval)"),
  "consensus.contributionWeight": fraction(0.2, 0, 0.5, "how much measured contribution adds to voting power (0 = stake only)"),
  "consensus.maxPowerShare": fraction(0.25, 0.05, 0.33, "cap on any one validator's share of the total voting power"),
  "consensus.epochLength": integer(100, 1, 100_000, "blocks", "blocks per epoch; the validator set changes only at epoch boundaries"),
  "consensus.maxValidators": integer(100, 4, 1_000, "validators", "size of the active validator set (the largest by power)"),

  "slashing.doubleSignFraction": fraction(0.05, 0.01, 1, "share of bonded stake slashed for double signing (then tombstoned)"),
  "slashing.downtimeFraction": fraction(0.0001, 0, 0.05, "share of bonded stake slashed for downtime (then jailed)"),
  "slashing.downtimeWindow": integer(100, 10, 100_000, "blocks", "sliding window of blocks over which signed votes are counted"),
  "slashing.minSignedPerWindow": fraction(0.5, 0.05, 0.95, "share of the window a validator must sign to avoid downtime slashing"),
  "slashing.downtimeJailDuration": duration("10m", "1m", "30d", "how long a validator jailed for downtime stays jailed"),

  "staking.unbondingPeriod": duration("21d", "1h", "60d", "waiting time before unbonded tokens can be withdrawn"),
  "staking.insuranceFraction": fraction(0.1, 0, 0.5, "share of each slash paid into the insurance pool (the rest is burnt)"),
  "staking.insuranceCoverage": fraction(0.5, 0, 1, "share of a delegator's slashing loss the insurance pool pays back, while it has funds"),
  "staking.minValidatorBond": amount(1_000, 1, 10_000_000, "smallest self-bond that registers a validator"),
  "staking.minContributorBond": amount(100, 1, 1_000_000, "smallest bond of a contributor (trainer, compute provider)"),
  "staking.maxCommission": fraction(0.25, 0, 0.5, "largest commission a validator may take from its delegators' rewards"),
  "staking.lockMultiplier30d": number(1.1, 1, 1.5, "x", "reward multiplier of a 30-day lock"),
  "staking.lockMultiplier90d": number(1.25, 1, 2, "x", "reward multiplier of a 90-day lock"),
  "staking.lockMultiplier180d": number(1.5, 1, 2.5, "x", "reward multiplier of a 180-day lock"),
  "staking.lockMultiplier365d": number(2, 1, 3, "x", "reward multiplier of a 365-day lock"),

  "fees.burnFraction": fraction(0.3, 0, 0.9, "share of every fee that is burnt; the rest is paid to stakers"),
  "fees.txFee": amount(0.01, 0, 1_000, "tokens every transaction the committee orders costs its signer, paid from the signer's fee deposit and settled by the epoch report"),
  "rewards.annualEmission": amount(20_000_000, 0, 100_000_000, "tokens released per year from the genesis reward reserve to stakers"),
  "rewards.contributorShare": fraction(0.25, 0, 0.8, "share of each block's emission set aside for contributors, paid pro rata of revealed training-round scores"),

  "governance.quorum": fraction(0.1, 0.01, 0.5, "share of the total bonded stake that must vote"),
  "governance.threshold": fraction(0.5, 0.5, 0.9, "share of the votes cast that must be in favour"),
  "governance.votingPeriod": duration("3d", "1h", "30d", "how long a proposal is open for votes"),
  "governance.timelock": duration("1d", "1h", "14d", "delay between a proposal passing and its execution"),
  // Off by default: with pseudonymous stake-bonded identities, √stake votes reward splitting stake
  // over identities (gain √(stake / minVoterBond); scenarios/README.md, "Defaults justified"); a
  // network with an identity layer that makes identities costly may turn it on.
  "governance.quadratic": flag(false, "votes = square root of the bonded stake of an identity (true) or the stake itself (false); quadratic needs costly identities"),
  "governance.minVoterBond": amount(100, 1, 1_000_000, "bond an identity needs to vote (limits sybil splitting)"),
  "governance.amendmentThreshold": fraction(0.667, 0.6, 0.9, "supermajority needed to change a constitutional bound"),
  "governance.amendmentDelay": duration("7d", "2d", "60d", "timelock of a constitutional amendment"),

  "training.dataset": choice("mnist", ["mnist", "fashion-mnist", "synthetic", "fortunes"], "data set the trainers hold shards of; fortunes = the language model's held-out text (the validation split of Debian's fortunes), with training.model gpt"),
  "training.model": choice("mlp", ["mlp", "cnn", "gpt"], "mlp = 784-200-200-10 (the 2NN of McMahan et al. 2017); cnn = two conv layers; gpt = fine-tuning the committed language model's last block and head (docs/lm.md), with training.dataset fortunes"),
  "training.partition": {
    kind: "pattern", default: "iid", unit: "partition", forms: "iid | shards:k | dirichlet:alpha", check: checkPartition,
    description: "how the data set is split over trainers",
  } satisfies PatternDef,
  "training.cohort": fraction(0.5, 0.05, 1, "fraction of trainers picked each round"),
  "training.localEpochs": integer(1, 1, 20, "epochs", "local epochs per round"),
  "training.batchSize": integer(32, 1, 1_024, "samples", "local minibatch size"),
  "training.learningRate": number(0.05, 0.00001, 1, "", "local SGD learning rate"),
  "training.aggregator": choice("fedavg", ["fedavg", "median", "trimmed-mean", "krum"], "rule that combines the updates"),
  "training.trimFraction": fraction(0.1, 0, 0.45, "share trimmed at each end by trimmed-mean (and f/n assumed by krum)"),
  "training.roundDeadline": duration("60s", "1s", "1h", "time trainers have to return an update"),
  "training.minParticipants": fraction(0.5, 0.1, 1, "share of the cohort whose updates a round needs by the deadline (else it is aborted)"),
  "training.accuracyTolerance": fraction(0.02, 0.001, 0.2, "how far a round result's claimed accuracy may be from what each validator measures on the genesis evaluation set before it refuses the block"),
  "training.evalSamples": integer(2_000, 100, 10_000, "samples", "the network's evaluation set: the first N samples of the data set's test split, as the genesis sets it (later changes do not move it: every coordinator reports, and every validator re-measures, accuracy on the same samples for the network's life)"),
  "training.secureAggregation": flag(false, "pairwise-masked secure aggregation (Bonawitz et al. 2017)"),
  "training.secAggThreshold": fraction(0.66, 0.5, 1, "share of the cohort whose shares must survive to unmask the sum"),
  "training.secAggGraph": choice("full", ["full", "sparse"], "who masks with whom under secure aggregation: full = every pair (Bonawitz et al. 2017); sparse = SecAgg+ (Bell et al. 2020), each trainer with its O(log n) neighbours on a random ring, the threshold the same share of each neighbourhood"),
  "training.dp.clipNorm": number(1, 0.001, 100, "L2", "per-update L2 clipping norm"),
  "training.dp.noiseMultiplier": number(0, 0, 10, "sigma", "Gaussian noise std as a multiple of the clip norm (0 = off)"),

  "market.minProviderBond": amount(1_000, 0, 100_000_000, "bond a compute provider locks to register, and must still hold to take a job"),
  "market.protocolFee": fraction(0.05, 0, 0.5, "share of every payment to a provider taken as a fee (burnt by fees.burnFraction, the rest to stakers)"),
  "market.disputeWindow": duration("60s", "5s", "30d", "how long a delivery can be disputed; after it anyone may settle it"),
  "market.noShowTimeout": duration("30s", "1s", "1d", "an assigned job with no delivery for this long may be taken from its provider"),
  "market.noShowPenalty": fraction(0.05, 0, 1, "share of a provider's bond paid to the requester when the job is taken from it for not delivering"),
  "market.wrongResultSlash": fraction(1, 0, 1, "share of a provider's bond slashed for a result a referee's re-execution refutes (the requester compensated first, the rest burnt). Made-up results pay when a debit note pays the provider more than wrongResultSlash × bond × verificationRate ÷ (1 − verificationRate) (docs/market.md): 111 tokens at the defaults and a 1,000-token bond; at 0.2 it was 22 and the sweep found the cheat's ROI +0.32"),
  "market.verificationRate": fraction(0.1, 0, 1, "share of deliveries a referee re-executes (with market.wrongResultSlash it bounds the debit note a cheat cannot profit from: docs/market.md)"),
} as const satisfies Record<string, ParamDef>

export type ParamName = keyof typeof REGISTRY
type ValueOf<D> = D extends ChoiceDef<infer C> ? C : D extends Common<infer V> ? V : never
/** A complete, validated set of parameters. */
export type Params = { readonly [K in ParamName]: ValueOf<(typeof REGISTRY)[K]> }

export const PARAM_NAMES = Object.keys(REGISTRY) as readonly ParamName[]

export const isParamName = (name: string): name is ParamName => Object.hasOwn(REGISTRY, name)

/** The registry's defaults. */
export const DEFAULT_PARAMS: Params = Object.freeze(
  Object.fromEntries(PARAM_NAMES.map((n) => [n, REGISTRY[n].default])) as unknown as Params,
)

export class ParamUnknown extends Data.TaggedError("ParamUnknown")<{ readonly name: string }> {
  override get message() {
    return `unknown parameter "${this.name}" (\`dai params\` lists them all)`
  }
}
export class ParamInvalid extends Data.TaggedError("ParamInvalid")<{
  readonly name: string
  readonly value: unknown
  readonly expected: string
}> {
  override get message() {
    return `parameter ${this.name}: ${JSON.stringify(this.value)} is not ${this.expected}`
  }
}
export class ParamOutOfBounds extends Data.TaggedError("ParamOutOfBounds")<{
  readonly name: string
  readonly value: ParamValue
  readonly bounds: string
}> {
  override get message() {
    return `parameter ${this.name}: ${JSON.stringify(this.value)} is outside the constitution's bounds ${this.bounds}`
  }
}
export class ParamConstraintViolated extends Data.TaggedError("ParamConstraintViolated")<{
  readonly names: readonly string[]
  readonly rule: string
}> {
  override get message() {
    return `parameters ${this.names.join(", ")}: ${this.rule}`
  }
}
export type ParamError = ParamUnknown | ParamInvalid | ParamOutOfBounds | ParamConstraintViolated

/** The bounds of a parameter as people read them: `[100ms, 60s]`, `{mnist, cnn}`. */
export const describeBounds = (def: ParamDef): string => {
  switch (def.kind) {
    case "duration": return `[${formatDuration(def.min)}, ${formatDuration(def.max)}]`
    case "fraction": case "number": case "integer": case "tokens": return `[${def.min}, ${def.max}]`
    case "boolean": return "{true, false}"
    case "choice": return `{${def.oneOf.join(", ")}}`
    case "pattern": return def.forms
  }
}

/** A parameter's value as people write it (durations as `3s`). */
export const formatParamValue = (def: ParamDef, value: ParamValue): string =>
  def.kind === "duration" && typeof value === "number" ? formatDuration(value) : String(value)

/**
 * Decode one raw value (from YAML, JSON, a flag or a proposal) and check it against the bounds.
 * Durations accept `"30s"` or a number of ms; numbers accept numeric strings from flags.
 */
export const decodeParam = (name: string, raw: unknown): Result.Result<ParamValue, ParamError> => {
  if (!isParamName(name)) return Result.fail(new ParamUnknown({ name }))
  const def: ParamDef = REGISTRY[name]
  switch (def.kind) {
    case "duration": {
      const v = typeof raw === "number" ? raw : typeof raw === "string" ? parseDuration(raw) : undefined
      if (v === undefined || !Number.isSafeInteger(v) || v < 0) {
        return Result.fail(new ParamInvalid({ name, value: raw, expected: "a duration such as 250ms, 30s, 10m, 1h, 2d" }))
      }
      return inRange(name, def, v)
    }
    case "fraction": case "number": case "integer": case "tokens": {
      const v = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN
      if (!Number.isFinite(v)) return Result.fail(new ParamInvalid({ name, value: raw, expected: "a number" }))
      if (def.kind === "integer" && !Number.isInteger(v)) {
        return Result.fail(new ParamInvalid({ name, value: raw, expected: "a whole number" }))
      }
      return inRange(name, def, v)
    }
    case "boolean": {
      if (typeof raw === "boolean") return Result.succeed(raw)
      if (raw === "true" || raw === "false") return Result.succeed(raw === "true")
      return Result.fail(new ParamInvalid({ name, value: raw, expected: "true or false" }))
    }
    case "choice": {
      if (typeof raw === "string" && def.oneOf.includes(raw)) return Result.succeed(raw)
      return Result.fail(new ParamOutOfBounds({ name, value: String(raw), bounds: describeBounds(def) }))
    }
    case "pattern": {
      if (typeof raw !== "string") return Result.fail(new ParamInvalid({ name, value: raw, expected: def.forms }))
      const why = def.check(raw)
      return why === undefined ? Result.succeed(raw) : Result.fail(new ParamInvalid({ name, value: raw, expected: `${def.forms} (${why})` }))
    }
  }
}

const inRange = (name: string, def: DurationDef | FractionDef | NumberDef | IntegerDef | TokensDef, v: number) =>
  v >= def.min && v <= def.max
    ? Result.succeed<ParamValue>(v)
    : Result.fail<ParamError>(new ParamOutOfBounds({ name, value: v, bounds: describeBounds(def) }))

/** Rules that tie parameters together; each returns the names involved and why, when broken. */
const CONSTRAINTS: ReadonlyArray<(p: Params) => ParamConstraintViolated | undefined> = [
  (p) => {
    const chain = [1, p["staking.lockMultiplier30d"], p["staking.lockMultiplier90d"], p["staking.lockMultiplier180d"], p["staking.lockMultiplier365d"]]
    return chain.every((m, i) => i === 0 || m >= chain[i - 1]!)
      ? undefined
      : new ParamConstraintViolated({
        names: ["staking.lockMultiplier30d", "staking.lockMultiplier90d", "staking.lockMultiplier180d", "staking.lockMultiplier365d"],
        rule: "a longer lock must never earn a smaller multiplier (1 <= 30d <= 90d <= 180d <= 365d)",
      })
  },
  (p) => p["governance.amendmentThreshold"] > p["governance.threshold"]
    ? undefined
    : new ParamConstraintViolated({ names: ["governance.amendmentThreshold", "governance.threshold"], rule: "an amendment needs a larger majority than an ordinary proposal" }),
  (p) => p["governance.amendmentDelay"] > p["governance.timelock"]
    ? undefined
    : new ParamConstraintViolated({ names: ["governance.amendmentDelay", "governance.timelock"], rule: "an amendment needs a longer delay than an ordinary proposal" }),
]

/** Check the rules that span several parameters. */
export const checkConstraints = (params: Params): Result.Result<Params, ParamError> => {
  for (const rule of CONSTRAINTS) {
    const broken = rule(params)
    if (broken !== undefined) return Result.fail(broken)
  }
  return Result.succeed(params)
}

/** Defaults overridden by `overrides` (raw values by name); every value and rule is checked. */
export const resolveParams = (
  overrides: Readonly<Record<string, unknown>> = {},
  base: Params = DEFAULT_PARAMS,
): Result.Result<Params, ParamError> => {
  const out: Record<string, ParamValue> = { ...base }
  for (const [name, raw] of Object.entries(overrides)) {
    const decoded = decodeParam(name, raw)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    out[name] = decoded.success
  }
  return checkConstraints(out as unknown as Params)
}
