/**
 * Slashing and jail.
 *
 * The slash base is the pool's bonded stake *at the infraction* (token checkpoints), so stake that
 * joined later is not punished and stake that left after the infraction does not escape:
 *   maxSlash = mulWad(tokensAt(infractionTime), fraction)
 * As in Cosmos, unbonding entries of the pool that started at or after the infraction and are not yet
 * mature are slashed first (each by mulWad(initialAmount, fraction), capped at what remains of
 * the entry and at what remains of maxSlash), then the rest comes from bonded tokens (capped at the
 * pool's current tokens). So the total never exceeds maxSlash. Of the total, insuranceFraction goes
 * to the insurance pool and the rest is burnt; then the pool's delegators are compensated (see
 * insurance.ts).
 * doubleSign tombstones the pool (jailed forever, never slashed again); downtime jails it for
 * `slashing.downtimeJailDuration` until the operator calls `unjail`.
 */
import { Result } from "effect"
import type { Params } from "../params.ts"
import { mulWad } from "../units.ts"
import { econConfig } from "./config.ts"
import {
  StakingInfractionAlreadySlashed, StakingInfractionBeforePool, StakingInfractionInFuture, StakingInvalidEvidence, StakingJailNotExpired,
  StakingNotJailed, StakingTombstoned, StakingUnknownPool, StakingValidatorJailed, type EconError,
} from "./errors.ts"
import { compensateDelegators, depositInsurance } from "./insurance.ts"
import { refreshWeight, settlePool } from "./rewards.ts"
import { minBig, type Address, type EconState, type Pool, type PoolId } from "./state.ts"
import { checkpoint, contributorPoolId, tokensAt } from "./staking.ts"
import { checkAddress } from "./token.ts"

export type Infraction = "doubleSign" | "downtime"

/** `Number.MAX_SAFE_INTEGER`: the jail of a tombstoned pool never ends. */
export const FOREVER = Number.MAX_SAFE_INTEGER

export interface SlashReceipt {
  readonly type: "slash"
  readonly pool: PoolId
  readonly operator: Address
  readonly infraction: Infraction
  readonly evidenceId: string
  readonly infractionTime: number
  /** Wad fraction applied. */
  readonly fraction: bigint
  /** Bonded tokens of the pool at the infraction. */
  readonly stakeAtInfraction: bigint
  /** mulWad(stakeAtInfraction, fraction): the most this slash may take. */
  readonly maxSlash: bigint
  readonly slashedBonded: bigint
  readonly slashedUnbonding: ReadonlyArray<{ readonly entry: number; readonly owner: Address; readonly amount: bigint }>
  readonly slashedUnbondingTotal: bigint
  readonly totalSlashed: bigint
  readonly toInsurance: bigint
  readonly burnt: bigint
  /** Delegators' share of the bonded loss, what the policy covers, and what was credited to them. */
  readonly delegatorLoss: bigint
  readonly insuranceCovered: bigint
  readonly insurancePaid: bigint
  readonly jailedUntil: number
  readonly tombstoned: boolean
}

/** Punish `poolId` for an infraction at `infractionTime`, once per `evidenceId`. */
export const slash = (
  s: EconState, params: Params, poolId: PoolId, infraction: Infraction, infractionTime: number, evidenceId: string, now: number,
): Result.Result<SlashReceipt, EconError> => {
  const p = s.pools.get(poolId)
  const bad = (typeof evidenceId !== "string" || evidenceId.length === 0 ? new StakingInvalidEvidence({ evidenceId, reason: "an evidence id must be a non-empty string" }) : undefined) ??
    (infraction !== "doubleSign" && infraction !== "downtime" ? new StakingInvalidEvidence({ evidenceId, reason: `infraction ${JSON.stringify(infraction)} is not doubleSign or downtime` }) : undefined) ??
    (!Number.isSafeInteger(infractionTime) ? new StakingInvalidEvidence({ evidenceId, reason: `infraction time ${infractionTime} is not a safe integer of ms` }) : undefined) ??
    (s.slashedEvidence.has(evidenceId) ? new StakingInfractionAlreadySlashed({ evidenceId }) : undefined) ??
    (p === undefined ? new StakingUnknownPool({ pool: String(poolId) }) : undefined) ??
    (infractionTime > now ? new StakingInfractionInFuture({ infractionTime, now }) : undefined) ??
    (infractionTime < p!.createdAt ? new StakingInfractionBeforePool({ pool: p!.id, infractionTime, createdAt: p!.createdAt }) : undefined) ??
    (p!.tombstoned ? new StakingTombstoned({ pool: p!.id }) : undefined) ??
    (infraction === "downtime" && p!.jailed ? new StakingValidatorJailed({ pool: p!.id, jailedUntil: p!.jailedUntil }) : undefined)
  if (bad !== undefined) return Result.fail(bad)
  return Result.succeed(slashValidated(s, params, p!, infraction, infractionTime, evidenceId, now))
}

const slashValidated = (
  s: EconState, params: Params, p: Pool, infraction: Infraction, infractionTime: number, evidenceId: string, now: number,
): SlashReceipt => {
  const cfg = econConfig(params)
  const fraction = infraction === "doubleSign" ? cfg.doubleSignFraction : cfg.downtimeFraction
  const stakeAtInfraction = tokensAt(p, infractionTime)
  const maxSlash = mulWad(stakeAtInfraction, fraction)
  settlePool(s, p)

  // Unbonding entries that were still at stake at the infraction, oldest first. An entry started in
  // the infraction's own instant was bonded at the infraction and is slashed (as Staking.sol does);
  // the base above is read at the end of that instant, so such an entry draws on what the bonded
  // stake would otherwise lose, never on more than maxSlash.
  let left = maxSlash
  const slashedUnbonding: Array<{ entry: number; owner: Address; amount: bigint }> = []
  for (const id of p.unbondingIds) {
    if (left === 0n) break
    const e = s.unbonding.get(id)!
    if (e.startedAt < infractionTime || e.completesAt <= now) continue
    const cut = minBig(minBig(mulWad(e.initialAmount, fraction), e.amount), left)
    if (cut === 0n) continue
    e.amount -= cut
    left -= cut
    slashedUnbonding.push({ entry: e.id, owner: e.owner, amount: cut })
  }
  const slashedUnbondingTotal = maxSlash - left
  s.totalUnbonding -= slashedUnbondingTotal

  const slashedBonded = minBig(left, p.tokens)
  p.tokens -= slashedBonded
  s.totalBonded -= slashedBonded
  checkpoint(p, now)

  const totalSlashed = slashedUnbondingTotal + slashedBonded
  const toInsurance = mulWad(totalSlashed, cfg.insuranceFraction)
  const burnt = totalSlashed - toInsurance
  s.burnt += burnt
  depositInsurance(s, toInsurance)
  const payout = compensateDelegators(s, p, slashedBonded, cfg.insuranceCoverage) // shares are unchanged by a slash

  if (infraction === "doubleSign") {
    p.tombstoned = true
    p.jailed = true
    p.jailedUntil = FOREVER
  } else {
    p.jailed = true
    p.jailedUntil = now + cfg.downtimeJailDuration
  }
  refreshWeight(s, p)
  s.slashedEvidence.add(evidenceId)
  return {
    type: "slash", pool: p.id, operator: p.operator, infraction, evidenceId, infractionTime, fraction, stakeAtInfraction, maxSlash,
    slashedBonded, slashedUnbonding, slashedUnbondingTotal, totalSlashed, toInsurance, burnt,
    delegatorLoss: payout.delegatorLoss, insuranceCovered: payout.covered, insurancePaid: payout.paid,
    jailedUntil: p.jailedUntil, tombstoned: p.tombstoned,
  }
}

export interface UnjailReceipt {
  readonly type: "unjail"
  readonly operator: Address
  readonly pool: PoolId
  /** Weight the pool counts again in reward distribution. */
  readonly weight: bigint
}

/** Pools `operator` runs: its validator pool, then its contributor pool. */
const poolsOf = (s: EconState, operator: Address): Pool[] =>
  [s.pools.get(operator), s.pools.get(contributorPoolId(operator))].filter((p): p is Pool => p !== undefined && p.operator === operator)

/** Let a jailed (not tombstoned) pool of `operator` earn and take stake again once its jail time is over. */
export const unjail = (s: EconState, operator: Address, now: number): Result.Result<UnjailReceipt, EconError> => {
  const badAddress = checkAddress("operator", operator)
  if (badAddress !== undefined) return Result.fail(badAddress)
  const own = poolsOf(s, operator)
  if (own.length === 0) return Result.fail(new StakingUnknownPool({ pool: operator }))
  const p = own.find((x) => x.jailed && !x.tombstoned) ?? own.find((x) => x.jailed)
  if (p === undefined) return Result.fail(new StakingNotJailed({ operator }))
  if (p.tombstoned) return Result.fail(new StakingTombstoned({ pool: p.id }))
  if (now < p.jailedUntil) return Result.fail(new StakingJailNotExpired({ operator, jailedUntil: p.jailedUntil, now }))
  settlePool(s, p)
  p.jailed = false
  p.jailedUntil = 0
  refreshWeight(s, p)
  return Result.succeed({ type: "unjail", operator, pool: p.id, weight: p.weight })
}
