/**
 * The `Economy` facade: one mutable in-memory ledger (token, staking, rewards, slashing, insurance)
 * driven by `apply(op, now)`. Deterministic: no clock, no randomness; time is passed in and only
 * moves forward. A refused operation returns `Result.fail` and changes nothing, because every
 * transition validates all of its inputs before its first mutation.
 */
import { Result } from "effect"
import type { Params } from "../params.ts"
import { LedgerInvalidTime, LedgerTimeWentBackwards, LedgerUnknownOperation, type EconError } from "./errors.ts"
import type { EconOp, Receipt, ReceiptOf } from "./ops.ts"
import { payContributors, type ContributorPayoutReceipt, type ScoreEntry } from "./contributions.ts"
import { claimRewards, fundRewards, payFee, pendingOf, type PendingRewards } from "./rewards.ts"
import { slash, unjail } from "./slashing.ts"
import { bondContributor, delegate, positionValue, registerValidator, tokensAt, unbond, withdraw } from "./staking.ts"
import {
  cloneState, snapshotOf, supplyOf, type Address, type EconSnapshot, type EconState, type Pool, type PoolId, type PoolSnapshot,
  type Position, type SupplyBreakdown, type UnbondingEntry,
} from "./state.ts"
import { balanceOf, burn, genesisState, transfer, type Allocation } from "./token.ts"
import type { CommitteeError } from "../committee/errors.ts"
import type { EpochReport, ReportSignature, Snapshot } from "../committee/types.ts"
import {
  depositFees, reportConflict, requestFeeWithdrawal, RESERVE_ACCOUNT, submitEpochReport, takeSnapshot, withdrawFees, type ConflictReceipt,
  type EpochSettlementReceipt, type FeeDepositReceipt, type FeeWithdrawalReceipt, type FeeWithdrawalRequestReceipt, type ReportContext,
} from "./committee.ts"
import type { AcceptedReport } from "./state.ts"
import type { MarketError } from "../market/errors.ts"
import type { JobView, MarketOp, MarketReceipt, MarketReceiptOf, ProviderView } from "../market/types.ts"
import { applyMarketOp, jobView, MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT, providerView } from "./market.ts"

/** A pool as a plain read-only copy. */
export type PoolView = PoolSnapshot
/** A position as a plain read-only copy, with what it is worth now. */
export type PositionView = Readonly<Position> & { readonly tokens: bigint }
export type UnbondingView = Readonly<UnbondingEntry>

const poolView = (p: Pool): PoolView => ({
  ...p, checkpoints: p.checkpoints.map((c) => ({ ...c })), unbondingIds: [...p.unbondingIds].sort((a, b) => a - b),
})

export class Economy {
  #s: EconState
  #params: Params

  private constructor(state: EconState, params: Params) {
    this.#s = state
    this.#params = params
  }

  /** Mint exactly TOTAL_SUPPLY over `allocations` at time `now`. */
  static genesis(allocations: ReadonlyArray<Allocation>, params: Params, now: number): Result.Result<Economy, EconError> {
    if (!Number.isSafeInteger(now) || now < 0) return Result.fail(new LedgerInvalidTime({ now }))
    const s = genesisState(allocations, now)
    return Result.isFailure(s) ? Result.fail(s.failure) : Result.succeed(new Economy(s.success, params))
  }

  /** Apply one operation at virtual time `now` (≥ the last operation's); on failure nothing changed. */
  apply<O extends EconOp>(op: O, now: number): Result.Result<ReceiptOf<O["type"]>, EconError>
  apply(op: EconOp, now: number): Result.Result<Receipt, EconError> {
    if (!Number.isSafeInteger(now) || now < 0) return Result.fail(new LedgerInvalidTime({ now }))
    if (now < this.#s.now) return Result.fail(new LedgerTimeWentBackwards({ now, last: this.#s.now }))
    const r = this.#dispatch(op, now)
    if (Result.isSuccess(r)) this.#s.now = now
    return r
  }

  #dispatch(op: EconOp, now: number): Result.Result<Receipt, EconError> {
    const s = this.#s
    const p = this.#params
    switch (op.type) {
      case "transfer": return transfer(s, op.from, op.to, op.amount)
      case "burn": return burn(s, op.from, op.amount)
      case "registerValidator": return registerValidator(s, p, op.operator, op.amount, op.tier, op.commission, now, op.signingKey)
      case "bondContributor": return bondContributor(s, p, op.owner, op.amount, op.tier, now)
      case "delegate": return delegate(s, p, op.owner, op.validator, op.amount, op.tier, now)
      case "unbond": return unbond(s, p, op.owner, op.position, op.amount, now)
      case "withdraw": return withdraw(s, op.owner, now)
      case "claimRewards": return claimRewards(s, op.owner)
      case "payFee": return payFee(s, p, op.payer, op.amount)
      case "fundRewards": return fundRewards(s, op.from, op.amount)
      case "slash": return slash(s, p, op.pool, op.infraction, op.infractionTime, op.evidenceId, now)
      case "unjail": return unjail(s, op.operator, now)
      default: return Result.fail(new LedgerUnknownOperation({ type: (op as { type?: unknown }).type }))
    }
  }

  /**
   * Pay `amount` of `from`'s balance to `scores`' accounts pro rata of score (contributions.ts):
   * the application's payout of the contributors' pot when a round's scores are revealed. Not an
   * `EconOp`: nobody submits it, the application does. On failure nothing changed.
   */
  payContributors(from: Address, amount: bigint, scores: readonly ScoreEntry[], now: number): Result.Result<ContributorPayoutReceipt, EconError> {
    if (!Number.isSafeInteger(now) || now < 0) return Result.fail(new LedgerInvalidTime({ now }))
    if (now < this.#s.now) return Result.fail(new LedgerTimeWentBackwards({ now, last: this.#s.now }))
    const r = payContributors(this.#s, from, amount, scores)
    if (Result.isSuccess(r)) this.#s.now = now
    return r
  }

  /** Run a committee operation at `now` like `apply`: time checked first, moved only on success. */
  #timed<A, E>(now: number, f: () => Result.Result<A, E>): Result.Result<A, E | EconError> {
    if (!Number.isSafeInteger(now) || now < 0) return Result.fail(new LedgerInvalidTime({ now }))
    if (now < this.#s.now) return Result.fail(new LedgerTimeWentBackwards({ now, last: this.#s.now }))
    const r = f()
    if (Result.isSuccess(r)) this.#s.now = now
    return r
  }

  /** Record a committee snapshot (the validator set with its voting power, the trainers, the params) under the next id. */
  takeSnapshot(caller: Address, now: number): Result.Result<Snapshot, EconError> {
    return this.#timed(now, () => takeSnapshot(this.#s, this.#params, caller, now))
  }

  /** Move `amount` of `account`'s balance into its fee deposit. */
  depositFees(account: Address, amount: bigint, now: number): Result.Result<FeeDepositReceipt, EconError> {
    return this.#timed(now, () => depositFees(this.#s, account, amount))
  }

  /** Ask to withdraw `amount` of `account`'s fee deposit once a day has passed. */
  requestFeeWithdrawal(account: Address, amount: bigint, now: number): Result.Result<FeeWithdrawalRequestReceipt, EconError | CommitteeError> {
    return this.#timed(now, () => requestFeeWithdrawal(this.#s, account, amount, now))
  }

  /** Withdraw the fee deposit `account` asked for, once its day is over. */
  withdrawFees(account: Address, now: number): Result.Result<FeeWithdrawalReceipt, EconError | CommitteeError> {
    return this.#timed(now, () => withdrawFees(this.#s, account, now))
  }

  /** Verify an epoch report against its snapshot and settle it (committee.ts); refused → nothing changed. */
  submitEpochReport(
    report: EpochReport, signatures: readonly ReportSignature[], submitter: Address, ctx: ReportContext, now: number,
  ): Result.Result<EpochSettlementReceipt, EconError | CommitteeError> {
    return this.#timed(now, () => submitEpochReport(this.#s, this.#params, report, signatures, submitter, ctx, now))
  }

  /** Slash the validators who signed both `report` and the accepted report of its epoch (committee.ts). */
  reportConflict(
    report: EpochReport, signatures: readonly ReportSignature[], submitter: Address, ctx: ReportContext, now: number,
  ): Result.Result<ConflictReceipt, EconError | CommitteeError> {
    return this.#timed(now, () => reportConflict(this.#s, this.#params, report, signatures, submitter, ctx, now))
  }

  /** Committee snapshot `id`, or undefined. */
  committeeSnapshot(id: number): Snapshot | undefined {
    return Number.isSafeInteger(id) && id >= 1 ? this.#s.committee.snapshots[id - 1] : undefined
  }

  /** The newest committee snapshot, or undefined before the first. */
  latestSnapshot(): Snapshot | undefined {
    const all = this.#s.committee.snapshots
    return all[all.length - 1]
  }

  /** The accepted report of `epoch`, or undefined. */
  epochReport(epoch: number): AcceptedReport | undefined {
    return this.#s.committee.reports.get(epoch)
  }

  /** `account`'s fee deposit. */
  feeDeposit(account: Address): bigint {
    return this.#s.committee.feeDeposits.get(account) ?? 0n
  }

  /** The committee's totals: reserve left, fee deposits held, emission clock (s), last epoch. */
  committeeTotals(): { readonly reserve: bigint; readonly feeDeposits: bigint; readonly emittedUntil: bigint; readonly lastEpoch: number; readonly snapshots: number } {
    const c = this.#s.committee
    return { reserve: balanceOf(this.#s, RESERVE_ACCOUNT), feeDeposits: c.feeDepositTotal, emittedUntil: c.emittedUntil, lastEpoch: c.lastEpoch, snapshots: c.snapshots.length }
  }

  /**
   * Apply one compute-market operation (market.ts) at `now` like `apply`: time checked first, moved only on success.
   * `ctx` checks a verdict's committee signatures (`resolveDispute` is refused without it).
   */
  marketOp<O extends MarketOp>(op: O, now: number, ctx?: ReportContext): Result.Result<MarketReceiptOf<O["type"]>, MarketError | EconError | CommitteeError>
  marketOp(op: MarketOp, now: number, ctx?: ReportContext): Result.Result<MarketReceipt, MarketError | EconError | CommitteeError> {
    return this.#timed(now, () => applyMarketOp(this.#s, this.#params, op, now, ctx))
  }

  /** The market provider registered by `address`, or undefined. */
  provider(address: Address): ProviderView | undefined {
    const p = this.#s.market.providers.get(address)
    return p === undefined ? undefined : providerView(p)
  }

  /** Every market provider, in registration order. */
  providers(): ProviderView[] {
    return [...this.#s.market.providers.values()].map(providerView)
  }

  /** Market job `id`, or undefined. */
  job(id: number): JobView | undefined {
    const j = this.#s.market.jobs.get(id)
    return j === undefined ? undefined : jobView(j)
  }

  /** The market's totals: escrow and bonds held (the custody accounts), and over every job what was paid, burnt, shared and compensated. */
  marketTotals(): { readonly escrow: bigint; readonly bonds: bigint; readonly paid: bigint; readonly feeBurnt: bigint; readonly feeToStakers: bigint; readonly returned: bigint; readonly compensation: bigint } {
    const t = { escrow: balanceOf(this.#s, MARKET_ESCROW_ACCOUNT), bonds: balanceOf(this.#s, MARKET_BONDS_ACCOUNT), paid: 0n, feeBurnt: 0n, feeToStakers: 0n, returned: 0n, compensation: 0n }
    for (const j of this.#s.market.jobs.values()) {
      t.paid += j.paid
      t.feeBurnt += j.feeBurnt
      t.feeToStakers += j.feeToStakers
      t.returned += j.returned
      t.compensation += j.compensation
    }
    return t
  }

  /** Every market job, by id. */
  jobs(): JobView[] {
    return [...this.#s.market.jobs.values()].map(jobView)
  }

  /** The signing key validator `operator` registered, or undefined. */
  signingKeyOf(operator: Address): string | undefined {
    return this.#s.signingKeys.get(operator)
  }

  /** Replace the parameters (validated by the registry); existing positions keep their multipliers. */
  setParams(params: Params): void {
    this.#params = params
  }

  get params(): Params {
    return this.#params
  }

  /** Time of the last applied operation (or genesis). */
  get now(): number {
    return this.#s.now
  }

  balanceOf(a: Address): bigint {
    return balanceOf(this.#s, a)
  }

  /** Every pool, in creation order. */
  pools(): PoolView[] {
    return [...this.#s.pools.values()].map(poolView)
  }

  pool(id: PoolId): PoolView | undefined {
    const p = this.#s.pools.get(id)
    return p === undefined ? undefined : poolView(p)
  }

  /** Positions of `owner` (or all), by id. */
  positions(owner?: Address): PositionView[] {
    const ids = owner === undefined ? [...this.#s.positions.keys()] : [...(this.#s.positionsByOwner.get(owner) ?? [])]
    return ids.sort((a, b) => a - b).map((id) => {
      const pos = this.#s.positions.get(id)!
      return { ...pos, tokens: positionValue(this.#s.pools.get(pos.pool)!, pos) }
    })
  }

  /** Unbonding entries of `owner` (or all), by id. */
  unbonding(owner?: Address): UnbondingView[] {
    const ids = owner === undefined ? [...this.#s.unbonding.keys()] : [...(this.#s.unbondingByOwner.get(owner) ?? [])]
    return ids.sort((a, b) => a - b).map((id) => ({ ...this.#s.unbonding.get(id)! }))
  }

  /** What `claimRewards` would pay `owner` now. */
  pendingRewards(owner: Address): PendingRewards {
    return pendingOf(this.#s, owner)
  }

  /** Bonded tokens of a pool at a past time (the slash base); 0 before it existed. */
  stakeAt(pool: PoolId, time: number): bigint {
    const p = this.#s.pools.get(pool)
    return p === undefined ? 0n : tokensAt(p, time)
  }

  /** Where every minted token is. */
  supply(): SupplyBreakdown {
    return supplyOf(this.#s)
  }

  /** Reward accounting totals (funded, claimed, carried, global accumulator, total weight). */
  rewardTotals(): Readonly<EconState["rewards"]> {
    return { ...this.#s.rewards }
  }

  /** Insurance accounting totals (available, credited, paid in, paid out, claimed). */
  insuranceTotals(): Readonly<EconState["insurance"]> {
    return { ...this.#s.insurance }
  }

  /** A deep, plain, comparable copy of the entire state. */
  snapshot(): EconSnapshot {
    return snapshotOf(this.#s)
  }

  /** An independent copy (same params), e.g. to explore a branch in the simulator. */
  clone(): Economy {
    return new Economy(cloneState(this.#s), this.#params)
  }
}
