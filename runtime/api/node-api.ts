/**
 * The port the API server needs from a node: reads of its state, the operations its operator may
 * ask for, and its telemetry stream. The server knows nothing else about a node; `makeAppNodeApi`
 * (app-node-api.ts) implements it over a running consensus node and its application state, and
 * the node command mounts `startApiServer` on that.
 *
 * Every method may be asynchronous (blocks come from the node's store). A refusal a caller can act
 * on is an `ApiRefusal` with the HTTP status to answer; anything else thrown is a 500 and is logged.
 */
import { Schema } from "effect"
import type { JobFilter } from "../core/market/index.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import type { GenerateRequest, GenerateStarted } from "./generate.ts"
import type {
  BlockDetail, BlockView, BondResult, MarketJobView, MarketOpResult, MarketProviderView, MarketTotals, PostJobRequest, RegisterProviderRequest, BondTrainerRequest, EvidenceRequest, ExecuteResult, ParamsView, Peer, PositionView, ProposalView, ProposeRequest,
  RegisterRequest, RegisterResult, RoundView, StakeRequest, Status, TxReceipt, UnbondRequest, ValidatorView, VoteRequest,
} from "./schemas.ts"

/** Something the node refuses, with the HTTP status that says why (422 a rule, 404 not found, 503 unavailable). */
export class ApiRefusal extends Schema.TaggedError<ApiRefusal>()("ApiRefusal", {
  /** The HTTP status it answers with. */
  status: Schema.Number,
  reason: Schema.String,
  /** The request field at fault, if one is. */
  field: Schema.optional(Schema.String),
}) {
  override get message() {
    return this.reason
  }
}

/** One Prometheus sample the node contributes to /metrics (the server adds process metrics). */
export interface MetricSample {
  readonly name: string
  readonly help: string
  readonly type: "gauge" | "counter"
  readonly value: number | bigint
  /** Labels of a sample of a labelled family (`dai_market_jobs{state="open"}`); every sample of one name has the same label names. */
  readonly labels?: Readonly<Record<string, string>>
}

type Async<A> = A | Promise<A>

export interface NodeApi {
  status(): Async<Status>
  peers(): Async<readonly Peer[]>
  validators(): Async<readonly ValidatorView[]>
  /** Blocks from height `from` upwards, at most `limit`. */
  blocks(from: number, limit: number): Async<readonly BlockView[]>
  /** One block with its transactions, or undefined when the node has none at that height. */
  block(height: number): Async<BlockDetail | undefined>
  rounds(): Async<readonly RoundView[]>
  proposals(): Async<readonly ProposalView[]>
  positions(owner?: string): Async<readonly PositionView[]>
  /** Bond tokens of this node's account (delegate to a validator, or in its own contributor pool) as a signed tx. */
  stake(req: StakeRequest): Async<TxReceipt>
  unbond(req: UnbondRequest): Async<TxReceipt>
  propose(req: ProposeRequest): Async<{ readonly id: number }>
  vote(req: VoteRequest): Async<{ readonly proposal: number; readonly votes: string }>
  /** Execute passed proposal `id` after its timelock (anyone may; this node's account sends it). */
  execute(id: number): Async<ExecuteResult>
  /** The parameters the network runs with, and those in force on the chain. */
  params(): Async<ParamsView>
  /** Register this node's account as a validator on the chain, signing with the node's consensus key. */
  registerValidator(req: RegisterRequest): Async<RegisterResult>
  /** Bond this node's account as a trainer (a contributor bond on the chain). */
  bondTrainer(req: BondTrainerRequest): Async<BondResult>
  /** Verify double-sign evidence and hand it to consensus for the next block. */
  submitEvidence(req: EvidenceRequest): Async<{ readonly validator: string; readonly height: number; readonly round: number; readonly status: "pending" }>
  /** The compute market's totals: providers, jobs by state, escrow, bonds, fees since genesis. */
  market(): Async<MarketTotals>
  marketProviders(): Async<readonly MarketProviderView[]>
  marketJobs(filter: JobFilter): Async<readonly MarketJobView[]>
  /** One market job with its debit notes, or undefined. */
  marketJob(id: number): Async<MarketJobView | undefined>
  /** Register this node's account as a market provider on the ledger and announce it on the network. */
  registerProvider(req: RegisterProviderRequest): Async<MarketOpResult>
  /** Announce this node's provider record again (after a restart, or to refresh its queue). */
  advertiseProvider(): Async<MarketOpResult>
  /** Post a job as this node's account: its budget goes into escrow. */
  postJob(req: PostJobRequest): Async<MarketOpResult>
  /** Confirm (pay) job `id`'s pending debit notes, as its requester. */
  confirmJob(id: number): Async<MarketOpResult>
  /** Dispute job `id`'s pending debit notes, as its requester. */
  disputeJob(id: number): Async<MarketOpResult>
  /** Refund job `id` after its deadline (anyone may). */
  refundJob(id: number): Async<MarketOpResult>
  /** Start a paid generation through the language model's pipeline (its tokens stream as lm.generate.* events); absent: this node runs none. */
  generate?(req: GenerateRequest): Async<GenerateStarted>
  /**
   * Every telemetry event from now on; the returned function unsubscribes. With `replay`, first the
   * current state: the latest event of each kind that describes state (the validator table, the
   * market, the step, …: runtime/api/telemetry-hub.ts), which a node reports when it changes.
   */
  subscribe(listener: (event: TelemetryEvent) => void, options?: { readonly replay?: boolean }): () => void
  metrics(): Async<readonly MetricSample[]>
}
