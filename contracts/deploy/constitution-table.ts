/**
 * The Constitution's table, generated from the parameter registry (runtime/core/params.ts): every
 * numeric parameter (duration, fraction, number, integer, tokens) with its bounds and default, as
 * the exact integers the contract stores — durations in ms, integers as is, fractions, multipliers
 * and whole tokens × 1e18 (exact decimal conversion, no float arithmetic). Booleans, choices and
 * patterns are not numeric and stay off chain.
 */
import { keccak256, utf8ToBytes, toHex } from "../../runtime/core/crypto.ts"
import { PARAM_NAMES, REGISTRY, type ParamDef, type ParamName, type Params } from "../../runtime/core/params.ts"
import { parseFixed } from "../../runtime/core/units.ts"

export interface ConstitutionRow {
  readonly name: ParamName
  /** keccak256(bytes(name)) as 0x hex. */
  readonly key: string
  readonly kind: ParamDef["kind"]
  readonly min: bigint
  readonly max: bigint
  readonly value: bigint
}

/** The contract's key of a parameter name. */
export const paramKey = (name: string): string => toHex(keccak256(utf8ToBytes(name)))

/** A registry value in the contract's integer units. */
export const toChainValue = (def: ParamDef, value: number): bigint =>
  def.kind === "duration" || def.kind === "integer" ? BigInt(value) : parseFixed(value, 18)

const isNumeric = (def: ParamDef): def is Extract<ParamDef, { min: number }> =>
  def.kind === "duration" || def.kind === "fraction" || def.kind === "number" || def.kind === "integer" || def.kind === "tokens"

/** Floors and values a named constitution changes (constitution-profile.ts: the devnet's lower governance periods). */
export interface ConstitutionOverrides {
  readonly floors: Readonly<Partial<Record<ParamName, number>>>
  readonly values: Readonly<Partial<Record<ParamName, number>>>
}

/**
 * Every numeric parameter's row, in registry order, valued from `params` (defaults when omitted);
 * a named constitution's `overrides` lower some floors and install its values for them.
 */
export const constitutionTable = (params?: Params, overrides?: ConstitutionOverrides): ConstitutionRow[] =>
  PARAM_NAMES.flatMap((name) => {
    const def: ParamDef = REGISTRY[name]
    if (!isNumeric(def)) return []
    const v = overrides?.values[name] ?? (params === undefined ? def.default : (params[name] as number))
    const min = overrides?.floors[name] ?? def.min
    return [{ name, key: paramKey(name), kind: def.kind, min: toChainValue(def, min), max: toChainValue(def, def.max), value: toChainValue(def, v) }]
  })

/** Constructor arguments of `Constitution` for `governance`. */
export const constitutionArgs = (governance: string, params?: Params, overrides?: ConstitutionOverrides): [string[], bigint[], bigint[], bigint[], string] => {
  const rows = constitutionTable(params, overrides)
  return [rows.map((r) => r.key), rows.map((r) => r.min), rows.map((r) => r.max), rows.map((r) => r.value), governance]
}
