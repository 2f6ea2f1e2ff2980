/**
 * The constitution as state: the current value of every parameter and the bounds of every numeric
 * one. It starts from the registry (runtime/core/params.ts); an ordinary proposal may change a value
 * within its bounds, only an amendment may move a bound (and never so that the current value falls
 * outside). Mirrors contracts/Constitution.sol.
 */
import { Data, Result } from "effect"
import { checkConstraints, decodeParam, DEFAULT_PARAMS, isParamName, REGISTRY, type ParamError, type ParamName, type Params, type ParamValue } from "../params.ts"

export interface Bounds {
  readonly min: number
  readonly max: number
}

export class ConstitutionUnknownParameter extends Data.TaggedError("ConstitutionUnknownParameter")<{ readonly name: string }> {
  override get message() {
    return `unknown parameter "${this.name}"`
  }
}
export class ConstitutionOutOfBounds extends Data.TaggedError("ConstitutionOutOfBounds")<{ readonly name: string; readonly value: number; readonly min: number; readonly max: number }> {
  override get message() {
    return `parameter ${this.name}: ${this.value} is outside the constitution's bounds [${this.min}, ${this.max}]`
  }
}
export class ConstitutionInvalidBounds extends Data.TaggedError("ConstitutionInvalidBounds")<{ readonly name: string; readonly min: number; readonly max: number; readonly reason: string }> {
  override get message() {
    return `parameter ${this.name}: bounds [${this.min}, ${this.max}] ${this.reason}`
  }
}
export type ConstitutionError = ConstitutionUnknownParameter | ConstitutionOutOfBounds | ConstitutionInvalidBounds | ParamError

const numericBounds = (name: ParamName): Bounds | undefined => {
  const def = REGISTRY[name]
  return "min" in def ? { min: def.min, max: def.max } : undefined
}

export class Constitution {
  #params: Params
  readonly #bounds = new Map<ParamName, Bounds>()

  constructor(params: Params = DEFAULT_PARAMS) {
    this.#params = params
  }

  get params(): Params {
    return this.#params
  }

  /** The bounds in force of a numeric parameter (the registry's unless amended). */
  bounds(name: ParamName): Bounds | undefined {
    return this.#bounds.get(name) ?? numericBounds(name)
  }

  /** The parameters with `name` set to `raw`, if the value and every cross-parameter rule allow it. Changes nothing. */
  check(name: string, raw: unknown): Result.Result<Params, ConstitutionError> {
    if (!isParamName(name)) return Result.fail(new ConstitutionUnknownParameter({ name }))
    const b = this.bounds(name)
    if (b !== undefined && typeof raw === "number" && (raw < b.min || raw > b.max)) {
      return Result.fail(new ConstitutionOutOfBounds({ name, value: raw, min: b.min, max: b.max }))
    }
    // The registry decodes the value's type; amended bounds may be wider than the registry's, so a
    // numeric value already checked above is taken as is.
    let value: ParamValue
    if (b !== undefined && typeof raw === "number") value = raw
    else {
      const decoded = decodeParam(name, raw)
      if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
      value = decoded.success
    }
    return checkConstraints({ ...this.#params, [name]: value } as Params)
  }

  /** Set a value (an executed ordinary proposal). */
  setValue(name: string, raw: unknown): Result.Result<Params, ConstitutionError> {
    const next = this.check(name, raw)
    if (Result.isSuccess(next)) this.#params = next.success
    return next
  }

  /** Why bounds [min, max] cannot be adopted for `name`, or undefined. */
  checkBounds(name: string, min: number, max: number): ConstitutionError | undefined {
    if (!isParamName(name)) return new ConstitutionUnknownParameter({ name })
    const current = this.#params[name]
    if (numericBounds(name) === undefined || typeof current !== "number") return new ConstitutionInvalidBounds({ name, min, max, reason: "apply to numeric parameters only" })
    if (!(Number.isFinite(min) && Number.isFinite(max)) || min > max) return new ConstitutionInvalidBounds({ name, min, max, reason: "need min <= max" })
    if (current < min || current > max) return new ConstitutionOutOfBounds({ name, value: current, min, max })
    return undefined
  }

  /** Move a parameter's bounds (an executed amendment). */
  amendBounds(name: string, min: number, max: number): ConstitutionError | undefined {
    const bad = this.checkBounds(name, min, max)
    if (bad === undefined) this.#bounds.set(name as ParamName, { min, max })
    return bad
  }
}
