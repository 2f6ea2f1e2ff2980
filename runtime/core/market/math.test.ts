import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, resolveParams } from "../params.ts"
import { TOKEN } from "../units.ts"
import { jobBudget, marketConfig, maxNoteAmount, maxNoteUnits, noShowPenalty, noteTooLarge, paymentSplit, wrongResultSlash } from "./math.ts"
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

  it("caps a debit note at what the bond deters: slash × p ÷ (1 − p), 111.1… tokens per 1,000 bonded at the defaults", () => {
    const bond = 1_000n * TOKEN
    const max = maxNoteAmount(bond, DEFAULT_PARAMS)!
    // 1,000 × 1 × 0.1 ÷ 0.9, floored to the wei.
    expect(max).toBe((1_000n * TOKEN * 10n ** 17n) / (9n * 10n ** 17n))
    expect([noteTooLarge(max, bond, DEFAULT_PARAMS), noteTooLarge(max + 1n, bond, DEFAULT_PARAMS)]).toEqual([false, true])
    // At 10 tokens a unit: 11 units a note.
    expect(maxNoteUnits(bond, 10n * TOKEN, DEFAULT_PARAMS)).toBe(11n)
    expect(maxNoteUnits(0n, 10n * TOKEN, DEFAULT_PARAMS)).toBe(0n)
    const at = (p: number, s: number) => Result.getOrThrow(resolveParams({ "market.verificationRate": p, "market.wrongResultSlash": s }))
    // p = 1 checks every note: no cap (and no division by 1 − p); p = 0 or s = 0 deter nothing: the rule is off rather than stopping the market.
    for (const params of [at(1, 1), at(0, 1), at(0.1, 0)]) {
      expect([maxNoteAmount(bond, params), maxNoteUnits(bond, TOKEN, params), noteTooLarge(10n ** 40n, bond, params)]).toEqual([undefined, undefined, false])
    }
    // 20 % slash: 22.2… tokens.
    expect(maxNoteAmount(bond, at(0.1, 0.2))).toBe((200n * TOKEN * 10n ** 17n) / (9n * 10n ** 17n))
  })

  it("maxNoteAmount is the exact edge of noteTooLarge, for any bond and rates (no division in the rule)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), fc.constantFrom(0.000001, 0.02, 0.1, 0.333333, 0.5, 0.999999), fc.constantFrom(0.01, 0.2, 0.999, 1),
        fc.bigInt({ min: 1n, max: 2n ** 128n - 1n }),
        (bond, p, s, price) => {
          ENV.tick()
          const params = Result.getOrThrow(resolveParams({ "market.verificationRate": p, "market.wrongResultSlash": s }))
          const max = maxNoteAmount(bond, params)!
          expect([noteTooLarge(max, bond, params), noteTooLarge(max + 1n, bond, params)]).toEqual([false, true])
          const units = maxNoteUnits(bond, price, params)!
          expect([noteTooLarge(units * price, bond, params), noteTooLarge((units + 1n) * price, bond, params)]).toEqual([false, true])
        },
      ),
      ENV.params,
    )
  })
})
