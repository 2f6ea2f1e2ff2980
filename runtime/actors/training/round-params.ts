/**
 * A training round's settings, computed from `training.*` in one place for both worlds: what the
 * coordinator opens a round with, and the secure-aggregation settings a trainer checks its part by.
 * Both sides derive the cohort from the same count of trainers, so they agree on the threshold.
 */
import type { Params } from "../../core/params.ts"
import type { SecAggGraph } from "../../core/training/secagg/index.ts"
import type { RoundParams } from "./round-coordinator.ts"

/** Time each secure-aggregation step and the commit may take: a third of the deadline, at least 5 s. */
export const stepTimeoutOf = (deadline: number): number => Math.max(5_000, Math.round(deadline / 3))

/** How many of `trainerCount` trainers a round picks (`training.cohort` of them, at least one). */
export const cohortSizeOf = (params: Params, trainerCount: number): number =>
  Math.max(1, Math.ceil(params["training.cohort"] * trainerCount))

/** How many of the cohort's shares must survive to unmask the sum (at least two: one alone is no secret). */
export const secAggThresholdOf = (params: Params, trainerCount: number): number =>
  Math.max(2, Math.ceil(params["training.secAggThreshold"] * cohortSizeOf(params, trainerCount)))

/** The settings of a round opened over `trainerCount` trainers. */
export const roundParams = (params: Params, trainerCount: number): RoundParams => {
  const cohortSize = cohortSizeOf(params, trainerCount)
  const deadline = params["training.roundDeadline"]
  return {
    cohortSize, deadline,
    minParticipants: Math.max(1, Math.ceil(params["training.minParticipants"] * cohortSize)),
    stepTimeout: stepTimeoutOf(deadline),
    secureAggregation: params["training.secureAggregation"],
    secAggThreshold: secAggThresholdOf(params, trainerCount),
    secAggGraph: params["training.secAggGraph"],
    aggregator: params["training.aggregator"], trimFraction: params["training.trimFraction"],
    clipNorm: params["training.dp.clipNorm"], noiseMultiplier: params["training.dp.noiseMultiplier"],
  }
}

/** A trainer's secure-aggregation settings: the threshold, the clip norm, whether it clips its own update (under DP noise), the mask graph. */
export const trainerSecAggParams = (params: Params, trainerCount: number): { readonly threshold: number; readonly clip: number; readonly clipOwn: boolean; readonly graph: SecAggGraph } => ({
  threshold: secAggThresholdOf(params, trainerCount),
  graph: params["training.secAggGraph"],
  clip: params["training.dp.clipNorm"],
  clipOwn: params["training.dp.noiseMultiplier"] > 0,
})
