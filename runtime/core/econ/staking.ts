/**
 * Staking pools, positions and unbonding.
 *
 * A pool holds bonded tokens against shares (Cosmos-style): a slash shrinks `tokens` and every
 * share loses the same fraction, in O(1). A position is one owner's shares in one pool with one
 * lock tier; its weighted shares (shares × tier multiplier) decide its part of the pool's rewards.
 * Unbonding turns shares back into tokens (rounded down) that wait `staking.unbondingPeriod`.
 */
import { Result } from "effect"
import type { Params } from "../params.ts"
import { mulDiv, mulWad, WAD } from "../units.ts"
import { econConfig, isLockTier, tierMs } from "./config.ts"
import {
  StakingBelowMinimumBond, StakingCommissionTooHigh, StakingInsufficientShares, StakingInvalidAmount,
  StakingInvalidCommission, StakingInvalidOperator, StakingInvalidTier, StakingNotPositionOwner, StakingNotValidatorPool,
  StakingNothingUnbonding, StakingPoolFullySlashed, StakingPositionLocked, StakingUnbondingNotMature, StakingUnknownPool,
  StakingUnknownPosition, StakingValidatorExists, StakingValidatorJailed, StakingValidatorTombstoned, StakingInvalidSigningKey,
  StakingSigningKeyInUse, type EconError,
} from "./errors.ts"
import { accountWord } from "../committee/digest.ts"
import { refreshWeight, settlePool, settlePosition } from "./rewards.ts"
import {
  CONTRIBUTOR_PREFIX, indexAdd, indexRemove, type Address, type EconState, type LockTier, type Pool, type PoolId, type Position,
} from "./state.ts"
import { checkAddress, checkAmount, checkBalance, credit, debit } from "./token.ts"

/** The pool id of a contributor. */
export const contributorPoolId = (owner: Address): PoolId => CONTRIBUTOR_PREFIX + owner

// ---------------------------------------------------------------- token checkpoints

/** Record the pool's tokens at `now` (one checkpoint per time: a later change at the same time overwrites). */
export const checkpoint = (p: Pool, now: number): void => {
  const last = p.checkpoints[p.checkpoints.length - 1]
  if (last !== undefined && last.time === now) last.tokens = p.tokens
  else p.checkpoints.push({ time: now, tokens: p.tokens })
}

/** The pool's bonded tokens at `time` (binary search, like OpenZeppelin's `Checkpoints.upperLookup`). */
export const tokensAt = (p: Pool, time: number): bigint => {
  let lo = 0
  let hi = p.checkpoints.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (p.checkpoints[mid]!.time <= time) lo = mid + 1
    else hi = mid
  }
  return lo === 0 ? 0n : p.checkpoints[lo - 1]!.tokens
}

// ---------------------------------------------------------------- checks

/** Why a pool cannot take new stake now, if it cannot. */
const checkAcceptsStake = (p: Pool): EconError | undefined => {
  if (p.tombstoned) return new StakingValidatorTombstoned({ pool: p.id })
  if (p.jailed) return new StakingValidatorJailed({ pool: p.id, jailedUntil: p.jailedUntil })
  if (p.tokens === 0n && p.shares > 0n) return new StakingPoolFullySlashed({ pool: p.id })
  return undefined
}

/** Shares minted for `amount` tokens (first deposit 1:1, then pro rata, rounded down). */
const sharesFor = (p: Pool, amount: bigint): bigint => (p.shares === 0n ? amount : mulDiv(amount, p.shares, p.tokens))

const checkNewStake = (s: EconState, p: Pool | undefined, owner: Address, amount: bigint, tier: unknown): EconError | undefined => {
  if (!isLockTier(tier)) return new StakingInvalidTier({ tier })
  if (p !== undefined) {
    const refused = checkAcceptsStake(p)
    if (refused !== undefined) return refused
    // Unreachable while tokens ≤ shares (slashes only lower tokens, unbonding rounds for the pool),
    // kept as the guard the contract needs.
    if (sharesFor(p, amount) === 0n) return new StakingInvalidAmount({ amount, reason: `too small to buy one share of pool "${p.id}"` })
  }
  return checkBalance(s, owner, amount)
}

// ---------------------------------------------------------------- shared mutation

export interface BondReceiptPart {
  readonly position: number
  readonly pool: PoolId
  readonly amount: bigint
  readonly shares: bigint
  readonly weightedShares: bigint
  readonly tier: LockTier
  /** Lock multiplier as a wad. */
  readonly multiplier: bigint
  readonly unlockAt: number
}

/** Bond `amount` of `owner` into `p` as a new position (everything validated). */
const openPosition = (s: EconState, params: Params, p: Pool, owner: Address, amount: bigint, tier: LockTier, now: number): BondReceiptPart => {
  settlePool(s, p)
  const multiplier = econConfig(params).multipliers[tier]
  const shares = sharesFor(p, amount)
  const weightedShares = mulWad(shares, multiplier)
  const pos: Position = {
    id: s.nextPositionId++, owner, pool: p.id, tier, multiplier, createdAt: now, unlockAt: now + tierMs(tier),
    shares, weightedShares, rewardSnapshot: p.rewardAcc, insuranceSnapshot: p.insuranceAcc,
  }
  s.positions.set(pos.id, pos)
  indexAdd(s.positionsByOwner, owner, pos.id)
  debit(s, owner, amount)
  p.tokens += amount
  p.shares += shares
  p.weightedShares += weightedShares
  if (owner !== p.operator) p.delegatorShares += shares
  s.totalBonded += amount
  checkpoint(p, now)
  refreshWeight(s, p)
  return { position: pos.id, pool: p.id, amount, shares, weightedShares, tier, multiplier, unlockAt: pos.unlockAt }
}

const newPool = (id: PoolId, kind: Pool["kind"], operator: Address, commission: bigint, now: number): Pool => ({
  id, kind, operator, commission, createdAt: now, tokens: 0n, shares: 0n, weightedShares: 0n, delegatorShares: 0n,
  jailed: false, jailedUntil: 0, tombstoned: false, weight: 0n, globalSnapshot: 0n, rewardAcc: 0n, rewardCarry: 0n,
  insuranceAcc: 0n, checkpoints: [], unbondingIds: new Set(),
})

// ---------------------------------------------------------------- operations

export interface RegisterValidatorReceipt extends BondReceiptPart {
  readonly type: "registerValidator"
  readonly operator: Address
  readonly commission: bigint
}

const ZERO_KEY = `0x${"0".repeat(40)}`

/**
 * The signing key a registration records, or why it cannot: a given key must be a non-zero 0x
 * address; without one, the operator's own chain address (`accountWord`: itself when it is a 0x
 * address, as the EVM adapter registers by default). Either way no other validator may hold it.
 */
const signingKeyFor = (s: EconState, operator: Address, given: unknown): { readonly key: string } | { readonly error: EconError } => {
  if (given !== undefined && (typeof given !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(given) || given.toLowerCase() === ZERO_KEY)) {
    return { error: new StakingInvalidSigningKey({ key: given }) }
  }
  const key = given === undefined ? accountWord(operator) : given.toLowerCase()
  const holder = s.operatorOfKey.get(key)
  return holder === undefined ? { key } : { error: new StakingSigningKeyInUse({ key, operator: holder }) }
}

/** Create the operator's validator pool with its self-bond and record its signing key. */
export const registerValidator = (
  s: EconState, params: Params, operator: Address, amount: bigint, tier: LockTier, commission: bigint, now: number, signingKey?: string,
): Result.Result<RegisterValidatorReceipt, EconError> => {
  const cfg = econConfig(params)
  const bad = checkAddress("operator", operator) ?? checkAmount("registerValidator", amount) ??
    (operator.startsWith(CONTRIBUTOR_PREFIX) ? new StakingInvalidOperator({ operator }) : undefined) ??
    (s.pools.has(operator) ? new StakingValidatorExists({ operator }) : undefined) ??
    (amount < cfg.minValidatorBond ? new StakingBelowMinimumBond({ kind: "validator", amount, minimum: cfg.minValidatorBond }) : undefined) ??
    (typeof commission !== "bigint" || commission < 0n || commission > WAD ? new StakingInvalidCommission({ commission }) : undefined) ??
    (commission > cfg.maxCommission ? new StakingCommissionTooHigh({ commission, maximum: cfg.maxCommission }) : undefined) ??
    checkNewStake(s, undefined, operator, amount, tier)
  if (bad !== undefined) return Result.fail(bad)
  const key = signingKeyFor(s, operator, signingKey)
  if ("error" in key) return Result.fail(key.error)
  const p = newPool(operator, "validator", operator, commission, now)
  p.globalSnapshot = s.rewards.acc
  s.pools.set(p.id, p)
  s.signingKeys.set(operator, key.key)
  s.operatorOfKey.set(key.key, operator)
  const part = openPosition(s, params, p, operator, amount, tier, now)
  return Result.succeed({ type: "registerValidator", operator, commission, ...part })
}

export interface BondContributorReceipt extends BondReceiptPart {
  readonly type: "bondContributor"
  readonly owner: Address
  /** True when this bond created the contributor's pool. */
  readonly created: boolean
}

/** Bond into the owner's own contributor pool (created on the first bond). */
export const bondContributor = (
  s: EconState, params: Params, owner: Address, amount: bigint, tier: LockTier, now: number,
): Result.Result<BondContributorReceipt, EconError> => {
  const cfg = econConfig(params)
  const id = contributorPoolId(owner)
  const existing = s.pools.get(id)
  const bad = checkAddress("contributor", owner) ?? checkAmount("bondContributor", amount) ??
    (amount < cfg.minContributorBond ? new StakingBelowMinimumBond({ kind: "contributor", amount, minimum: cfg.minContributorBond }) : undefined) ??
    checkNewStake(s, existing, owner, amount, tier)
  if (bad !== undefined) return Result.fail(bad)
  let p = existing
  if (p === undefined) {
    p = newPool(id, "contributor", owner, 0n, now)
    p.globalSnapshot = s.rewards.acc
    s.pools.set(id, p)
  }
  const part = openPosition(s, params, p, owner, amount, tier, now)
  return Result.succeed({ type: "bondContributor", owner, created: existing === undefined, ...part })
}

export interface DelegateReceipt extends BondReceiptPart {
  readonly type: "delegate"
  readonly owner: Address
  readonly validator: Address
}

/** Delegate to a validator pool (not jailed, not tombstoned). */
export const delegate = (
  s: EconState, params: Params, owner: Address, validator: Address, amount: bigint, tier: LockTier, now: number,
): Result.Result<DelegateReceipt, EconError> => {
  const p = s.pools.get(validator)
  const bad = checkAddress("delegator", owner) ?? checkAmount("delegate", amount) ??
    (p === undefined ? new StakingUnknownPool({ pool: String(validator) }) : undefined) ??
    (p !== undefined && p.kind !== "validator" ? new StakingNotValidatorPool({ pool: p.id }) : undefined) ??
    checkNewStake(s, p, owner, amount, tier)
  if (bad !== undefined) return Result.fail(bad)
  const part = openPosition(s, params, p!, owner, amount, tier, now)
  return Result.succeed({ type: "delegate", owner, validator, ...part })
}

/** Tokens a position is worth now (rounded down). */
export const positionValue = (p: Pool, pos: Position): bigint => (p.shares === 0n ? 0n : mulDiv(pos.shares, p.tokens, p.shares))

export interface UnbondReceipt {
  readonly type: "unbond"
  readonly owner: Address
  readonly position: number
  readonly pool: PoolId
  readonly requested: bigint
  readonly sharesBurnt: bigint
  /** Tokens moved into the unbonding entry (shares × tokens / shares, rounded down; ≤ requested). */
  readonly amount: bigint
  readonly entry: number
  readonly completesAt: number
  /** True when the position had no shares left and was removed. */
  readonly closed: boolean
  /** Rewards and insurance settled into the owner's claimable balance by this change. */
  readonly settledRewards: bigint
  readonly settledInsurance: bigint
}

/** Start unbonding `amount` tokens' worth of a position (the whole position when `amount` is its value). */
export const unbond = (
  s: EconState, params: Params, owner: Address, positionId: number, amount: bigint, now: number,
): Result.Result<UnbondReceipt, EconError> => {
  const pos = s.positions.get(positionId)
  const p = pos === undefined ? undefined : s.pools.get(pos.pool)
  const badArgs = checkAddress("owner", owner) ?? checkAmount("unbond", amount) ??
    (pos === undefined || p === undefined ? new StakingUnknownPosition({ position: positionId }) : undefined)
  if (badArgs !== undefined) return Result.fail(badArgs)
  const value = positionValue(p!, pos!)
  const all = amount === value
  const sharesBurnt = all ? pos!.shares : mulDiv(amount, p!.shares, p!.tokens === 0n ? 1n : p!.tokens)
  const bad = (pos!.owner !== owner ? new StakingNotPositionOwner({ position: positionId, owner: pos!.owner, caller: owner }) : undefined) ??
    (now < pos!.unlockAt ? new StakingPositionLocked({ position: positionId, unlockAt: pos!.unlockAt, now }) : undefined) ??
    (amount > value ? new StakingInsufficientShares({ position: positionId, requested: amount, available: value }) : undefined) ??
    (sharesBurnt === 0n ? new StakingInvalidAmount({ amount, reason: `worth less than one share of pool "${p!.id}"` }) : undefined)
  if (bad !== undefined) return Result.fail(bad)
  return Result.succeed(unbondValidated(s, params, p!, pos!, amount, sharesBurnt, now))
}

const unbondValidated = (
  s: EconState, params: Params, p: Pool, pos: Position, requested: bigint, sharesBurnt: bigint, now: number,
): UnbondReceipt => {
  settlePool(s, p)
  const settled = settlePosition(s, p, pos)
  const tokensOut = mulDiv(sharesBurnt, p.tokens, p.shares)
  const newShares = pos.shares - sharesBurnt
  const newWeighted = mulWad(newShares, pos.multiplier)
  p.weightedShares -= pos.weightedShares - newWeighted
  p.shares -= sharesBurnt
  if (pos.owner !== p.operator) p.delegatorShares -= sharesBurnt
  p.tokens -= tokensOut
  pos.shares = newShares
  pos.weightedShares = newWeighted
  const closed = newShares === 0n
  if (closed) {
    s.positions.delete(pos.id)
    indexRemove(s.positionsByOwner, pos.owner, pos.id)
  }
  s.totalBonded -= tokensOut
  const completesAt = now + econConfig(params).unbondingPeriod
  const entry = {
    id: s.nextUnbondingId++, owner: pos.owner, pool: p.id, initialAmount: tokensOut, amount: tokensOut, startedAt: now, completesAt,
  }
  s.unbonding.set(entry.id, entry)
  indexAdd(s.unbondingByOwner, pos.owner, entry.id)
  p.unbondingIds.add(entry.id)
  s.totalUnbonding += tokensOut
  checkpoint(p, now)
  refreshWeight(s, p)
  return {
    type: "unbond", owner: pos.owner, position: pos.id, pool: p.id, requested, sharesBurnt, amount: tokensOut, entry: entry.id,
    completesAt, closed, settledRewards: settled.reward, settledInsurance: settled.insurance,
  }
}

export interface WithdrawReceipt {
  readonly type: "withdraw"
  readonly owner: Address
  /** Total released to the balance. */
  readonly amount: bigint
  readonly entries: ReadonlyArray<{ readonly id: number; readonly pool: PoolId; readonly amount: bigint; readonly initialAmount: bigint; readonly startedAt: number; readonly completesAt: number }>
}

/** Release every mature unbonding entry of `owner` to its balance. */
export const withdraw = (s: EconState, owner: Address, now: number): Result.Result<WithdrawReceipt, EconError> => {
  const bad = checkAddress("owner", owner)
  if (bad !== undefined) return Result.fail(bad)
  const ids = s.unbondingByOwner.get(owner)
  if (ids === undefined || ids.size === 0) return Result.fail(new StakingNothingUnbonding({ owner }))
  const mature = [...ids].map((id) => s.unbonding.get(id)!).filter((e) => e.completesAt <= now)
  if (mature.length === 0) {
    const maturesAt = Math.min(...[...ids].map((id) => s.unbonding.get(id)!.completesAt))
    return Result.fail(new StakingUnbondingNotMature({ owner, maturesAt, now }))
  }
  let amount = 0n
  for (const e of mature) {
    amount += e.amount
    s.unbonding.delete(e.id)
    indexRemove(s.unbondingByOwner, owner, e.id)
    s.pools.get(e.pool)?.unbondingIds.delete(e.id)
  }
  s.totalUnbonding -= amount
  credit(s, owner, amount)
  return Result.succeed({
    type: "withdraw", owner, amount,
    entries: mature.map((e) => ({ id: e.id, pool: e.pool, amount: e.amount, initialAmount: e.initialAmount, startedAt: e.startedAt, completesAt: e.completesAt })),
  })
}
