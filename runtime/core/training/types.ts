import type { Params } from "../params.ts"

/** One trainer's update for a round: new local weights minus the global weights. */
export interface ClientUpdate { readonly id: string; readonly delta: Float32Array; readonly samples: number }
/** An aggregation rule's name: the choices of `training.aggregator` in the parameter registry. */
export type AggregatorName = Params["training.aggregator"]
