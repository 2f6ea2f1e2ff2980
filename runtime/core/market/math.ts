/**
 * The market's arithmetic, pure and in Solidity's rounding (floor): the split of a payment into the
 * provider's part and the fee (burnt / to stakers), and the penalties taken from a provider's bond.
 * ComputeMarket.sol computes the same numbers from the same wads.
 */
import type { Params } from "../params.ts"
import { mulWad, tokens, toWad, WAD } from "../units.ts"

/** The market parameters as the exact integers the rules use (wads, base units, ms). */
export interface MarketConfig {
  readonly minProviderBond: bigint
  readonly protocolFee: bigint
  readonly burnFraction: bigint
  readonly disputeWindow: number
  readonly noShowTimeout: number
  readonly noShowPenalty: bigint
  readonly wrongResultSlash: bigint
  readonly verificationRate: bigint
}

const cache = new WeakMap<Params, MarketConfig>()

/** The integer form of the market's parameters (cached per `Params` object). */
export const marketConfig = (p: Params): MarketConfig => {
  const hit = cache.get(p)
  if (hit !== undefined) return hit
  const c: MarketConfig = {
    minProviderBond: tokens(p["market.minProviderBond"]),
    protocolFee: toWad(p["market.protocolFee"]),
    burnFraction: toWad(p["fees.burnFraction"]),
    disputeWindow: p["market.disputeWindow"],
    noShowTimeout: p["market.noShowTimeout"],
    noShowPenalty: toWad(p["market.noShowPenalty"]),
    wrongResultSlash: toWad(p["market.wrongResultSlash"]),
    verificationRate: toWad(p["market.verificationRate"]),
  }
  cache.set(p, c)
  return c
}

/** Where one payment of `amount` to a provider goes: toProvider + burnt + toStakers = amount, to the wei. */
export interface PaymentSplit {
  readonly amount: bigint
  readonly toProvider: bigint
  /** burnt + toStakers. */
  readonly fee: bigint
  readonly burnt: bigint
  readonly toStakers: bigint
}

/** Split a payment: fee = amount × protocolFee, burnt = fee × burnFraction, the rest of the fee to stakers, the rest to the provider. */
export const paymentSplit = (amount: bigint, params: Params): PaymentSplit => {
  const c = marketConfig(params)
  const fee = mulWad(amount, c.protocolFee)
  const burnt = mulWad(fee, c.burnFraction)
  return { amount, toProvider: amount - fee, fee, burnt, toStakers: fee - burnt }
}

/** What a no-show costs a provider with `bond`: bond × noShowPenalty, paid to the requester. */
export const noShowPenalty = (bond: bigint, params: Params): bigint => mulWad(bond, marketConfig(params).noShowPenalty)

/** A refuted result's slash of `bond`: the requester compensated up to `frozen` (the refuted notes' amount), the rest burnt. */
export const wrongResultSlash = (bond: bigint, frozen: bigint, params: Params): { readonly slashed: bigint; readonly toRequester: bigint; readonly burnt: bigint } => {
  const slashed = mulWad(bond, marketConfig(params).wrongResultSlash)
  const toRequester = slashed < frozen ? slashed : frozen
  return { slashed, toRequester, burnt: slashed - toRequester }
}

/** A job's budget: every unit at the requester's maximum price. */
export const jobBudget = (units: bigint, maxPricePerUnit: bigint): bigint => units * maxPricePerUnit

/**
 * Whether the bond answers for a debit note: the largest note a provider holding `bond` may deliver.
 *
 * A made-up result is paid for about (1 − p) ÷ p notes before the first one a referee re-executes
 * (p = market.verificationRate), and that one costs the provider its slash, mulWad(bond, s) with
 * s = market.wrongResultSlash (docs/market.md). Cheating pays once a note's amount A has
 * A × (1 − p) > slash × p, so `deliver` refuses such a note (`MarketNoteTooLarge`). In wad integers
 * and without a division, as ComputeMarket.sol: refused ⇔ A × (WAD − p) > slash × p; at p = 1 nothing
 * is refused (every note is checked). The rule is off when p = 0 or s = 0: nothing deters a cheat
 * then, and a cap of 0 would stop every delivery.
 */
export const noteTooLarge = (amount: bigint, bond: bigint, params: Params): boolean => {
  const c = marketConfig(params)
  if (c.verificationRate === 0n || c.wrongResultSlash === 0n) return false
  return amount * (WAD - c.verificationRate) > mulWad(bond, c.wrongResultSlash) * c.verificationRate
}

/**
 * The largest note amount `noteTooLarge` lets through for `bond`: floor(slash × p ÷ (WAD − p)), so
 * `A ≤ maxNoteAmount ⇔ !noteTooLarge(A)`. `undefined` when there is no cap (p = 0, s = 0 or p = 1).
 */
export const maxNoteAmount = (bond: bigint, params: Params): bigint | undefined => {
  const c = marketConfig(params)
  if (c.verificationRate === 0n || c.wrongResultSlash === 0n || c.verificationRate >= WAD) return undefined
  return (mulWad(bond, c.wrongResultSlash) * c.verificationRate) / (WAD - c.verificationRate)
}

/**
 * The most units one note may carry at `pricePerUnit` (a job's locked price) for a provider holding
 * `bond`: how a provider sizes its chunks so an honest delivery is never refused. `undefined`: no cap;
 * 0n: not even one unit (the bond is too small for this price).
 */
export const maxNoteUnits = (bond: bigint, pricePerUnit: bigint, params: Params): bigint | undefined => {
  const cap = maxNoteAmount(bond, params)
  return cap === undefined || pricePerUnit <= 0n ? undefined : cap / pricePerUnit
}
