/**
 * The parameters in force on chain, as the registry's `Params`.
 *
 * Sources, later ones winning: the adapter's base parameters (defaults: the registry's) for what
 * never goes on chain (booleans, choices, patterns; the adapter takes governance.quadratic from the
 * Governance contract, where deployment fixed it); the Constitution's value of every numeric
 * parameter; Staking's own `params()` for the economic ones (what the staking rules actually apply,
 * decoded by staking-params.ts). Constitution values back to the registry's units: durations are
 * ms already; fractions, multipliers and whole tokens are ÷ 1e18 — exact for values with at most 15
 * significant digits, which every registry value has (a wad set by hand past that is rounded).
 */
import type { Params, ParamName } from "../../core/params.ts"
import { REGISTRY } from "../../core/params.ts"
import { decodeStakingParams, type RawStakingParams } from "./staking-params.ts"
import { fromWad } from "./units.ts"

/** A chain integer of parameter `name` in the registry's units. */
export const fromChainValue = (name: ParamName, value: bigint): number => {
  const kind = REGISTRY[name].kind
  return kind === "duration" || kind === "integer" ? Number(value) : fromWad(value)
}

/** Overlay chain values on `base`: Constitution values (by name), then Staking's parameters. */
export const chainParams = (base: Params, constitution: ReadonlyMap<ParamName, bigint>, staking: RawStakingParams | undefined): Params => {
  const out: Record<string, unknown> = { ...base }
  for (const [name, v] of constitution) out[name] = fromChainValue(name, v)
  if (staking !== undefined) Object.assign(out, decodeStakingParams(staking))
  return Object.freeze(out) as unknown as Params
}
