/**
 * The economy's state: plain mutable records that the transition functions (token.ts, staking.ts,
 * rewards.ts, slashing.ts, insurance.ts) change in place, Lodestar-style. Every amount is a bigint
 * in base units; every time is virtual milliseconds passed in by the caller.
 *
 * The layout mirrors the storage a Solidity contract would use (mappings by id, running totals,
 * per-owner index sets), so every operation is O(1) or O(entries of one owner / one pool).
 */

import type { AcceptedReportView, Snapshot } from "../committee/types.ts"
import type { DebitNote, Job, Provider } from "../market/types.ts"

/** An account id: any non-empty string ("v0", "0xabc.."). */
export type Address = string
/** A pool id: a validator's operator address, or `"contrib:" + owner` for a contributor. */
export type PoolId = string
/** Lock-up tier in days. */
export type LockTier = 0 | 30 | 90 | 180 | 365

/**
 * Scale of the reward-per-weight and reward-per-share accumulators (1e36). With at most 1e27 base
 * units in existence and weights of at least one base unit, accumulator increments keep at least 9
 * significant digits for any realistic funding, and the Solidity port stays within uint256 when the
 * products go through a 512-bit `mulDiv` (OpenZeppelin `Math.mulDiv`).
 */
export const PRECISION = 10n ** 36n

/** The prefix of a contributor's pool id. */
export const CONTRIBUTOR_PREFIX = "contrib:"

/** Tokens of a pool at a point in time (appended whenever the pool's tokens change). */
export interface Checkpoint {
  time: number
  tokens: bigint
}

/** A validator's or a contributor's staking pool (Cosmos-style shares: a slash is O(1)). */
export interface Pool {
  readonly id: PoolId
  readonly kind: "validator" | "contributor"
  readonly operator: Address
  /** Wad fraction of the pool's rewards the operator takes (0 for contributors). */
  readonly commission: bigint
  readonly createdAt: number
  /** Bonded tokens (shrinks on a slash, so every share loses the same fraction). */
  tokens: bigint
  shares: bigint
  /** Σ over positions of shares × lock multiplier (wad-rounded down per position). */
  weightedShares: bigint
  /** Shares held by positions whose owner is not the operator (the insured ones). */
  delegatorShares: bigint
  jailed: boolean
  /** Time after which `unjail` is allowed; `Number.MAX_SAFE_INTEGER` when tombstoned. */
  jailedUntil: number
  tombstoned: boolean
  /** Weight counted in the global total: tokens × weightedShares / shares while active, else 0. */
  weight: bigint
  /** Global reward-per-weight accumulator when this pool was last settled. */
  globalSnapshot: bigint
  /** Reward per weighted share (× PRECISION), after commission. */
  rewardAcc: bigint
  /** Rewards settled into the pool that the accumulator could not represent yet (rounding remainder). */
  rewardCarry: bigint
  /** Insurance payout per delegator share (× PRECISION). */
  insuranceAcc: bigint
  /** Tokens over time, oldest first, at most one per time: the slash base at an infraction. */
  checkpoints: Checkpoint[]
  /** Unbonding entries drawn from this pool, oldest first (slashing walks them). */
  unbondingIds: Set<number>
}

/** A bond of one owner in one pool with one lock tier. */
export interface Position {
  readonly id: number
  readonly owner: Address
  readonly pool: PoolId
  readonly tier: LockTier
  /** Lock multiplier as a wad (1e18 = 1×). */
  readonly multiplier: bigint
  readonly createdAt: number
  readonly unlockAt: number
  shares: bigint
  /** mulWad(shares, multiplier). */
  weightedShares: bigint
  /** Pool `rewardAcc` at the last settlement of this position (F1-style period start). */
  rewardSnapshot: bigint
  /** Pool `insuranceAcc` at the last settlement of this position. */
  insuranceSnapshot: bigint
}

/** Tokens on their way out of a pool. */
export interface UnbondingEntry {
  readonly id: number
  readonly owner: Address
  readonly pool: PoolId
  readonly initialAmount: bigint
  readonly startedAt: number
  readonly completesAt: number
  /** What is left after slashes. */
  amount: bigint
}

/** Settled but unclaimed payouts of one address. */
export interface Owed {
  rewards: bigint
  commission: bigint
  insurance: bigint
}

export interface RewardState {
  /** Global reward per unit of weight (× PRECISION). */
  acc: bigint
  /** Σ pool.weight over all pools (inactive pools count 0). */
  totalWeight: bigint
  /** Funded rewards not yet in the accumulator: funded while nothing was staked, plus rounding remainder. */
  carried: bigint
  /** Everything ever funded (fees' stakers share + fundRewards). */
  funded: bigint
  /** Everything ever claimed (rewards + commission). */
  claimed: bigint
}

export interface InsuranceState {
  /** Funds not yet promised to anyone. */
  available: bigint
  /** Credited to delegators' accumulators, not yet claimed (includes < 1 wei per position of rounding dust). */
  credited: bigint
  /** Everything ever paid in by slashes. */
  paidIn: bigint
  /** Everything ever credited to delegators. */
  paidOut: bigint
  /** Everything ever claimed by delegators. */
  claimed: bigint
}

export interface EconState {
  /** Time of the last operation (or genesis). */
  now: number
  readonly minted: bigint
  burnt: bigint
  balances: Map<Address, bigint>
  totalBalances: bigint
  pools: Map<PoolId, Pool>
  totalBonded: bigint
  positions: Map<number, Position>
  positionsByOwner: Map<Address, Set<number>>
  nextPositionId: number
  unbonding: Map<number, UnbondingEntry>
  unbondingByOwner: Map<Address, Set<number>>
  nextUnbondingId: number
  totalUnbonding: bigint
  rewards: RewardState
  insurance: InsuranceState
  owed: Map<Address, Owed>
  slashedEvidence: Set<string>
  /** A validator operator's consensus signing key (0x address, lowercase), set at registration. */
  signingKeys: Map<Address, string>
  /** The operator that registered each signing key. */
  operatorOfKey: Map<string, Address>
  committee: CommitteeState
  market: MarketState
}

/**
 * The compute market side of the ledger (runtime/core/econ/market.ts, contracts/ComputeMarket.sol):
 * providers and jobs. Budgets sit in the balance of "market:escrow", bonds in "market:bonds".
 */
export interface MarketState {
  providers: Map<Address, Provider>
  jobs: Map<number, Job>
  nextJobId: number
}

/** An epoch report the ledger accepted, with who signed and submitted it (what it moved is in the submission's receipt). */
export interface AcceptedReport extends AcceptedReportView {
  /** The signers' signing keys (lowercase), in the order of `signers`. */
  readonly signingKeys: readonly string[]
  readonly submitter: Address
}

/** The committee side of the ledger (contracts/Committee.sol): snapshots, fee deposits, reports. */
export interface CommitteeState {
  /** Snapshot id − 1 → snapshot (frozen). */
  snapshots: Snapshot[]
  /** Each account's fee deposit; the tokens sit in FEE_ESCROW's balance. */
  feeDeposits: Map<Address, bigint>
  feeDepositTotal: bigint
  /** Asked withdrawals of fee deposits: amount, and when (ms) it may be withdrawn. */
  feeWithdrawals: Map<Address, { readonly amount: bigint; readonly readyAt: number }>
  /** Accepted reports by epoch. */
  reports: Map<number, AcceptedReport>
  /** The last accepted epoch (0: none). */
  lastEpoch: number
  /** The snapshot id of the last accepted report (0: none). */
  lastSnapshotId: number
  /** Seconds up to which emission has been released (starts at genesis). */
  emittedUntil: bigint
  /** Scores of the last accepted report by account: a validator's contribution in the next snapshot. */
  contribution: Map<Address, bigint>
}

/** Where every minted token is: minted = balances + bonded + unbonding + rewardPool + insurancePool + burnt. */
export interface SupplyBreakdown {
  readonly minted: bigint
  /** Every balance, custody accounts included (reserve, committee:fees, market:escrow, market:bonds). */
  readonly balances: bigint
  readonly bonded: bigint
  readonly unbonding: bigint
  /** Funded but not yet claimed: carried, unsettled, owed, and rounding dust. */
  readonly rewardPool: bigint
  /** Available plus credited-but-unclaimed insurance. */
  readonly insurancePool: bigint
  readonly burnt: bigint
}

/** An empty economy at `now` that has minted `minted` (balances are set by genesis). */
export const emptyState = (minted: bigint, now: number): EconState => ({
  now,
  minted,
  burnt: 0n,
  balances: new Map(),
  totalBalances: 0n,
  pools: new Map(),
  totalBonded: 0n,
  positions: new Map(),
  positionsByOwner: new Map(),
  nextPositionId: 1,
  unbonding: new Map(),
  unbondingByOwner: new Map(),
  nextUnbondingId: 1,
  totalUnbonding: 0n,
  rewards: { acc: 0n, totalWeight: 0n, carried: 0n, funded: 0n, claimed: 0n },
  insurance: { available: 0n, credited: 0n, paidIn: 0n, paidOut: 0n, claimed: 0n },
  owed: new Map(),
  slashedEvidence: new Set(),
  signingKeys: new Map(),
  operatorOfKey: new Map(),
  committee: {
    snapshots: [], feeDeposits: new Map(), feeDepositTotal: 0n, feeWithdrawals: new Map(), reports: new Map(), lastEpoch: 0, lastSnapshotId: 0,
    emittedUntil: BigInt(Math.floor(now / 1000)), contribution: new Map(),
  },
  market: { providers: new Map(), jobs: new Map(), nextJobId: 1 },
})

/** The supply breakdown (O(1): running totals). */
export const supplyOf = (s: EconState): SupplyBreakdown => ({
  minted: s.minted,
  balances: s.totalBalances,
  bonded: s.totalBonded,
  unbonding: s.totalUnbonding,
  rewardPool: s.rewards.funded - s.rewards.claimed,
  insurancePool: s.insurance.available + s.insurance.credited,
  burnt: s.burnt,
})

// ---------------------------------------------------------------- copies

export const clonePool = (p: Pool): Pool => ({
  ...p,
  checkpoints: p.checkpoints.map((c) => ({ ...c })),
  unbondingIds: new Set(p.unbondingIds),
})

const cloneIndex = (m: Map<Address, Set<number>>): Map<Address, Set<number>> =>
  new Map([...m].map(([k, v]) => [k, new Set(v)]))

/** A deep, independent copy of the whole state. */
export const cloneState = (s: EconState): EconState => ({
  ...s,
  balances: new Map(s.balances),
  pools: new Map([...s.pools].map(([k, p]) => [k, clonePool(p)])),
  positions: new Map([...s.positions].map(([k, p]) => [k, { ...p }])),
  positionsByOwner: cloneIndex(s.positionsByOwner),
  unbonding: new Map([...s.unbonding].map(([k, e]) => [k, { ...e }])),
  unbondingByOwner: cloneIndex(s.unbondingByOwner),
  rewards: { ...s.rewards },
  insurance: { ...s.insurance },
  owed: new Map([...s.owed].map(([k, o]) => [k, { ...o }])),
  slashedEvidence: new Set(s.slashedEvidence),
  signingKeys: new Map(s.signingKeys),
  operatorOfKey: new Map(s.operatorOfKey),
  committee: {
    ...s.committee,
    // Snapshots and accepted reports are immutable once recorded: sharing them is safe.
    snapshots: [...s.committee.snapshots],
    feeDeposits: new Map(s.committee.feeDeposits),
    feeWithdrawals: new Map(s.committee.feeWithdrawals),
    reports: new Map(s.committee.reports),
    contribution: new Map(s.committee.contribution),
  },
  market: cloneMarket(s.market),
})

/** A deep copy of the market's records (a job's notes and exclusions included). */
export const cloneMarket = (m: MarketState): MarketState => ({
  providers: new Map([...m.providers].map(([k, p]) => [k, { ...p }])),
  jobs: new Map([...m.jobs].map(([k, j]) => [k, { ...j, notes: j.notes.map((n) => ({ ...n })), excluded: [...j.excluded] }])),
  nextJobId: m.nextJobId,
})

/** A pool as plain data (sets as sorted arrays). */
export type PoolSnapshot = Omit<Pool, "unbondingIds"> & { readonly unbondingIds: readonly number[] }

/** The whole state as plain, key-sorted data: two equal states give deep-equal snapshots. */
export interface EconSnapshot {
  readonly now: number
  readonly minted: bigint
  readonly burnt: bigint
  readonly balances: Readonly<Record<Address, bigint>>
  readonly totalBalances: bigint
  readonly pools: Readonly<Record<PoolId, PoolSnapshot>>
  readonly totalBonded: bigint
  readonly positions: Readonly<Record<string, Position>>
  readonly positionsByOwner: Readonly<Record<Address, readonly number[]>>
  readonly nextPositionId: number
  readonly unbonding: Readonly<Record<string, UnbondingEntry>>
  readonly unbondingByOwner: Readonly<Record<Address, readonly number[]>>
  readonly nextUnbondingId: number
  readonly totalUnbonding: bigint
  readonly rewards: Readonly<RewardState>
  readonly insurance: Readonly<InsuranceState>
  readonly owed: Readonly<Record<Address, Readonly<Owed>>>
  readonly slashedEvidence: readonly string[]
  readonly signingKeys: Readonly<Record<Address, string>>
  readonly committee: {
    readonly snapshots: readonly Snapshot[]
    readonly feeDeposits: Readonly<Record<Address, bigint>>
    readonly feeDepositTotal: bigint
    readonly feeWithdrawals: Readonly<Record<Address, { readonly amount: bigint; readonly readyAt: number }>>
    readonly reports: Readonly<Record<string, AcceptedReport>>
    readonly lastEpoch: number
    readonly lastSnapshotId: number
    readonly emittedUntil: bigint
    readonly contribution: Readonly<Record<Address, bigint>>
  }
  readonly market: {
    readonly providers: Readonly<Record<Address, Readonly<Provider>>>
    readonly jobs: Readonly<Record<string, Readonly<Omit<Job, "notes" | "excluded">> & { readonly notes: readonly Readonly<DebitNote>[]; readonly excluded: readonly Address[] }>>
    readonly nextJobId: number
  }
}

const byKey = <K extends string | number, V, W>(m: Map<K, V>, f: (v: V) => W): Record<string, W> => {
  const keys = [...m.keys()].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))
  const out: Record<string, W> = {}
  for (const k of keys) out[String(k)] = f(m.get(k) as V)
  return out
}
const sortedIds = (s: Set<number>): number[] => [...s].sort((a, b) => a - b)

/** Deep, plain, comparable copy of the entire state. */
export const snapshotOf = (s: EconState): EconSnapshot => ({
  now: s.now,
  minted: s.minted,
  burnt: s.burnt,
  balances: byKey(s.balances, (v) => v),
  totalBalances: s.totalBalances,
  pools: byKey(s.pools, (p) => ({ ...p, checkpoints: p.checkpoints.map((c) => ({ ...c })), unbondingIds: sortedIds(p.unbondingIds) })),
  totalBonded: s.totalBonded,
  positions: byKey(s.positions, (p) => ({ ...p })),
  positionsByOwner: byKey(s.positionsByOwner, sortedIds),
  nextPositionId: s.nextPositionId,
  unbonding: byKey(s.unbonding, (e) => ({ ...e })),
  unbondingByOwner: byKey(s.unbondingByOwner, sortedIds),
  nextUnbondingId: s.nextUnbondingId,
  totalUnbonding: s.totalUnbonding,
  rewards: { ...s.rewards },
  insurance: { ...s.insurance },
  owed: byKey(s.owed, (o) => ({ ...o })),
  slashedEvidence: [...s.slashedEvidence].sort(),
  signingKeys: byKey(s.signingKeys, (k) => k),
  committee: {
    snapshots: [...s.committee.snapshots],
    feeDeposits: byKey(s.committee.feeDeposits, (v) => v),
    feeDepositTotal: s.committee.feeDepositTotal,
    feeWithdrawals: byKey(s.committee.feeWithdrawals, (w) => ({ ...w })),
    reports: byKey(s.committee.reports, (r) => r),
    lastEpoch: s.committee.lastEpoch,
    lastSnapshotId: s.committee.lastSnapshotId,
    emittedUntil: s.committee.emittedUntil,
    contribution: byKey(s.committee.contribution, (v) => v),
  },
  market: {
    providers: byKey(s.market.providers, (p) => ({ ...p, kinds: [...p.kinds] })),
    jobs: byKey(s.market.jobs, (j) => ({ ...j, notes: j.notes.map((n) => ({ ...n })), excluded: [...j.excluded].sort() })),
    nextJobId: s.market.nextJobId,
  },
})

// ---------------------------------------------------------------- small shared helpers

/** `ceil(a / b)` for a ≥ 0, b > 0. */
export const ceilDiv = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n)

export const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b)

/** Add `id` to the index set of `owner`. */
export const indexAdd = (index: Map<Address, Set<number>>, owner: Address, id: number): void => {
  const set = index.get(owner)
  if (set === undefined) index.set(owner, new Set([id]))
  else set.add(id)
}

/** Remove `id` from the index set of `owner` (dropping empty sets so snapshots stay canonical). */
export const indexRemove = (index: Map<Address, Set<number>>, owner: Address, id: number): void => {
  const set = index.get(owner)
  if (set === undefined) return
  set.delete(id)
  if (set.size === 0) index.delete(owner)
}

/** The owed record of `a`, created on first use. */
export const owedOf = (s: EconState, a: Address): Owed => {
  let o = s.owed.get(a)
  if (o === undefined) {
    o = { rewards: 0n, commission: 0n, insurance: 0n }
    s.owed.set(a, o)
  }
  return o
}
