/**
 * Rewards: a two-level reward-per-unit accumulator (F1 / MasterChef style), O(1) per pool change.
 *
 * Level 1 (global): every funded amount raises `acc` by amount × PRECISION / totalWeight, where a
 * pool's weight = tokens × weightedShares / shares (stake × average lock multiplier) while the pool
 * is active (not jailed, not tombstoned), else 0. A pool's due = weight × (acc − globalSnapshot) /
 * PRECISION; it is settled (before any change of the weight) into the operator's commission and
 * the pool's own accumulator.
 * Level 2 (pool): `rewardAcc` per weighted share (shares × multiplier); a position's due =
 * weightedShares × (rewardAcc − rewardSnapshot) / PRECISION, settled before its shares change.
 *
 * Snapshots (F1 periods) rather than MasterChef "debts": a due is one floored product of a constant
 * weight and an accumulator difference, so the sum of dues never exceeds what was funded.
 * Rounding: what an accumulator step cannot represent is carried (`rewards.carried`,
 * `pool.rewardCarry`) and distributed with the next amount; the only permanent dust is < 1 wei per
 * pool settlement plus < 1 wei per position settlement, and it stays counted in the reward pool.
 */
import { Result } from "effect"
import type { Params } from "../params.ts"
import { mulDiv, mulWad } from "../units.ts"
import { YEAR_MS } from "../duration.ts"
import { econConfig } from "./config.ts"
import type { EconError } from "./errors.ts"
import { positionInsurancePending, releaseInsurance, settlePositionInsurance } from "./insurance.ts"
import { ceilDiv, owedOf, PRECISION, type Address, type EconState, type Pool, type Position } from "./state.ts"
import { checkAddress, checkAmount, checkBalance, checkSender, credit, debit } from "./token.ts"

/** Whether a pool earns rewards now. */
export const isActive = (p: Pool): boolean => !p.jailed && !p.tombstoned

/** The weight a pool should count in the global total. */
export const poolWeightOf = (p: Pool): bigint =>
  isActive(p) && p.shares > 0n ? (p.tokens * p.weightedShares) / p.shares : 0n

/** The pool's global rewards not yet settled. */
export const poolGlobalPending = (s: EconState, p: Pool): bigint =>
  (p.weight * (s.rewards.acc - p.globalSnapshot)) / PRECISION

/** Credit `amount` to a pool's internal accumulator (with its carried remainder). */
const distributeInPool = (p: Pool, amount: bigint): void => {
  const total = amount + p.rewardCarry
  if (p.weightedShares === 0n) {
    p.rewardCarry = total
    return
  }
  const delta = (total * PRECISION) / p.weightedShares
  p.rewardAcc += delta
  p.rewardCarry = total - ceilDiv(delta * p.weightedShares, PRECISION)
}

export interface PoolSettlement {
  readonly reward: bigint
  readonly commission: bigint
}

/** Settle a pool's global rewards (call before its weight changes; then `refreshWeight`). */
export const settlePool = (s: EconState, p: Pool): PoolSettlement => {
  const due = poolGlobalPending(s, p)
  p.globalSnapshot = s.rewards.acc
  if (due === 0n) return { reward: 0n, commission: 0n }
  const commission = mulWad(due, p.commission)
  if (commission > 0n) owedOf(s, p.operator).commission += commission
  distributeInPool(p, due - commission)
  return { reward: due, commission }
}

/** Recompute a settled pool's weight and keep the global total in step. */
export const refreshWeight = (s: EconState, p: Pool): void => {
  const w = poolWeightOf(p)
  s.rewards.totalWeight += w - p.weight
  p.weight = w
}

/** A position's reward accrued since its last settlement (the pool must be settled first). */
const positionRewardPending = (pool: Pool, pos: Position, rewardAcc: bigint = pool.rewardAcc): bigint =>
  (pos.weightedShares * (rewardAcc - pos.rewardSnapshot)) / PRECISION

/** Move a position's accrued reward and insurance into its owner's owed payouts (pool settled first). */
export const settlePosition = (s: EconState, pool: Pool, pos: Position): { readonly reward: bigint; readonly insurance: bigint } => {
  const reward = positionRewardPending(pool, pos)
  pos.rewardSnapshot = pool.rewardAcc
  if (reward > 0n) owedOf(s, pos.owner).rewards += reward
  return { reward, insurance: settlePositionInsurance(s, pool, pos) }
}

/** Add a funded amount (already taken from a balance) to the stakers' rewards. */
export const distributeToStakers = (s: EconState, amount: bigint): void => {
  s.rewards.funded += amount
  const total = amount + s.rewards.carried
  if (s.rewards.totalWeight === 0n) {
    s.rewards.carried = total // nothing is staked: wait for weight
    return
  }
  const delta = (total * PRECISION) / s.rewards.totalWeight
  s.rewards.acc += delta
  s.rewards.carried = total - ceilDiv(delta * s.rewards.totalWeight, PRECISION)
}

// ---------------------------------------------------------------- read-only views

/** The pool's `rewardAcc` as it would be after `settlePool` now. */
const viewRewardAcc = (s: EconState, p: Pool): bigint => {
  const due = poolGlobalPending(s, p)
  if (due === 0n || p.weightedShares === 0n) return p.rewardAcc
  const total = due - mulWad(due, p.commission) + p.rewardCarry
  return p.rewardAcc + (total * PRECISION) / p.weightedShares
}

export interface PendingRewards {
  /** Rewards of the owner's positions (after commission). */
  readonly rewards: bigint
  /** Commission of the owner's validator pool. */
  readonly commission: bigint
  /** Insurance payouts to the owner's delegations. */
  readonly insurance: bigint
  readonly total: bigint
}

/** What `claimRewards` would pay `owner` now. */
export const pendingOf = (s: EconState, owner: Address): PendingRewards => {
  const owed = s.owed.get(owner)
  let rewards = owed?.rewards ?? 0n
  let commission = owed?.commission ?? 0n
  let insurance = owed?.insurance ?? 0n
  for (const id of s.positionsByOwner.get(owner) ?? []) {
    const pos = s.positions.get(id)
    const pool = pos === undefined ? undefined : s.pools.get(pos.pool)
    if (pos === undefined || pool === undefined) continue
    rewards += positionRewardPending(pool, pos, viewRewardAcc(s, pool))
    insurance += positionInsurancePending(pool, pos)
  }
  const own = s.pools.get(owner)
  if (own !== undefined && own.operator === owner) commission += mulWad(poolGlobalPending(s, own), own.commission)
  return { rewards, commission, insurance, total: rewards + commission + insurance }
}

// ---------------------------------------------------------------- operations

export interface ClaimReceipt {
  readonly type: "claimRewards"
  readonly owner: Address
  readonly rewards: bigint
  readonly commission: bigint
  readonly insurance: bigint
  readonly total: bigint
  /** What each of the owner's positions accrued since its last settlement (the totals also include earlier settlements, e.g. on unbond). */
  readonly settled: ReadonlyArray<{ readonly position: number; readonly pool: string; readonly reward: bigint; readonly insurance: bigint }>
}

/** Pay all of `owner`'s rewards, commission and insurance payouts to its balance (0 is not an error). */
export const claimRewards = (s: EconState, owner: Address): Result.Result<ClaimReceipt, EconError> => {
  const bad = checkAddress("claimer", owner)
  if (bad !== undefined) return Result.fail(bad)
  const settled: Array<{ position: number; pool: string; reward: bigint; insurance: bigint }> = []
  for (const id of s.positionsByOwner.get(owner) ?? []) {
    const pos = s.positions.get(id)!
    const pool = s.pools.get(pos.pool)!
    settlePool(s, pool)
    settled.push({ position: id, pool: pool.id, ...settlePosition(s, pool, pos) })
  }
  const own = s.pools.get(owner)
  if (own !== undefined && own.operator === owner) settlePool(s, own)
  const o = s.owed.get(owner)
  const rewards = o?.rewards ?? 0n
  const commission = o?.commission ?? 0n
  const insurance = o?.insurance ?? 0n
  s.owed.delete(owner)
  s.rewards.claimed += rewards + commission
  releaseInsurance(s, insurance)
  credit(s, owner, rewards + commission + insurance)
  return Result.succeed({ type: "claimRewards", owner, rewards, commission, insurance, total: rewards + commission + insurance, settled })
}

export interface FundReceipt {
  readonly type: "fundRewards"
  readonly from: Address
  readonly amount: bigint
  /** False when nothing was staked and the amount waits in `carried`. */
  readonly distributed: boolean
  /** Rewards waiting for stake (or rounding remainder) after this funding. */
  readonly carried: bigint
}

/** Move `amount` from `from` into the stakers' rewards (e.g. an epoch's emission from the reserve). */
export const fundRewards = (s: EconState, from: Address, amount: bigint): Result.Result<FundReceipt, EconError> => {
  const bad = checkAddress("funder", from) ?? checkAmount("fundRewards", amount) ?? checkBalance(s, from, amount)
  if (bad !== undefined) return Result.fail(bad)
  debit(s, from, amount)
  distributeToStakers(s, amount)
  return Result.succeed({ type: "fundRewards", from, amount, distributed: s.rewards.totalWeight > 0n, carried: s.rewards.carried })
}

export interface FeeReceipt {
  readonly type: "payFee"
  readonly payer: Address
  readonly amount: bigint
  /** mulWad(amount, fees.burnFraction). */
  readonly burnt: bigint
  /** amount − burnt, added to the stakers' rewards. */
  readonly toStakers: bigint
  readonly distributed: boolean
}

/** Pay a fee: a share is burnt, the rest goes to the stakers. */
export const payFee = (s: EconState, params: Params, payer: Address, amount: bigint): Result.Result<FeeReceipt, EconError> => {
  const bad = checkSender("payer", payer) ?? checkAmount("payFee", amount) ?? checkBalance(s, payer, amount)
  if (bad !== undefined) return Result.fail(bad)
  const burnt = mulWad(amount, econConfig(params).burnFraction)
  const toStakers = amount - burnt
  debit(s, payer, amount)
  s.burnt += burnt
  if (toStakers > 0n) distributeToStakers(s, toStakers)
  return Result.succeed({ type: "payFee", payer, amount, burnt, toStakers, distributed: s.rewards.totalWeight > 0n })
}

/**
 * Emission due for the virtual interval [fromMs, toMs): rewards.annualEmission × (to − from) / year,
 * rounded down. The simulator funds it from the genesis reserve with `fundRewards`.
 */
export const emissionFor = (params: Params, fromMs: number, toMs: number): bigint =>
  toMs <= fromMs ? 0n : mulDiv(econConfig(params).annualEmission, BigInt(toMs - fromMs), BigInt(YEAR_MS))
