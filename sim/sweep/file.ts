/**
 * The sweep file (scenarios/README.md, "Sweeps"): text → a checked `Sweep`. Every problem names the file and
 * the key, and every parameter value (grid values, range ends, each drawn point) is checked against
 * the constitution's bounds before anything runs.
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { Result, Schema } from "effect"
import { decodeParam, REGISTRY, isParamName, resolveParams, type ParamValue, type Params } from "../../runtime/core/params.ts"
import { parseScenario, type Scenario } from "../scenario/load.ts"
import { decodeFile, FileError } from "../scenario/decode-file.ts"
import { parseConstraint, type Constraint } from "./constraints.ts"
import { gridIndices, gridSize, latinHypercube } from "./sample.ts"
import { Prng } from "../kernel/index.ts"

/** Metrics a sweep can ask for: the numeric fields of a scenario report's `metrics`. */
export const METRIC_NAMES = [
  "attackerRoi", "attackerExcessRoi", "attackerProfit", "sybilGain", "sybilRoi", "honestApr", "honestAprMin", "contributorApr", "stakeGini", "nakamoto",
  "supply", "burnt", "insurancePool", "insurancePaidIn", "insurancePayouts", "totalSlashed", "rewardsFunded",
  "accuracy", "epsilon", "height", "time", "rounds", "commits", "messagesDelivered", "messagesDropped", "invalidMessages",
  "marketAttackerRoi", "marketSettled", "marketLost", "marketPaid", "marketPenalties", "marketWrongPaid", "marketRefuted",
] as const
export type MetricName = (typeof METRIC_NAMES)[number]

export const DEFAULT_METRICS: readonly MetricName[] = ["attackerRoi", "honestApr", "stakeGini", "supply"]

const Scalar = Schema.Union([Schema.Number, Schema.String, Schema.Boolean])
const Whole = (min: number, max: number) =>
  Schema.Number.check(Schema.makeFilter((n) => (Number.isInteger(n) && n >= min && n <= max) || `expected a whole number from ${min} to ${max}, got ${n}`))

export const SweepFile = Schema.Struct({
  name: Schema.String.check(Schema.makeFilter((s) => s.trim().length > 0 || "expected a non-empty name")),
  description: Schema.optional(Schema.String),
  scenario: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  seeds: Schema.optional(Whole(1, 100_000)),
  /** Extension: first seed of every point (default: the scenario's seed). */
  seed: Schema.optional(Whole(0, Number.MAX_SAFE_INTEGER)),
  grid: Schema.optional(Schema.Record(Schema.String, Schema.Array(Scalar))),
  random: Schema.optional(Schema.Struct({
    samples: Whole(1, 1_000_000),
    ranges: Schema.Record(Schema.String, Schema.Tuple([Schema.Union([Schema.Number, Schema.String]), Schema.Union([Schema.Number, Schema.String])])),
    /** Seed of the Latin hypercube (default 0). */
    seed: Schema.optional(Whole(0, Number.MAX_SAFE_INTEGER)),
  })),
  metrics: Schema.optional(Schema.Array(Schema.String)),
  constraints: Schema.optional(Schema.Record(Schema.String, Schema.String)),
})

export interface SweepScenario {
  /** Path as given in the sweep file, and resolved. */
  readonly name: string
  readonly path: string
  readonly scenario: Scenario
}

/** The swept parameter space: a grid, or samples of a Latin hypercube over ranges. */
export type Space =
  | { readonly kind: "grid"; readonly names: readonly string[]; readonly values: ReadonlyArray<readonly ParamValue[]> }
  | { readonly kind: "random"; readonly names: readonly string[]; readonly samples: ReadonlyArray<readonly ParamValue[]> }

export interface Sweep {
  readonly file: string
  readonly name: string
  readonly description: string
  readonly scenarios: readonly SweepScenario[]
  readonly seeds: number
  readonly seed: number | undefined
  readonly space: Space
  readonly metrics: readonly MetricName[]
  readonly constraints: readonly Constraint[]
  /** Identifies the sweep (its file and its scenarios' files): a results directory belongs to one hash. */
  readonly hash: string
}

/** A point of the sweep: which scenario, which parameter values. */
export interface Point {
  readonly index: number
  readonly scenario: number
  readonly params: Readonly<Record<string, ParamValue>>
}


/** Points per scenario. */
export const spaceSize = (space: Space): number => (space.kind === "grid" ? gridSize(space.values.map((v) => v.length)) : space.samples.length)

/** Every run: points × seeds. */
export const totalRuns = (sweep: Sweep): number => sweep.scenarios.length * spaceSize(sweep.space) * sweep.seeds

/** Point `index` (scenario-major), computed on demand so a large grid is never materialised. */
export const pointAt = (sweep: Sweep, index: number): Point => {
  const per = spaceSize(sweep.space)
  const scenario = Math.floor(index / per)
  const rest = index % per
  const params: Record<string, ParamValue> = {}
  const { space } = sweep
  if (space.kind === "grid") {
    gridIndices(space.values.map((v) => v.length), rest).forEach((i, d) => (params[space.names[d]!] = space.values[d]![i]!))
  } else {
    space.names.forEach((name, d) => (params[name] = space.samples[rest]![d]!))
  }
  return { index, scenario, params }
}

/** The parameters of a scenario with a point's overrides (checked: the point passed `loadSweep`). */
export const paramsOf = (base: Scenario, point: Point): Result.Result<Params, string> => {
  const r = resolveParams(point.params, base.params)
  return Result.isSuccess(r) ? Result.succeed(r.success) : Result.fail(r.failure.message)
}

const readScenario = (sweepFile: string, key: string, given: string): SweepScenario => {
  const path = resolve(dirname(sweepFile), given)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    throw new FileError({ file: sweepFile, key, reason: `cannot read scenario ${given} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  return { name: given, path, scenario: parseScenario(text, path) }
}

/** Parse and check a sweep file; its scenarios are read relative to it. Throws a FileError naming the sweep file or the scenario file at fault. */
export const loadSweep = (text: string, file: string): Sweep => {
  const decoded = decodeFile(SweepFile, text, file, "name, scenario, grid or random, ...")
  if (Result.isFailure(decoded)) throw new FileError({ file, key: decoded.failure.key, reason: decoded.failure.message })
  const s = decoded.success
  const given = typeof s.scenario === "string" ? [s.scenario] : s.scenario
  if (given.length === 0) throw new FileError({ file, key: "scenario", reason: "expected at least one scenario file" })
  const scenarios = given.map((g, i) => readScenario(file, typeof s.scenario === "string" ? "scenario" : `scenario[${i}]`, g))

  if ((s.grid === undefined) === (s.random === undefined)) throw new FileError({ file, key: s.grid === undefined ? "" : "random", reason: "expected exactly one of grid or random" })
  const space = s.grid !== undefined ? gridSpace(file, s.grid) : randomSpace(file, s.random!)

  const metrics = (s.metrics ?? DEFAULT_METRICS).map((m, i) => {
    if (!(METRIC_NAMES as readonly string[]).includes(m)) throw new FileError({ file, key: `metrics[${i}]`, reason: `unknown metric "${m}" (known: ${METRIC_NAMES.join(", ")})` })
    return m as MetricName
  })
  if (metrics.length === 0) throw new FileError({ file, key: "metrics", reason: "expected at least one metric" })
  const constraints = Object.entries(s.constraints ?? {}).map(([metric, text]) => {
    if (!(METRIC_NAMES as readonly string[]).includes(metric)) throw new FileError({ file, key: `constraints.${metric}`, reason: `unknown metric "${metric}" (known: ${METRIC_NAMES.join(", ")})` })
    if (!metrics.includes(metric as MetricName)) throw new FileError({ file, key: `constraints.${metric}`, reason: `"${metric}" is not among the sweep's metrics (${metrics.join(", ")})` })
    const c = parseConstraint(metric, text)
    if (typeof c === "string") throw new FileError({ file, key: `constraints.${metric}`, reason: c })
    return c
  })

  const hash = createHash("sha256").update(text)
  for (const sc of scenarios) hash.update(`\0${sc.path}\0${readFileSync(sc.path, "utf8")}`)
  const sweep: Sweep = {
    file, name: s.name, description: s.description ?? "", scenarios, seeds: s.seeds ?? 1, seed: s.seed, space, metrics, constraints,
    hash: hash.digest("hex").slice(0, 16),
  }
  // Every point (lazily: a big grid is never held) must make a valid parameter set for its scenario.
  const total = scenarios.length * spaceSize(space)
  for (let i = 0; i < total; i++) {
    const point = pointAt(sweep, i)
    const r = paramsOf(scenarios[point.scenario]!.scenario, point)
    if (Result.isFailure(r)) {
      throw new FileError({ file, key: space.kind, reason: `point ${i} (${Object.entries(point.params).map(([k, v]) => `${k}=${String(v)}`).join(", ")}) on ${scenarios[point.scenario]!.name}: ${r.failure}` })
    }
  }
  return sweep
}

/** One value against its parameter's bounds; rules across parameters are checked per point. */
const checkValue = (file: string, key: string, name: string, value: unknown): ParamValue => {
  if (!isParamName(name)) throw new FileError({ file, key: key.replace(/\[\d+\]$/, ""), reason: `unknown parameter "${name}" (see \`dai params\`)` })
  const r = decodeParam(name, value)
  if (Result.isFailure(r)) throw new FileError({ file, key, reason: r.failure.message })
  return r.success
}

const gridSpace = (file: string, grid: Readonly<Record<string, readonly (number | string | boolean)[]>>): Space => {
  const names = Object.keys(grid)
  if (names.length === 0) throw new FileError({ file, key: "grid", reason: "expected at least one parameter" })
  const values = names.map((name) => {
    const list = grid[name]!
    if (list.length === 0) throw new FileError({ file, key: `grid.${name}`, reason: "expected at least one value" })
    return list.map((v, i) => checkValue(file, `grid.${name}[${i}]`, name, v))
  })
  return { kind: "grid", names, values }
}

const NUMERIC = new Set(["fraction", "number", "integer", "tokens", "duration"])

const randomSpace = (
  file: string, random: { readonly samples: number; readonly ranges: Readonly<Record<string, readonly [number | string, number | string]>>; readonly seed?: number | undefined },
): Space => {
  const names = Object.keys(random.ranges)
  if (names.length === 0) throw new FileError({ file, key: "random.ranges", reason: "expected at least one parameter" })
  const bounds = names.map((name) => {
    if (!isParamName(name)) throw new FileError({ file, key: `random.ranges.${name}`, reason: `unknown parameter "${name}" (see \`dai params\`)` })
    if (!NUMERIC.has(REGISTRY[name].kind)) throw new FileError({ file, key: `random.ranges.${name}`, reason: `a range needs a numeric parameter; ${name} is a ${REGISTRY[name].kind} (sweep it with grid)` })
    const [a, b] = random.ranges[name]!
    const lo = checkValue(file, `random.ranges.${name}[0]`, name, a) as number
    const hi = checkValue(file, `random.ranges.${name}[1]`, name, b) as number
    if (lo > hi) throw new FileError({ file, key: `random.ranges.${name}`, reason: `the low end (${String(a)}) is above the high end (${String(b)})` })
    return { lo, hi, integer: REGISTRY[name].kind === "integer" || REGISTRY[name].kind === "duration" }
  })
  const unit = latinHypercube(random.samples, names.length, Prng.fromSeed(random.seed ?? 0).child("sweep/lhs"))
  const samples = unit.map((row) => row.map((u, d) => {
    const { lo, hi, integer } = bounds[d]!
    const x = lo + u * (hi - lo)
    return integer ? Math.min(hi, Math.max(lo, Math.round(x))) : x
  }))
  return { kind: "random", names, samples }
}

