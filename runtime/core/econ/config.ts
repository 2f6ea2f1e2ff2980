/**
 * The economic parameters converted once to the exact integers the rules use: fractions and
 * multipliers as wads (via `toWad`, exact decimal conversion, no float arithmetic), whole-token
 * amounts as base units, durations as ms. Cached per `Params` object.
 */
import { DAY_MS } from "../duration.ts"
import type { Params } from "../params.ts"
import { tokens, toWad, WAD } from "../units.ts"
import type { LockTier } from "./state.ts"

/** The lock tiers in days, shortest first. */
export const LOCK_TIERS: readonly LockTier[] = [0, 30, 90, 180, 365]

export const isLockTier = (t: unknown): t is LockTier => typeof t === "number" && (LOCK_TIERS as readonly number[]).includes(t)

/** Lock duration of a tier in ms. */
export const tierMs = (tier: LockTier): number => tier * DAY_MS

export interface EconConfig {
  readonly burnFraction: bigint
  readonly insuranceFraction: bigint
  readonly insuranceCoverage: bigint
  readonly maxCommission: bigint
  readonly doubleSignFraction: bigint
  readonly downtimeFraction: bigint
  readonly minValidatorBond: bigint
  readonly minContributorBond: bigint
  readonly annualEmission: bigint
  /** Wad share of each block's emission set aside for contributors (paid by revealed scores). */
  readonly contributorShare: bigint
  readonly unbondingPeriod: number
  readonly downtimeJailDuration: number
  /** Lock multiplier per tier, as a wad (1e18 = 1×). */
  readonly multipliers: Readonly<Record<LockTier, bigint>>
}

const cache = new WeakMap<Params, EconConfig>()

/** The integer form of the economic parameters. */
export const econConfig = (p: Params): EconConfig => {
  const hit = cache.get(p)
  if (hit !== undefined) return hit
  const c: EconConfig = {
    burnFraction: toWad(p["fees.burnFraction"]),
    insuranceFraction: toWad(p["staking.insuranceFraction"]),
    insuranceCoverage: toWad(p["staking.insuranceCoverage"]),
    maxCommission: toWad(p["staking.maxCommission"]),
    doubleSignFraction: toWad(p["slashing.doubleSignFraction"]),
    downtimeFraction: toWad(p["slashing.downtimeFraction"]),
    minValidatorBond: tokens(p["staking.minValidatorBond"]),
    minContributorBond: tokens(p["staking.minContributorBond"]),
    annualEmission: tokens(p["rewards.annualEmission"]),
    contributorShare: toWad(p["rewards.contributorShare"]),
    unbondingPeriod: p["staking.unbondingPeriod"],
    downtimeJailDuration: p["slashing.downtimeJailDuration"],
    multipliers: {
      0: WAD,
      30: toWad(p["staking.lockMultiplier30d"]),
      90: toWad(p["staking.lockMultiplier90d"]),
      180: toWad(p["staking.lockMultiplier180d"]),
      365: toWad(p["staking.lockMultiplier365d"]),
    },
  }
  cache.set(p, c)
  return c
}
