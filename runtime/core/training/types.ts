/** One trainer's update for a round: new local weights minus the global weights. */
export interface ClientUpdate { readonly id: string; readonly delta: Float32Array; readonly samples: number }
export type AggregatorName = "fedavg" | "median" | "trimmed-mean" | "krum"
export const AGGREGATORS: readonly AggregatorName[] = ["fedavg", "median", "trimmed-mean", "krum"]
