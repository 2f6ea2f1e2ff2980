/**
 * The Staking parameter codec: what deploy and setParams encode is what the node decodes back,
 * through the contract's own ABI (no chain needed). A failure prints fast-check's seed and path;
 * replay it with `fc.assert(prop, { seed, path })` (DAI_PROPERTY_RUNS=… for more runs).
 */
import fc from "fast-check"
import { Result } from "effect"
import { Interface } from "ethers"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, REGISTRY, resolveParams, type Params } from "../../core/params.ts"
import { STAKING_ABI } from "./abi.ts"
import { chainParams } from "./params.ts"
import { decodeStakingParams, encodeStakingParams, rawStakingParams, STAKING_PARAM_NAMES, type StakingParamName } from "./staking-params.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)
const STAKING = new Interface(STAKING_ABI)

/** A number in [lo, hi] with at most 15 significant digits (k / 10^d), as a person or a proposal writes one. */
const decimalIn = (lo: number, hi: number): fc.Arbitrary<number> => {
  const intDigits = Math.max(1, Math.ceil(Math.log10(hi + 1)))
  return fc.integer({ min: 0, max: 15 - intDigits }).chain((d) => {
    const scale = 10 ** d
    return fc.integer({ min: Math.ceil(lo * scale), max: Math.floor(hi * scale) }).map((k) => k / scale)
  })
}

/** A registry number parameter: its bounds half the time (the edges), any decimal in them otherwise. */
const numberOf = (name: StakingParamName, lo?: number): fc.Arbitrary<number> => {
  const def = REGISTRY[name] as { readonly min: number; readonly max: number }
  const min = Math.max(def.min, lo ?? def.min)
  return fc.oneof(fc.constantFrom(min, def.max), decimalIn(min, def.max))
}

/** A duration parameter in whole seconds within its bounds (the chain keeps seconds). */
const secondsOf = (name: StakingParamName): fc.Arbitrary<number> => {
  const def = REGISTRY[name] as { readonly min: number; readonly max: number }
  return fc.integer({ min: Math.ceil(def.min / 1000), max: Math.floor(def.max / 1000) }).map((s) => s * 1000)
}

/** Lock multipliers that never fall with a longer lock (the registry's rule), each within its bounds. */
const multipliersArb = numberOf("staking.lockMultiplier30d").chain((m30) =>
  numberOf("staking.lockMultiplier90d", m30).chain((m90) =>
    numberOf("staking.lockMultiplier180d", m90).chain((m180) =>
      numberOf("staking.lockMultiplier365d", m180).map((m365) => ({
        "staking.lockMultiplier30d": m30, "staking.lockMultiplier90d": m90, "staking.lockMultiplier180d": m180, "staking.lockMultiplier365d": m365,
      })))))

/** Valid parameters whose staking part is anything the registry allows (durations in whole seconds). */
const paramsArb: fc.Arbitrary<Params> = fc
  .record({
    "fees.burnFraction": numberOf("fees.burnFraction"),
    "staking.insuranceFraction": numberOf("staking.insuranceFraction"),
    "staking.insuranceCoverage": numberOf("staking.insuranceCoverage"),
    "staking.maxCommission": numberOf("staking.maxCommission"),
    "slashing.doubleSignFraction": numberOf("slashing.doubleSignFraction"),
    "slashing.downtimeFraction": numberOf("slashing.downtimeFraction"),
    "staking.minValidatorBond": numberOf("staking.minValidatorBond"),
    "staking.minContributorBond": numberOf("staking.minContributorBond"),
    "staking.unbondingPeriod": secondsOf("staking.unbondingPeriod"),
    "slashing.downtimeJailDuration": secondsOf("slashing.downtimeJailDuration"),
    multipliers: multipliersArb,
  })
  .map(({ multipliers, ...rest }) => Result.getOrThrow(resolveParams({ ...rest, ...multipliers })))

const stakingPart = (p: Params) => Object.fromEntries(STAKING_PARAM_NAMES.map((n) => [n, p[n]]))

/** Through the wire: the contract's ABI encoding of `Staking.params()`'s result, decoded by ethers as the node reads it. */
const overTheAbi = (p: Params) =>
  rawStakingParams(STAKING.decodeFunctionResult("params", STAKING.encodeFunctionResult("params", [encodeStakingParams(p)]))[0])

describe("Staking parameter codec", () => {
  it("decode(encode(p)) gives back every staking parameter, through the contract's ABI", () => {
    fc.assert(
      fc.property(paramsArb, (p) => {
        expect(decodeStakingParams(overTheAbi(p))).toEqual(stakingPart(p))
      }),
      { numRuns: RUNS },
    )
  })

  it("the node's parameters read from Staking are the deployed ones; what Staking does not carry stays the base's", () => {
    fc.assert(
      fc.property(paramsArb, (p) => {
        const read = chainParams(DEFAULT_PARAMS, new Map(), overTheAbi(p))
        expect(read).toEqual({ ...DEFAULT_PARAMS, ...stakingPart(p) })
      }),
      { numRuns: RUNS },
    )
  })

  it("encodes the multipliers one per lock tier, shortest first, the 0-day tier at exactly 1", () => {
    fc.assert(
      fc.property(paramsArb, (p) => {
        const m = encodeStakingParams(p).multipliers
        expect(m).toHaveLength(5)
        expect(m[0]).toBe(10n ** 18n)
        for (let i = 1; i < m.length; i++) expect(m[i]! >= m[i - 1]!).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it("refuses a duration that is not whole seconds, naming it, rather than rounding it on chain", () => {
    const p = Result.getOrThrow(resolveParams({ "staking.unbondingPeriod": 3_600_500 }))
    expect(() => encodeStakingParams(p)).toThrow(/3600500ms is not a whole number of seconds/)
  })
})
