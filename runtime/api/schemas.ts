/**
 * The API's data as Effect Schemas: what every GET returns and what every POST accepts. The JSON
 * side is the contract: token amounts are decimal strings of base units (18 decimals), times are
 * Unix ms, hashes and addresses 0x-hex. Request bodies are decoded with `onExcessProperty: "error"`
 * so an unknown field is refused by name; the OpenAPI document is generated from these schemas.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { VoteSchema } from "../core/consensus/codec.ts"

/** A token amount in base units, as a decimal string (bigints do not survive JSON numbers). */
export const Amount = Schema.String.check(Schema.isPattern(/^(0|[1-9][0-9]{0,77})$/, { expected: "a decimal string of base units (digits only, no sign)" }))
  .annotate({ description: "token amount in base units (18 decimals) as a decimal string" })
const Int = (minimum: number) =>
  Schema.Number.check(Schema.isInt({ expected: "a whole number" }), Schema.isBetween({ minimum, maximum: Number.MAX_SAFE_INTEGER }, { expected: `a whole number >= ${minimum}` }))
const Text = (max: number) => Schema.String.check(Schema.isBetweenLength(1, max, { expected: `a string of 1 to ${max} characters` }))
const Hex = Schema.String.annotate({ description: "0x-prefixed lowercase hex" })
/** A number in a response (always finite). */
const Num = Schema.Finite
export const Tier = Schema.Literals([0, 30, 90, 180, 365]).annotate({ description: "lock-up tier in days" })

// ---- responses ----------------------------------------------------------------------------------

export const Supply = Schema.Struct({
  minted: Amount, balances: Amount, bonded: Amount, unbonding: Amount, rewardPool: Amount, insurancePool: Amount, burnt: Amount,
}).annotate({ identifier: "Supply" })

const ParamValues = Schema.Record(Schema.String, Schema.Union([Num, Schema.String, Schema.Boolean]))

export const Status = Schema.Struct({
  node: Schema.String,
  chainId: Num,
  address: Hex,
  account: Schema.String.annotate({ description: "the economy account this node acts for" }),
  height: Num.annotate({ description: "last executed block" }),
  round: Num.annotate({ description: "consensus round of the height being decided" }),
  step: Schema.String,
  appHash: Hex,
  lastBlockHash: Hex,
  lastBlockTime: Num,
  epoch: Num,
  snapshot: Num.annotate({ description: "the committee snapshot governing the epoch: its validator set and parameters, read from the ledger (the Committee contract on a chain)" }),
  params: ParamValues.annotate({ description: "the parameters the network runs with this epoch (the snapshot's): a change governance executed on the chain shows here from the next epoch" }),
  nextNonce: Num,
  pendingTxs: Num,
  peers: Num,
  validators: Num,
  supply: Supply,
  market: Schema.NullOr(Schema.Struct({
    providers: Num.annotate({ description: "providers registered and not retired" }),
    jobs: Schema.Struct({ open: Num, assigned: Num, disputed: Num, settled: Num, expired: Num }).annotate({ description: "jobs by state" }),
    paidUnits: Schema.String.annotate({ description: "units of work paid to providers since genesis, as a decimal string" }),
    paid: Amount.annotate({ description: "paid to providers since genesis (after fees)" }),
    feeBurnt: Amount.annotate({ description: "market fees burnt since genesis" }),
    feeToStakers: Amount.annotate({ description: "market fees paid to stakers since genesis" }),
    at: Num.annotate({ description: "when the node read it (after a committed block that changed the market)" }),
  })).annotate({ description: "the compute market on the node's ledger as of its last change (GET /market for all of it); null until the node has read it" }),
  training: Schema.NullOr(Schema.Struct({
    backend: Schema.String.annotate({ description: "TensorFlow.js backend: tensorflow, wasm or cpu" }),
    dataset: Schema.String,
    model: Schema.String,
    shard: Num,
    shards: Num,
    samples: Num,
  })).annotate({ description: "what this node trains on, or null when it does not train" }),
  waiting: Schema.NullOr(Schema.Struct({
    needs: Schema.String.annotate({ description: "what the consensus step waits for" }),
    proposer: Hex.annotate({ description: "the round's proposer" }),
    proposal: Schema.Boolean.annotate({ description: "whether this node holds the round's proposal" }),
    seen: Schema.String.annotate({ description: "voting power of the step's votes heard in this round" }),
    quorum: Schema.String.annotate({ description: "the power a quorum needs (more than 2/3 of the total)" }),
    total: Schema.String,
    silent: Schema.Array(Hex).annotate({ description: "validators of the set not heard from in this round" }),
    expectedPeers: Num.annotate({ description: "the other validators of the set (peers a validator expects)" }),
    line: Schema.String.annotate({ description: "all of it as one line for a log" }),
  })).annotate({ description: "what consensus waits for at the height being decided (null before the first height)" }),
}).annotate({ identifier: "Status" })
export type Status = typeof Status.Type

export const Peer = Schema.Struct({ id: Schema.String }).annotate({ identifier: "Peer" })
export type Peer = typeof Peer.Type

export const ValidatorView = Schema.Struct({
  operator: Schema.String,
  address: Schema.NullOr(Hex),
  active: Schema.Boolean.annotate({ description: "in the validator set of the next height" }),
  power: Schema.String.annotate({ description: "voting power in the next height's set (decimal string)" }),
  tokens: Amount,
  commission: Schema.String.annotate({ description: "wad fraction (1e18 = 100%) as a decimal string" }),
  jailed: Schema.Boolean,
  tombstoned: Schema.Boolean,
}).annotate({ identifier: "Validator" })
export type ValidatorView = typeof ValidatorView.Type

export const BlockView = Schema.Struct({
  height: Num,
  round: Num,
  hash: Hex,
  parentHash: Hex,
  proposer: Hex,
  time: Num,
  appHash: Hex,
  txCount: Num,
  txTypes: Schema.Array(Schema.String),
  precommits: Num,
}).annotate({ identifier: "Block" })
export type BlockView = typeof BlockView.Type

export const BlockDetail = Schema.Struct({
  ...BlockView.fields,
  txs: Schema.Array(Schema.Json),
}).annotate({ identifier: "BlockDetail" })
export type BlockDetail = typeof BlockDetail.Type

export const RoundView = Schema.Struct({
  round: Num,
  phase: Schema.String.annotate({ description: "last phase seen: the suffix of its training.round.<phase> event" }),
  node: Schema.String,
  updatedAt: Num,
  data: Schema.Record(Schema.String, Schema.Json),
}).annotate({ identifier: "TrainingRound" })
export type RoundView = typeof RoundView.Type

const ActionView = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("param"), name: Schema.String, value: Schema.Union([Num, Schema.String, Schema.Boolean]) }),
  Schema.Struct({ kind: Schema.Literal("amendment"), name: Schema.String, min: Num, max: Num }),
  Schema.Struct({ kind: Schema.Literal("spend"), to: Schema.String, amount: Amount }),
])

export const ProposalView = Schema.Struct({
  id: Num,
  proposer: Schema.String,
  action: ActionView,
  state: Schema.Literals(["None", "Active", "Defeated", "Queued", "Executable", "Executed"]),
  votingEnds: Num,
  executableAt: Num,
  forVotes: Schema.String,
  againstVotes: Schema.String,
  abstainVotes: Schema.String.annotate({ description: "abstentions: they count toward quorum (their stake is in stakeVoted), never toward approval" }),
  stakeVoted: Amount,
}).annotate({ identifier: "Proposal" })
export type ProposalView = typeof ProposalView.Type

export const PositionView = Schema.Struct({
  id: Num,
  owner: Schema.String,
  pool: Schema.String,
  tier: Tier,
  tokens: Amount,
  shares: Schema.String,
  multiplier: Schema.String.annotate({ description: "lock multiplier as a wad (1e18 = 1x)" }),
  createdAt: Num,
  unlockAt: Num,
}).annotate({ identifier: "Position" })
export type PositionView = typeof PositionView.Type

/** A stake operation applied on the ledger (the Chain port): stake never travels in a block. */
export const TxReceipt = Schema.Struct({
  type: Schema.Literal("stake"),
  op: Schema.Json,
  account: Schema.String.annotate({ description: "the ledger account the operation acted for (this node's)" }),
  status: Schema.Literal("applied"),
  receipt: Schema.Json.annotate({ description: "what moved on the ledger (amounts as decimal strings)" }),
}).annotate({ identifier: "TxReceipt" })
export type TxReceipt = typeof TxReceipt.Type

export const ProposeResult = Schema.Struct({ id: Num }).annotate({ identifier: "ProposeResult" })
export const VoteResult = Schema.Struct({ proposal: Num, votes: Schema.String }).annotate({ identifier: "VoteResult" })
export const ExecuteResult = Schema.Struct({
  id: Num,
  action: ActionView,
  state: Schema.Literal("Executed"),
}).annotate({ identifier: "ExecuteResult" })
export type ExecuteResult = typeof ExecuteResult.Type

/** A parameter's value as JSON: durations in ms, fractions and tokens as numbers, flags, choices. */
export const ParamsView = Schema.Struct({
  network: ParamValues.annotate({ description: "the parameters the network (consensus, training) runs with now" }),
  chain: Schema.NullOr(ParamValues).annotate({
    description: "the parameters in force on the chain (the Constitution and Staking), which governance changes; null when the node has no chain",
  }),
}).annotate({ identifier: "Params" })
export type ParamsView = typeof ParamsView.Type

export const RegisterResult = Schema.Struct({
  operator: Schema.String.annotate({ description: "the account that registered (this node's)" }),
  signingKey: Hex.annotate({ description: "the consensus key's address that signs its votes: this node's" }),
  pool: Schema.String,
  position: Num,
  amount: Amount,
  tier: Tier,
  commission: Amount.annotate({ description: "commission as a wad (1e18 = 100%)" }),
  unlockAt: Num,
}).annotate({ identifier: "RegisterResult" })
export type RegisterResult = typeof RegisterResult.Type

export const BondResult = Schema.Struct({
  owner: Schema.String,
  pool: Schema.String,
  position: Num,
  amount: Amount,
  tier: Tier,
  unlockAt: Num,
}).annotate({ identifier: "BondResult" })
export type BondResult = typeof BondResult.Type

export const EvidenceResult = Schema.Struct({
  validator: Hex, height: Num, round: Num, status: Schema.Literal("pending"),
}).annotate({ identifier: "EvidenceResult" })

// ---- the compute market ----------------------------------------------------------------------------

const JobStateLiteral = Schema.Literals(["open", "assigned", "disputed", "settled", "expired"])
/** A count of work units (bigint on the ledger) as a decimal string. */
const UnitsText = Schema.String.annotate({ description: "units of work as a decimal string" })

export const MarketTotals = Schema.Struct({
  providers: Num.annotate({ description: "providers registered (retired ones included)" }),
  activeProviders: Num.annotate({ description: "providers not retired" }),
  jobs: Schema.Struct({ open: Num, assigned: Num, disputed: Num, settled: Num, expired: Num }).annotate({ description: "jobs by state" }),
  escrow: Amount.annotate({ description: "job budgets held in escrow now" }),
  bonds: Amount.annotate({ description: "provider bonds held now" }),
  paid: Amount.annotate({ description: "paid to providers since genesis (after fees)" }),
  paidUnits: UnitsText.annotate({ description: "units of work paid to providers since genesis" }),
  feeBurnt: Amount.annotate({ description: "market fees burnt since genesis" }),
  feeToStakers: Amount.annotate({ description: "market fees paid to stakers since genesis" }),
  returned: Amount.annotate({ description: "escrow returned to requesters since genesis" }),
  compensation: Amount.annotate({ description: "paid to requesters from provider bonds (no-show penalties, wrong-result slashes)" }),
}).annotate({ identifier: "MarketTotals" })
export type MarketTotals = typeof MarketTotals.Type

export const MarketProviderView = Schema.Struct({
  address: Schema.String.annotate({ description: "the provider's account" }),
  bond: Amount,
  kinds: Schema.Array(Schema.String).annotate({ description: "job kinds served, e.g. infer:mnist" }),
  pricePerUnit: Amount,
  capacity: Num.annotate({ description: "jobs it holds at once" }),
  openJobs: Num.annotate({ description: "jobs assigned to it now (its queue)" }),
  retired: Schema.Boolean,
  registeredAt: Num,
  penalized: Amount.annotate({ description: "taken from its bond so far (no-show penalties and slashes)" }),
  earned: Amount.annotate({ description: "debit notes paid to it, before fees" }),
}).annotate({ identifier: "MarketProvider" })
export type MarketProviderView = typeof MarketProviderView.Type

export const MarketNoteView = Schema.Struct({
  id: Num,
  provider: Schema.String,
  units: UnitsText,
  pricePerUnit: Amount,
  amount: Amount,
  resultHash: Hex,
  deliveredAt: Num,
  state: Schema.Literals(["pending", "disputed", "paid", "refuted"]),
}).annotate({ identifier: "MarketDebitNote" })

export const MarketJobView = Schema.Struct({
  id: Num,
  requester: Schema.String,
  kind: Schema.String,
  units: UnitsText,
  maxPricePerUnit: Amount,
  budget: Amount,
  deadline: Num,
  postedAt: Num,
  state: JobStateLiteral,
  provider: Schema.NullOr(Schema.String).annotate({ description: "the provider assigned now (the last one on a final job); null while open" }),
  pricePerUnit: Amount.annotate({ description: "the provider's price locked at assignment (0 while open)" }),
  assignedAt: Num,
  lastActivity: Num,
  delivered: UnitsText,
  paidUnits: UnitsText,
  escrow: Amount,
  paid: Amount,
  feeBurnt: Amount,
  feeToStakers: Amount,
  returned: Amount,
  compensation: Amount,
  notes: Schema.Array(MarketNoteView),
  excluded: Schema.Array(Schema.String).annotate({ description: "providers refuted on this job, never assigned to it again" }),
}).annotate({ identifier: "MarketJob" })
export type MarketJobView = typeof MarketJobView.Type

/** A market operation the ledger applied for this node's account. */
export const MarketOpResult = Schema.Struct({
  type: Schema.String.annotate({ description: "the operation (registerProvider, postJob, confirm, dispute, refund)" }),
  account: Schema.String.annotate({ description: "the ledger account the operation acted for (this node's)" }),
  receipt: Schema.Json.annotate({ description: "what moved on the ledger (amounts as decimal strings)" }),
  job: Schema.optionalKey(MarketJobView),
  provider: Schema.optionalKey(MarketProviderView),
  advertised: Schema.optionalKey(Schema.Array(Schema.String).annotate({ description: "network keys this node now advertises as a provider (market/<kind>)" })),
}).annotate({ identifier: "MarketOpResult" })
export type MarketOpResult = typeof MarketOpResult.Type

export const ErrorBody = Schema.Struct({
  error: Schema.String,
  field: Schema.optionalKey(Schema.String.annotate({ description: "the offending field of the body or query, dotted" })),
}).annotate({ identifier: "Error" })
export type ErrorBody = typeof ErrorBody.Type

// ---- requests -----------------------------------------------------------------------------------

export const StakeRequest = Schema.Struct({
  amount: Amount,
  tier: Schema.optionalKey(Tier),
  validator: Schema.optionalKey(Text(100).annotate({ description: "operator id to delegate to; absent: bond in this node's contributor pool" })),
}).annotate({ identifier: "StakeRequest" })
export type StakeRequest = typeof StakeRequest.Type

export const UnbondRequest = Schema.Struct({ position: Int(0), amount: Amount }).annotate({ identifier: "UnbondRequest" })
export type UnbondRequest = typeof UnbondRequest.Type

const Finite = Schema.Finite
export const ProposeRequest = Schema.Struct({
  action: Schema.Union([
    Schema.Struct({ kind: Schema.Literal("param"), name: Text(100), value: Schema.Union([Finite, Text(200), Schema.Boolean]) }),
    Schema.Struct({ kind: Schema.Literal("amendment"), name: Text(100), min: Finite, max: Finite }),
    Schema.Struct({ kind: Schema.Literal("spend"), to: Text(100), amount: Amount }),
  ]),
}).annotate({ identifier: "ProposeRequest" })
export type ProposeRequest = typeof ProposeRequest.Type

export const VoteRequest = Schema.Struct({
  proposal: Int(1),
  support: Schema.Union([Schema.Literals(["for", "against", "abstain"]), Schema.Boolean]).annotate({
    description: "\"for\", \"against\" or \"abstain\" (OpenZeppelin's GovernorCountingSimple: abstain counts toward quorum only); true (for) and false (against) are kept for compatibility",
  }),
}).annotate({ identifier: "VoteRequest" })
export type VoteRequest = typeof VoteRequest.Type
/** A vote request's support as the Chain port takes it (true: for, false: against). */
export const supportOf = (s: VoteRequest["support"]): "for" | "against" | "abstain" => s === true ? "for" : s === false ? "against" : s

export const RegisterRequest = Schema.Struct({
  amount: Amount.annotate({ description: "the self-bond in base units (at least staking.minValidatorBond)" }),
  tier: Schema.optionalKey(Tier),
  commission: Schema.optionalKey(Amount.annotate({ description: "commission on delegators' rewards as a wad (1e18 = 100%; at most staking.maxCommission); default 0" })),
}).annotate({ identifier: "RegisterRequest" })
export type RegisterRequest = typeof RegisterRequest.Type

export const BondTrainerRequest = Schema.Struct({
  amount: Amount.annotate({ description: "the contributor bond in base units (at least staking.minContributorBond)" }),
  tier: Schema.optionalKey(Tier),
}).annotate({ identifier: "BondTrainerRequest" })
export type BondTrainerRequest = typeof BondTrainerRequest.Type

export const EvidenceRequest = Schema.Struct({ voteA: VoteSchema, voteB: VoteSchema }).annotate({ identifier: "EvidenceRequest" })
export type EvidenceRequest = typeof EvidenceRequest.Type

/** Units of work: a positive whole number, as a decimal string or a JSON number. */
const PositiveUnits = Schema.Union([
  Schema.String.check(Schema.isPattern(/^[1-9][0-9]{0,19}$/, { expected: "a positive whole number of units (decimal string)" })),
  Int(1),
]).annotate({ description: "units of work (> 0), as a decimal string or a whole number" })
/** A positive amount in base units. */
const PositiveAmount = Schema.String.check(Schema.isPattern(/^[1-9][0-9]{0,77}$/, { expected: "a positive decimal string of base units" }))
  .annotate({ description: "token amount in base units (18 decimals) as a decimal string, more than 0" })
const JobKind = Schema.String.check(Schema.isPattern(/^[\x21-\x7e]{1,64}$/, { expected: "a job kind of 1 to 64 printable characters without spaces, e.g. infer:mnist" }))

export const RegisterProviderRequest = Schema.Struct({
  bond: Amount.annotate({ description: "the bond in base units, from this node's account (at least market.minProviderBond)" }),
  kinds: Schema.Array(JobKind).check(Schema.isMinLength(1), Schema.isMaxLength(16)).annotate({ description: "job kinds served (1 to 16), e.g. [\"infer:mnist\"]" }),
  pricePerUnit: PositiveAmount,
  capacity: Schema.Number.check(Schema.isInt({ expected: "a whole number" }), Schema.isBetween({ minimum: 1, maximum: 1_000_000 }, { expected: "a whole number from 1 to 1000000" }))
    .annotate({ description: "jobs it takes at once" }),
}).annotate({ identifier: "RegisterProviderRequest" })
export type RegisterProviderRequest = typeof RegisterProviderRequest.Type

export const PostJobRequest = Schema.Struct({
  kind: JobKind,
  units: PositiveUnits,
  maxPricePerUnit: PositiveAmount,
  deadline: Schema.Union([Text(20), Int(1)]).annotate({ description: "how long from now the job may run: a duration such as 60s, 10m, 1h, or ms" }),
}).annotate({ identifier: "PostJobRequest" })
export type PostJobRequest = typeof PostJobRequest.Type

// ---- decoding -----------------------------------------------------------------------------------

/** A refused body: what was wrong and the dotted path of the field ("" for the body itself). */
export interface DecodeFailure {
  readonly error: string
  readonly field: string
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Decode `value` with `schema`, refusing unknown fields; the failure names the first bad field. */
export const decodeBody = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown): Result.Result<S["Type"], DecodeFailure> => {
  const r = Schema.decodeUnknownResult(schema)(value, { onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed(r.success)
  const issue = formatter(r.failure.issue).issues[0]
  const field = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  if (issue?.message === "Expected no excess property") return Result.fail({ field, error: `${field}: unknown field` })
  const message = field === "" && (typeof value !== "object" || value === null || Array.isArray(value)) ? "expected a JSON object" : issue?.message ?? "invalid"
  return Result.fail({ field, error: `${field === "" ? "body" : field}: ${message}` })
}
