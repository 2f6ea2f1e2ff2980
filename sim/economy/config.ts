/** What an economy run simulates: how many of each participant, for how long, under which params. */
import { Result, Schema } from "effect"
import { DAY_MS } from "../../runtime/core/duration.ts"
import { resolveParams, type ParamError, type Params } from "../../runtime/core/params.ts"

export interface EconomyRunConfig {
  readonly seed: number
  /** Virtual days to run. */
  readonly days: number
  readonly validators: number
  readonly delegators: number
  readonly contributors: number
  /** Compute users who pay fees. */
  readonly users: number
  /** Reward emission and fee payments happen once per epoch. */
  readonly epochMs: number
  readonly params: Params
  /** Validators that go offline now and then and are slashed for downtime (the last ones). */
  readonly flaky: number
  /** Validators that double-sign once, a third of the way through (the first ones after v0). */
  readonly doubleSigners: number
}

export const ECONOMY_DEFAULTS = {
  days: 90,
  validators: 7,
  delegators: 60,
  contributors: 10,
  users: 5,
  epochMs: DAY_MS / 4,
  flaky: 1,
  doubleSigners: 1,
} as const

/** A `dai sim economy` setting out of its range: which one (`key`, the flag's name) and why. */
export class EconomyConfigError extends Schema.TaggedError<EconomyConfigError>()("EconomyConfigError", {
  key: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.key}: ${this.reason}`
  }
}

/** Check a config's shape beyond the params (which `resolveParams` checked already). */
export const checkEconomyConfig = (c: EconomyRunConfig): EconomyRunConfig => {
  const whole = (name: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new EconomyConfigError({ key: name, reason: `must be a whole number from ${min} to ${max}, got ${v}` })
  }
  whole("validators", c.validators, 1, 1_000)
  whole("delegators", c.delegators, 0, 100_000)
  whole("contributors", c.contributors, 0, 100_000)
  whole("users", c.users, 0, 10_000)
  whole("days", c.days, 1, 3_650)
  whole("epochMs", c.epochMs, 60_000, 30 * DAY_MS)
  whole("flaky", c.flaky, 0, c.validators)
  whole("doubleSigners", c.doubleSigners, 0, Math.max(0, c.validators - 1))
  if (c.flaky + c.doubleSigners > c.validators) {
    throw new EconomyConfigError({ key: "flaky", reason: `flaky (${c.flaky}) + doubleSigners (${c.doubleSigners}) exceed validators (${c.validators})` })
  }
  return c
}

/** A config from defaults, overrides and raw param overrides (`name=value` from flags). */
export const economyConfig = (
  overrides: Partial<Omit<EconomyRunConfig, "params">> & { readonly seed: number },
  rawParams: Readonly<Record<string, unknown>> = {},
): Result.Result<EconomyRunConfig, ParamError> =>
  Result.map(resolveParams(rawParams), (params) => checkEconomyConfig({ ...ECONOMY_DEFAULTS, ...overrides, params }))
