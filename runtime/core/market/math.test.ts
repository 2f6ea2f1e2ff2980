import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, resolveParams } from "../params.ts"
import { TOKEN } from "../units.ts"
import { jobBudget, marketConfig, noShowPenalty, paymentSplit, wrongResultSlash } from "./math.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const ENV = propertyEnv("MARKET_MATH", 200)

describe("market arithmetic", () => {
  it("splits a payment at the defaults: 5% fee, 30% of it burnt, the rest to stakers", () => {
    const s = paymentSplit(1_000n * TOKEN, DEFAULT_PARAMS)
    expect(s).toEqual({ amount: 1_000n * TOKEN, toProvider: 950n * TOKEN, fee: 50n * TOKEN, burnt: 15n * TOKEN, toStakers: 35n * TOKEN })
  })

  it("rounds down like Solidity: a 19-wei payment pays no fee", () => {
    expect(paymentSplit(19n, DEFAULT_PARAMS)).toEqual({ amount: 19n, toProvider: 19n, fee: 0n, burnt: 0n, toStakers: 0n })
    expect(paymentSplit(20n, DEFAULT_PARAMS)).toEqual({ amount: 20n, toProvider: 19n, fee: 1n, burnt: 0n, toStakers: 1n })
  })

  it("takes penalties from the bond: 5% for a no-show, the whole bond for a refuted result, the requester compensated up to the refuted amount", () => {
    expect(noShowPenalty(1_000n * TOKEN, DEFAULT_PARAMS)).toBe(50n * TOKEN)
    expect(wrongResultSlash(1_000n * TOKEN, 30n * TOKEN, DEFAULT_PARAMS)).toEqual({ slashed: 1_000n * TOKEN, toRequester: 30n * TOKEN, burnt: 970n * TOKEN })
    expect(wrongResultSlash(1_000n * TOKEN, 1_500n * TOKEN, DEFAULT_PARAMS)).toEqual({ slashed: 1_000n * TOKEN, toRequester: 1_000n * TOKEN, burnt: 0n })
    expect(jobBudget(7n, 3n * TOKEN)).toBe(21n * TOKEN)
  })

  it("reads the market parameters as exact integers", () => {
    const c = marketConfig(DEFAULT_PARAMS)
    expect(c).toMatchObject({ minProviderBond: 1_000n * TOKEN, protocolFee: 5n * 10n ** 16n, disputeWindow: 60_000, noShowTimeout: 30_000 })
  })

  it("loses or makes no wei: provider + burnt + stakers = payment, each part ≥ 0, for any amount and fractions", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.constantFrom(0, 0.05, 0.123456789, 0.5), fc.constantFrom(0, 0.3, 0.9), fc.constantFrom(0, 0.2, 0.999, 1),
        fc.bigInt({ min: 0n, max: 10n ** 27n }), fc.bigInt({ min: 0n, max: 10n ** 27n }),
        (amount, fee, burn, slash, bond, frozen) => {
          ENV.tick()
          const params = Result.getOrThrow(resolveParams({ "market.protocolFee": fee, "fees.burnFraction": burn, "market.wrongResultSlash": slash }))
          const s = paymentSplit(amount, params)
          expect(s.toProvider + s.burnt + s.toStakers).toBe(amount)
          expect(s.fee).toBe(s.burnt + s.toStakers)
          for (const x of [s.toProvider, s.burnt, s.toStakers]) expect(x >= 0n).toBe(true)
          const w = wrongResultSlash(bond, frozen, params)
          expect(w.toRequester + w.burnt).toBe(w.slashed)
          expect(w.slashed <= bond && w.toRequester <= frozen && w.burnt >= 0n).toBe(true)
        },
      ),
      ENV.params,
    )
  })
})
