/**
 * Which constitution a deploy installs. `production` is the parameter registry's bounds as they are
 * (runtime/core/params.ts). `devnet` lowers two floors, and only those: governance.votingPeriod and
 * governance.timelock may go down to 5 s (production: 1 h), so that a proposal is made, voted,
 * passed and executed within one session on a devnet or in a test; it installs a 2-minute vote and a
 * 1-minute timelock. Every other bound is production's, and governance can raise the two floors
 * back by an amendment.
 *
 * A devnet constitution is never chosen silently: `dai chain deploy` installs it only when asked
 * (`--constitution devnet`) and then prints it as the first thing in its output, the devnet says so
 * in its start log and in devnet.json, and anyone can read the floors back from the Constitution
 * contract (`readLoweredFloors`): the chain, not a label, is the evidence.
 */
import { Contract, type Provider } from "ethers"
import { formatDuration, parseDuration } from "../../runtime/core/duration.ts"
import { formatParamValue, isParamName, REGISTRY, type ParamName } from "../../runtime/core/params.ts"
import { paramKey, toChainValue } from "./constitution-table.ts"

export type ConstitutionName = "production" | "devnet"

export interface ConstitutionProfile {
  readonly name: ConstitutionName
  /** Lowered floors, in the registry's units (durations in ms), by parameter. */
  readonly floors: Readonly<Partial<Record<ParamName, number>>>
  /** Values installed instead of the deploy's parameters (registry units), by parameter. */
  readonly values: Readonly<Partial<Record<ParamName, number>>>
}

export const PRODUCTION_CONSTITUTION: ConstitutionProfile = { name: "production", floors: {}, values: {} }

/** The devnet's: governance periods down to 5 s allowed; a 2-minute vote and a 1-minute timelock installed. */
export const DEVNET_CONSTITUTION: ConstitutionProfile = {
  name: "devnet",
  floors: { "governance.votingPeriod": 5_000, "governance.timelock": 5_000 },
  values: { "governance.votingPeriod": 120_000, "governance.timelock": 60_000 },
}

export const CONSTITUTIONS: Readonly<Record<ConstitutionName, ConstitutionProfile>> = { production: PRODUCTION_CONSTITUTION, devnet: DEVNET_CONSTITUTION }

/** The constitution of a name, or undefined. */
export const constitutionNamed = (name: string): ConstitutionProfile | undefined =>
  Object.hasOwn(CONSTITUTIONS, name) ? CONSTITUTIONS[name as ConstitutionName] : undefined

/** A numeric parameter's bounds under `profile` (registry units). */
export const boundsUnder = (profile: ConstitutionProfile, name: ParamName): { readonly min: number; readonly max: number } | undefined => {
  const def = REGISTRY[name]
  if (!("min" in def)) return undefined
  return { min: profile.floors[name] ?? def.min, max: def.max }
}

/** Whether `name` is one of the parameters whose floor `profile` lowers. */
export const lowers = (profile: ConstitutionProfile, name: string): name is ParamName => isParamName(name) && profile.floors[name] !== undefined

/**
 * The profile installing other values for the parameters whose floors it lowers (a test's shorter
 * periods, `--param governance.votingPeriod=30s` on a devnet). Throws an Error naming the parameter
 * and its bounds under the profile when a value is outside them or is not a duration.
 */
export const withValues = (profile: ConstitutionProfile, values: Readonly<Record<string, string | number>>): ConstitutionProfile => {
  const out: Partial<Record<ParamName, number>> = { ...profile.values }
  for (const [name, raw] of Object.entries(values)) {
    if (!lowers(profile, name)) throw new Error(`parameter ${name}: the ${profile.name} constitution does not lower its floor; set it in the genesis instead`)
    const v = typeof raw === "number" ? raw : parseDuration(raw)
    const b = boundsUnder(profile, name)!
    if (v === undefined || !Number.isSafeInteger(v)) throw new Error(`parameter ${name}: "${String(raw)}" is not a duration such as 30s, 2m, 1h`)
    if (v < b.min || v > b.max) {
      throw new Error(`parameter ${name}: ${formatDuration(v)} is outside the ${profile.name} constitution's bounds [${formatDuration(b.min)}, ${formatDuration(b.max)}]`)
    }
    out[name] = v
  }
  return { ...profile, values: out }
}

/** What a constitution changes, as lines to print loudly (none for production). */
export const describeConstitution = (profile: ConstitutionProfile): string[] => {
  const names = Object.keys(profile.floors) as ParamName[]
  if (names.length === 0) return []
  const width = Math.max(...names.map((n) => n.length))
  return [
    `CONSTITUTION "${profile.name}": lowered floors, for devnets and tests only, never for a network with value at stake`,
    ...names.map((n) => {
      const def = REGISTRY[n] as { readonly min: number }
      const value = profile.values[n]
      return `  ${n.padEnd(width)}  floor ${formatDuration(profile.floors[n]!)} (production ${formatDuration(def.min)})${value === undefined ? "" : `, installed ${formatDuration(value)}`}`
    }),
    "  every other bound is production's; a governance amendment can raise these floors",
  ]
}

/** A parameter whose floor on a deployed Constitution is below the registry's. */
export interface LoweredFloor {
  readonly name: ParamName
  /** On chain, registry units (ms for durations). */
  readonly min: number
  readonly registryMin: number
  readonly value: number
}

/** Read every numeric parameter's floor from a deployed Constitution; those below the registry's (none on a production deploy). */
export const readLoweredFloors = async (provider: Provider, constitution: string): Promise<LoweredFloor[]> => {
  const c = new Contract(constitution, ["function entry(bytes32 key) view returns (uint256 min, uint256 max, uint256 value)"], provider)
  // One read per numeric parameter, all at once (a remote RPC answers them in parallel), in registry order.
  const rows = await Promise.all((Object.keys(REGISTRY) as ParamName[]).map(async (name): Promise<LoweredFloor | undefined> => {
    const def = REGISTRY[name]
    if (!("min" in def)) return undefined
    const [min, , value] = (await c.getFunction("entry").staticCall(paramKey(name))) as [bigint, bigint, bigint]
    const units = (v: bigint) => (def.kind === "duration" || def.kind === "integer" ? Number(v) : Number(v) / 1e18)
    return min < toChainValue(def, def.min) ? { name, min: units(min), registryMin: def.min, value: units(value) } : undefined
  }))
  return rows.filter((r) => r !== undefined)
}

/** The lines `dai chain deploy` prints for floors read back from the chain (none when every floor is production's). */
export const describeLoweredFloors = (floors: readonly LoweredFloor[]): string[] => {
  if (floors.length === 0) return []
  const width = Math.max(...floors.map((f) => f.name.length))
  return [
    "!! DEVNET CONSTITUTION: this deployment's Constitution has floors below production's (read back from the chain):",
    ...floors.map((f) => {
      const text = (v: number) => formatParamValue(REGISTRY[f.name], v)
      return `!!   ${f.name.padEnd(width)}  floor ${text(f.min)} (production ${text(f.registryMin)}), now ${text(f.value)}`
    }),
    "!! proposals pass and execute within minutes: for devnets and tests only, never for a network with value at stake",
  ]
}
