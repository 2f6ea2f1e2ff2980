/**
 * Chain port: the token, staking, slashing and governance state every node agrees on.
 *
 * Real backend: the Solidity contracts through ethers v6 (a Hardhat chain or any EVM JSON-RPC).
 * Simulated backend: the in-memory `Economy` of runtime/core/econ, which implements the same rules in
 * bigint. A refused operation fails with the economy's tagged error of the same name as the
 * contract's custom error (`StakingPositionLocked`, ...), so a revert and a simulator rejection read
 * alike; `ChainUnavailable` is the only failure that is not a rule. Governance (propose, vote,
 * execute) follows runtime/core/governance, mirroring contracts/Governance.sol, with its
 * `Governance…` / `Constitution…` errors. The compute market (providers, jobs, debit notes) follows
 * runtime/core/econ/market.ts, mirroring contracts/ComputeMarket.sol, with its `Market…` errors.
 */
import { Context, type Effect, Schema } from "effect"
import type {
  Address, ConflictReceipt, EconError, EconOp, EpochSettlementReceipt, FeeDepositReceipt, PendingRewards, PoolView, PositionView, ReceiptOf,
  SlashReceipt, SupplyBreakdown, UnbondingView,
} from "../core/econ/index.ts"
import type { AcceptedReportView, CommitteeError, EpochReport, ReportSignature, Snapshot } from "../core/committee/index.ts"
import type { GovernanceError, ProposalAction, ProposalState, Support, TallyInput } from "../core/governance/governance.ts"
export type { Support } from "../core/governance/governance.ts"
import type { JobFilter, JobView, MarketError, MarketOp, MarketReceiptOf, MarketVerdict, ProviderView } from "../core/market/index.ts"
import type { Params } from "../core/params.ts"
import type { SignedVote } from "../core/consensus/double-sign.ts"

/** A failure that is not a rule (no connection, a timeout, a contract-only refusal); `reason` keeps the underlying error. */
export class ChainUnavailable extends Schema.TaggedError<ChainUnavailable>()("ChainUnavailable", {
  operation: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.operation}: ${this.reason}`
  }
}

/** One signed consensus vote as the ledger checks double-sign evidence (`Staking.Vote`): core/consensus/double-sign.ts. */
export type { SignedVote } from "../core/consensus/double-sign.ts"

/** A proposal as the chain shows it (times in ms, votes as governance.quadratic counts them, stake in base units). */
/** A proposal as the chain holds it, with what its tally needs (core/governance `passes`: quorum and threshold as wads, the stake bonded when it was made). */
export interface ProposalView extends TallyInput {
  readonly id: number
  readonly proposer: Address
  readonly action: ProposalAction
  readonly state: ProposalState
  readonly votingEnds: number
  readonly executableAt: number
  /** Abstentions (counted toward quorum only: their stake is in stakeVoted). */
  readonly abstainVotes: bigint
}

export class Chain extends Context.Service<Chain, {
  /** Apply one operation; its receipt says exactly what moved. */
  submit<O extends EconOp>(op: O): Effect.Effect<ReceiptOf<O["type"]>, EconError | ChainUnavailable>
  /**
   * Slash and tombstone the validator whose registered signing key signed both `a` and `b`: two
   * conflicting votes (same chain id, height, round and type; different block hashes). Anyone may
   * submit (`submitter` sends it). The receipt's evidenceId is keccak256(abi.encode(signer, chainId,
   * height, round, voteType)), so each equivocation is punished once: a repeat fails with
   * `StakingInfractionAlreadySlashed`, a validator already tombstoned by other evidence with
   * `StakingTombstoned`, a key no validator registered (or votes that do not conflict) with
   * `StakingInvalidEvidence`; a refusal changes nothing.
   */
  slashDoubleSign(a: SignedVote, b: SignedVote, submitter: Address): Effect.Effect<SlashReceipt, EconError | ChainUnavailable>
  /**
   * Record a committee snapshot under the next id (1, 2, …): the active validators (operator,
   * signing key, stake, lock multiplier, contribution = its score in the last accepted epoch report)
   * with their voting power by core/consensus/power.ts, the bonded trainers, the params in force.
   * Anyone may call (`caller` sends it); a snapshot never changes once taken.
   */
  snapshot(caller: Address): Effect.Effect<Snapshot, EconError | ChainUnavailable>
  /** The newest snapshot, or undefined before the first. */
  readonly latestSnapshot: Effect.Effect<Snapshot | undefined, ChainUnavailable>
  /** Snapshot `id`, or undefined. */
  committee(id: number): Effect.Effect<Snapshot | undefined, ChainUnavailable>
  /**
   * The digest the committee signs for `report` on this ledger: core/committee `reportDigest` with
   * its consensus chain id, its address (the Committee contract; the zero address in memory) and
   * the report's accounts as it encodes them (on chain, account ids become their addresses).
   * `CommitteeBadReport` when an account has no encoding here.
   */
  reportDigest(report: EpochReport): Effect.Effect<Uint8Array, CommitteeError | ChainUnavailable>
  /** Move `amount` of `account`'s tokens into its fee deposit, which pays the fees of the transactions the committee orders for it. */
  depositFees(account: Address, amount: bigint): Effect.Effect<FeeDepositReceipt, EconError | ChainUnavailable>
  /** `account`'s fee deposit now. */
  feeDeposit(account: Address): Effect.Effect<bigint, ChainUnavailable>
  /**
   * Settle an epoch report signed by validators of the snapshot it names (signatures over
   * core/committee `reportDigest`). Refused, changing nothing, when badly formed
   * (`CommitteeBadReport`), for an unknown snapshot, for an epoch already reported
   * (`CommitteeEpochReported`) or older than the last, with an unknown signer, a signer twice, a
   * signature that does not verify, or signers holding less than the snapshot's quorum
   * (`CommitteeInsufficientPower`, with the numbers). Accepted, it slashes and jails the downtime
   * offenders, releases the epoch's emission from the reserve (contributors' pot to the scored
   * accounts, the rest to stakers) and debits the ordered fees from the payers' deposits
   * (core/committee/settle.ts); the receipt says what moved.
   */
  submitEpochReport(
    report: EpochReport, signatures: readonly ReportSignature[], submitter: Address,
  ): Effect.Effect<EpochSettlementReceipt, CommitteeError | EconError | ChainUnavailable>
  /** The accepted report of `epoch`, or undefined. */
  epochReport(epoch: number): Effect.Effect<AcceptedReportView | undefined, ChainUnavailable>
  /**
   * Evidence: a report for an already reported epoch that differs from the accepted one, with
   * signatures of it. Every signer whose key also signed the accepted report is slashed as a double
   * signer (tombstoned), once per (epoch, validator); refused (`CommitteeNotConflicting`,
   * `StakingInfractionAlreadySlashed`, …) changing nothing when nobody signed both.
   */
  reportConflict(
    report: EpochReport, signatures: readonly ReportSignature[], submitter: Address,
  ): Effect.Effect<ConflictReceipt, CommitteeError | EconError | ChainUnavailable>
  balanceOf(address: Address): Effect.Effect<bigint, ChainUnavailable>
  readonly supply: Effect.Effect<SupplyBreakdown, ChainUnavailable>
  readonly pools: Effect.Effect<readonly PoolView[], ChainUnavailable>
  positions(owner?: Address): Effect.Effect<readonly PositionView[], ChainUnavailable>
  unbonding(owner?: Address): Effect.Effect<readonly UnbondingView[], ChainUnavailable>
  pendingRewards(owner: Address): Effect.Effect<PendingRewards, ChainUnavailable>
  /** The parameters in force. */
  readonly params: Effect.Effect<Params, ChainUnavailable>
  /** Open a proposal (the proposer must be able to vote); its id. */
  propose(proposer: Address, action: ProposalAction): Effect.Effect<number, GovernanceError | ChainUnavailable>
  /** Vote for, against or abstain on proposal `id` (abstain counts toward quorum only); the votes cast: the voter's bonded stake in base units, or its sqrt when governance.quadratic. */
  castVote(id: number, voter: Address, support: Support): Effect.Effect<bigint, GovernanceError | ChainUnavailable>
  /** Execute a passed proposal after its timelock; the action executed. */
  executeProposal(id: number): Effect.Effect<ProposalAction, GovernanceError | EconError | ChainUnavailable>
  /** A proposal now, or undefined. */
  proposal(id: number): Effect.Effect<ProposalView | undefined, ChainUnavailable>
  /**
   * Apply one compute-market operation (runtime/core/market/types.ts `MarketOp`: registerProvider,
   * updateProvider, addBond, retireProvider, withdrawBond, postJob, assignJob, deliver, confirm,
   * settle, dispute, resolveDispute, reclaimNoShow, refund); its receipt says exactly what moved.
   * Refused, changing nothing, with the `Market…` error of the contract's name (or the token's); a
   * verdict (`resolveDispute`) whose signatures do not carry ≥ 2/3 of its snapshot's power with the
   * `Committee…` error an epoch report would get.
   */
  marketOp<O extends MarketOp>(op: O): Effect.Effect<MarketReceiptOf<O["type"]>, MarketError | CommitteeError | EconError | ChainUnavailable>
  /**
   * The digest the committee signs for `verdict` on this ledger (core/market/verdict.ts `verdictDigest`
   * with its consensus chain id, its address — ComputeMarket's; zero in memory — and the job's frozen
   * notes); `MarketNotDisputed` when the job has no dispute to judge.
   */
  marketVerdictDigest(verdict: MarketVerdict): Effect.Effect<Uint8Array, MarketError | ChainUnavailable>
  /** The market provider registered by `address`, or undefined. */
  marketProvider(address: Address): Effect.Effect<ProviderView | undefined, ChainUnavailable>
  /** Every market provider, in registration order. */
  readonly marketProviders: Effect.Effect<readonly ProviderView[], ChainUnavailable>
  /** Market job `id` with its debit notes, or undefined. */
  marketJob(id: number): Effect.Effect<JobView | undefined, ChainUnavailable>
  /** The market jobs `filter` asks for (all when omitted), by id. */
  marketJobs(filter?: JobFilter): Effect.Effect<readonly JobView[], ChainUnavailable>
}>()("dai/Chain") {}
