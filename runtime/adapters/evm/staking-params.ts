/**
 * The one codec between the economy's parameters and Solidity's `Staking.Params`: what `deploy`
 * installs and `setParams` takes (encode), and what the node reads back from `Staking.params()`
 * (decode). Fractions, multipliers and whole-token amounts are wads (exact decimal conversion, as the
 * TS economy computes them: `econConfig`), durations whole seconds; the multipliers are one per lock
 * tier, shortest first, the 0-day tier's fixed at 1 (the contract refuses anything else).
 * decode(encode(p)) gives back p's staking parameters for every value the registry can hold (at most
 * 15 significant digits; durations in whole seconds, which encode insists on).
 */
import { econConfig, LOCK_TIERS, type LockTier } from "../../core/econ/index.ts"
import type { Params } from "../../core/params.ts"
import { fromWad, msToSec } from "./units.ts"

/** Solidity `Staking.Params` as bigints, in the contract's units (wads, base units, seconds). */
export interface RawStakingParams {
  readonly burnFraction: bigint
  readonly insuranceFraction: bigint
  readonly insuranceCoverage: bigint
  readonly maxCommission: bigint
  readonly doubleSignFraction: bigint
  readonly downtimeFraction: bigint
  readonly minValidatorBond: bigint
  readonly minContributorBond: bigint
  readonly unbondingPeriod: bigint
  readonly downtimeJailDuration: bigint
  /** One per lock tier of `LOCK_TIERS` (0, 30, 90, 180, 365 days), as wads. */
  readonly multipliers: readonly bigint[]
}

/** The registry parameters that `Staking.Params` carries (the rest never reach the Staking contract). */
export const STAKING_PARAM_NAMES = [
  "fees.burnFraction", "staking.insuranceFraction", "staking.insuranceCoverage", "staking.maxCommission",
  "slashing.doubleSignFraction", "slashing.downtimeFraction", "staking.minValidatorBond", "staking.minContributorBond",
  "staking.unbondingPeriod", "slashing.downtimeJailDuration",
  "staking.lockMultiplier30d", "staking.lockMultiplier90d", "staking.lockMultiplier180d", "staking.lockMultiplier365d",
] as const

export type StakingParamName = (typeof STAKING_PARAM_NAMES)[number]

/** The parameters' part that `Staking.Params` carries. */
export type StakingParamValues = Pick<Params, StakingParamName>

/** The fields of `Staking.Params` other than `multipliers`, in the ABI's order. */
const SCALAR_FIELDS = [
  "burnFraction", "insuranceFraction", "insuranceCoverage", "maxCommission", "doubleSignFraction", "downtimeFraction",
  "minValidatorBond", "minContributorBond", "unbondingPeriod", "downtimeJailDuration",
] as const

/** The Solidity `Staking.Params` of a set of economy parameters (throws a RangeError for a duration that is not whole seconds). */
export const encodeStakingParams = (p: Params): RawStakingParams => {
  const c = econConfig(p)
  return {
    burnFraction: c.burnFraction,
    insuranceFraction: c.insuranceFraction,
    insuranceCoverage: c.insuranceCoverage,
    maxCommission: c.maxCommission,
    doubleSignFraction: c.doubleSignFraction,
    downtimeFraction: c.downtimeFraction,
    minValidatorBond: c.minValidatorBond,
    minContributorBond: c.minContributorBond,
    unbondingPeriod: msToSec(c.unbondingPeriod),
    downtimeJailDuration: msToSec(c.downtimeJailDuration),
    multipliers: LOCK_TIERS.map((t) => c.multipliers[t]),
  }
}

/** The economy's staking parameters of a Solidity `Staking.Params` (seconds → ms, wads → numbers). */
export const decodeStakingParams = (raw: RawStakingParams): StakingParamValues => ({
  "fees.burnFraction": fromWad(raw.burnFraction),
  "staking.insuranceFraction": fromWad(raw.insuranceFraction),
  "staking.insuranceCoverage": fromWad(raw.insuranceCoverage),
  "staking.maxCommission": fromWad(raw.maxCommission),
  "slashing.doubleSignFraction": fromWad(raw.doubleSignFraction),
  "slashing.downtimeFraction": fromWad(raw.downtimeFraction),
  "staking.minValidatorBond": fromWad(raw.minValidatorBond),
  "staking.minContributorBond": fromWad(raw.minContributorBond),
  "staking.unbondingPeriod": Number(raw.unbondingPeriod) * 1000,
  "slashing.downtimeJailDuration": Number(raw.downtimeJailDuration) * 1000,
  "staking.lockMultiplier30d": fromWad(multiplierOf(raw, 30)),
  "staking.lockMultiplier90d": fromWad(multiplierOf(raw, 90)),
  "staking.lockMultiplier180d": fromWad(multiplierOf(raw, 180)),
  "staking.lockMultiplier365d": fromWad(multiplierOf(raw, 365)),
})

/** The wad multiplier of a lock tier in `Staking.Params`. */
export const multiplierOf = (raw: RawStakingParams, tier: LockTier): bigint => {
  const m = raw.multipliers[LOCK_TIERS.indexOf(tier)]
  if (m === undefined) throw new RangeError(`Staking.Params has no multiplier for the ${tier}-day tier (${raw.multipliers.length} multipliers)`)
  return m
}

type Any = any // an ethers Result (named tuple fields)

/** The `Staking.Params` of an ethers Result of `Staking.params()` (a named tuple) as plain bigints. */
export const rawStakingParams = (result: Any): RawStakingParams => ({
  ...(Object.fromEntries(SCALAR_FIELDS.map((k) => [k, result[k] as bigint])) as Record<(typeof SCALAR_FIELDS)[number], bigint>),
  multipliers: [...(result.multipliers as Iterable<bigint>)],
})
