import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, PARAM_NAMES, REGISTRY, decodeParam, describeBounds, resolveParams, type ParamDef } from "./params.ts"
import { formatDuration, parseDuration } from "./duration.ts"
import { formatTokens, parseFixed, sqrt, tokens, toWad, TOKEN } from "./units.ts"

/** Every name scenarios/README.md promises, whichever machine uses it. */
const PROMISED = [
  "consensus.timeoutPropose", "consensus.timeoutPrevote", "consensus.timeoutPrecommit", "consensus.contributionWeight",
  "slashing.doubleSignFraction", "slashing.downtimeFraction", "slashing.downtimeWindow", "slashing.minSignedPerWindow",
  "staking.unbondingPeriod", "staking.insuranceFraction", "fees.burnFraction",
  "governance.quorum", "governance.threshold", "governance.votingPeriod", "governance.quadratic",
  "training.dataset", "training.model", "training.partition", "training.cohort", "training.localEpochs",
  "training.batchSize", "training.learningRate", "training.aggregator", "training.secureAggregation",
  "training.dp.clipNorm", "training.dp.noiseMultiplier",
]

const failure = <A, E>(r: Result.Result<A, E>): E => {
  if (Result.isSuccess(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("parameter registry", () => {
  it("has every parameter scenarios/README.md names", () => {
    for (const name of PROMISED) expect(PARAM_NAMES).toContain(name)
  })

  it("has defaults inside their own bounds and passing every cross-parameter rule", () => {
    for (const name of PARAM_NAMES) {
      const def: ParamDef = REGISTRY[name]
      expect(Result.isSuccess(decodeParam(name, def.default)), `${name} default ${String(def.default)}`).toBe(true)
      expect(def.description.length).toBeGreaterThan(10)
    }
    expect(Result.isSuccess(resolveParams({}))).toBe(true)
  })

  it("refuses a value outside the bounds, naming the parameter, the value and the bounds", () => {
    const e = failure(resolveParams({ "slashing.doubleSignFraction": 2 }))
    expect(e._tag).toBe("ParamOutOfBounds")
    expect(e.message).toBe("parameter slashing.doubleSignFraction: 2 is outside the constitution's bounds [0.01, 1]")
  })

  it("refuses unknown names and wrong types", () => {
    expect(failure(resolveParams({ "slashing.nope": 1 })).message).toMatch(/unknown parameter "slashing.nope"/)
    expect(failure(decodeParam("training.localEpochs", 1.5))._tag).toBe("ParamInvalid")
    expect(failure(decodeParam("consensus.timeoutPropose", "3 parsecs")).message).toMatch(/a duration such as/)
    expect(failure(decodeParam("training.aggregator", "mean")).message).toMatch(/\{fedavg, median, trimmed-mean, krum\}/)
    expect(failure(decodeParam("training.partition", "shards:0")).message).toMatch(/1 <= k <= 10/)
    expect(failure(decodeParam("governance.quadratic", "yes"))._tag).toBe("ParamInvalid")
  })

  it("accepts the written forms of durations, numbers from flags and partitions", () => {
    expect(Result.getOrThrow(decodeParam("consensus.timeoutPropose", "1500ms"))).toBe(1500)
    expect(Result.getOrThrow(decodeParam("staking.unbondingPeriod", "7d"))).toBe(7 * 86_400_000)
    expect(Result.getOrThrow(decodeParam("fees.burnFraction", "0.5"))).toBe(0.5)
    expect(Result.getOrThrow(decodeParam("training.partition", "dirichlet:0.5"))).toBe("dirichlet:0.5")
    expect(Result.getOrThrow(decodeParam("training.partition", "shards:2"))).toBe("shards:2")
  })

  it("enforces that a longer lock never has a smaller multiplier", () => {
    const e = failure(resolveParams({ "staking.lockMultiplier90d": 1.05 }))
    expect(e._tag).toBe("ParamConstraintViolated")
    expect(e.message).toMatch(/longer lock must never earn a smaller multiplier/)
  })

  it("property: any in-bounds value of a numeric parameter is accepted and kept exactly", () => {
    const numeric = PARAM_NAMES.filter((n) => ["fraction", "number", "tokens", "duration", "integer"].includes(REGISTRY[n].kind))
    fc.assert(
      fc.property(fc.constantFrom(...numeric), fc.double({ min: 0, max: 1, noNaN: true }), (name, u) => {
        const def = REGISTRY[name] as ParamDef & { min: number; max: number }
        let v = def.min + (def.max - def.min) * u
        if (def.kind === "integer" || def.kind === "duration") v = Math.round(v)
        v = Math.min(def.max, Math.max(def.min, v))
        expect(Result.getOrThrow(decodeParam(name, v))).toBe(v)
      }),
      { numRuns: 500 },
    )
  })

  it("describes bounds readably", () => {
    expect(describeBounds(REGISTRY["staking.unbondingPeriod"])).toBe("[1h, 60d]")
    expect(DEFAULT_PARAMS["staking.unbondingPeriod"]).toBe(21 * 86_400_000)
  })
})

describe("units and durations", () => {
  it("parses decimals exactly", () => {
    expect(toWad(0.05)).toBe(5n * 10n ** 16n)
    expect(toWad("1e-4")).toBe(10n ** 14n)
    expect(tokens(1000)).toBe(1000n * TOKEN)
    expect(tokens("0.000000000000000001")).toBe(1n)
    expect(parseFixed("1.23456", 2)).toBe(123n)
    expect(() => tokens(-1)).toThrow(RangeError)
    expect(() => tokens("abc")).toThrow(RangeError)
  })

  it("formats tokens", () => {
    expect(formatTokens(1_234_567n * TOKEN + TOKEN / 2n)).toBe("1,234,567.5")
    expect(formatTokens(0n)).toBe("0")
    expect(formatTokens(-TOKEN)).toBe("-1")
  })

  it("round-trips durations", () => {
    for (const text of ["250ms", "30s", "10m", "1h", "2d", "90s"]) expect(formatDuration(parseDuration(text)!)).toBe(text === "90s" ? "90s" : text)
    expect(parseDuration("1.5s")).toBe(1500)
    expect(parseDuration("10")).toBeUndefined()
    expect(parseDuration("-1s")).toBeUndefined()
  })

  it("property: integer sqrt is the floor square root", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n }), (x) => {
        const r = sqrt(x)
        expect(r * r <= x && (r + 1n) * (r + 1n) > x).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })
})
