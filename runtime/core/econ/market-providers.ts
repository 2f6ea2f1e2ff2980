/**
 * The compute market's providers on the one ledger (runtime/core/econ/market.ts has the jobs): the
 * custody accounts, the bounds every amount keeps so nothing overflows on chain, and the provider
 * operations — register with a bond, change the offer, add to the bond, retire, withdraw the bond.
 * Every operation validates everything before its first mutation: a refusal changes nothing.
 */
import { Result } from "effect"
import {
  MarketInsufficientBond, MarketInvalidProvider, MarketProviderBusy, MarketProviderExists, MarketProviderNotRetired, MarketProviderRetired,
  MarketUnknownProvider, type MarketError,
} from "../market/errors.ts"
import { marketConfig } from "../market/math.ts"
import type {
  AddBondReceipt, MarketOp, Provider, ProviderView, RegisterProviderReceipt, RetireProviderReceipt, UpdateProviderReceipt, WithdrawBondReceipt,
} from "../market/types.ts"
import type { Params } from "../params.ts"
import type { EconError } from "./errors.ts"
import { isActive } from "./rewards.ts"
import type { Address, EconState } from "./state.ts"
import { checkAddress, checkBalance, credit, debit } from "./token.ts"

/** The account whose balance holds every job's escrowed budget. */
export const MARKET_ESCROW_ACCOUNT = "market:escrow"
/** The account whose balance holds every provider's bond. */
export const MARKET_BONDS_ACCOUNT = "market:bonds"

/** Most job kinds a provider may list, and the longest kind name. */
export const MAX_KINDS = 16
export const MAX_KIND_LENGTH = 64
/** Largest capacity (jobs at once) a provider may declare. */
export const MAX_CAPACITY = 1_000_000
/** Largest units of a job (uint64) and price per unit (uint128): units × price never overflows a uint256 on chain. */
export const MAX_UNITS = 2n ** 64n - 1n
export const MAX_PRICE = 2n ** 128n - 1n

/** What a market operation returns. */
export type R<A> = Result.Result<A, MarketError | EconError>

// ---------------------------------------------------------------- checks (no mutation)

/** A bigint ≥ 0 / > 0 (an amount as the contract's uint256 takes it). */
export const isUint = (x: unknown): x is bigint => typeof x === "bigint" && x >= 0n
export const isPositive = (x: unknown): x is bigint => typeof x === "bigint" && x > 0n
/** A job kind: a non-empty string of at most MAX_KIND_LENGTH characters. */
export const isKind = (k: unknown): k is string => typeof k === "string" && k.length > 0 && k.length <= MAX_KIND_LENGTH

const checkOffer = (provider: Address, pricePerUnit: unknown, capacity: unknown): MarketInvalidProvider | undefined => {
  if (!isPositive(pricePerUnit) || pricePerUnit > MAX_PRICE) {
    return new MarketInvalidProvider({ provider, reason: `price per unit ${String(pricePerUnit)} is not a bigint from 1 to 2^128 − 1 (base units)` })
  }
  if (typeof capacity !== "number" || !Number.isSafeInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    return new MarketInvalidProvider({ provider, reason: `capacity ${String(capacity)} is not a whole number of jobs from 1 to ${MAX_CAPACITY}` })
  }
  return undefined
}

const checkKinds = (provider: Address, kinds: unknown): MarketInvalidProvider | undefined => {
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.length > MAX_KINDS) {
    return new MarketInvalidProvider({ provider, reason: `kinds must list 1 to ${MAX_KINDS} job kinds (such as "infer:mnist")` })
  }
  if (!kinds.every(isKind)) return new MarketInvalidProvider({ provider, reason: `every kind must be a non-empty string of at most ${MAX_KIND_LENGTH} characters` })
  if (new Set(kinds).size !== kinds.length) return new MarketInvalidProvider({ provider, reason: "a kind is listed twice" })
  return undefined
}

/** A referee who may open a dispute: the operator of a bonded validator pool that is neither jailed nor tombstoned (on chain: COMMITTEE_ROLE). Verdicts need the committee's signatures instead. */
export const isReferee = (s: EconState, account: Address): boolean => {
  const p = s.pools.get(account)
  return p !== undefined && p.kind === "validator" && isActive(p) && p.tokens > 0n
}

/** The registered provider `provider`, refused when the address is malformed or unknown. */
export const providerOf = (s: EconState, provider: Address): Result.Result<Provider, MarketError | EconError> => {
  const bad = checkAddress("provider", provider)
  if (bad !== undefined) return Result.fail(bad)
  const p = s.market.providers.get(provider)
  return p === undefined ? Result.fail(new MarketUnknownProvider({ provider })) : Result.succeed(p)
}

// ---------------------------------------------------------------- providers

/** Register `provider` with `bond` moved from its balance into bonds custody. */
export const registerProvider = (s: EconState, params: Params, op: Extract<MarketOp, { type: "registerProvider" }>, now: number): R<RegisterProviderReceipt> => {
  const { provider, bond } = op
  const bad = checkAddress("provider", provider)
  if (bad !== undefined) return Result.fail(bad)
  if (!isUint(bond)) return Result.fail(new MarketInvalidProvider({ provider, reason: `bond ${String(bond)} is not a bigint ≥ 0 (base units)` }))
  if (s.market.providers.has(provider)) return Result.fail(new MarketProviderExists({ provider }))
  const minimum = marketConfig(params).minProviderBond
  if (bond < minimum) return Result.fail(new MarketInsufficientBond({ provider, bond, minimum }))
  const invalid = checkKinds(provider, op.kinds) ?? checkOffer(provider, op.pricePerUnit, op.capacity) ?? (bond > 0n ? checkBalance(s, provider, bond) : undefined)
  if (invalid !== undefined) return Result.fail(invalid)
  debit(s, provider, bond)
  credit(s, MARKET_BONDS_ACCOUNT, bond)
  s.market.providers.set(provider, {
    address: provider, bond, kinds: [...op.kinds], pricePerUnit: op.pricePerUnit, capacity: op.capacity, openJobs: 0, retired: false, registeredAt: now, penalized: 0n,
  })
  return Result.succeed({ type: "registerProvider", provider, bond })
}

/** Change a provider's price and capacity (open jobs keep the price locked at their assignment). */
export const updateProvider = (s: EconState, op: Extract<MarketOp, { type: "updateProvider" }>): R<UpdateProviderReceipt> => {
  const found = providerOf(s, op.provider)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const p = found.success
  if (p.retired) return Result.fail(new MarketProviderRetired({ provider: p.address }))
  const bad = checkOffer(p.address, op.pricePerUnit, op.capacity)
  if (bad !== undefined) return Result.fail(bad)
  p.pricePerUnit = op.pricePerUnit
  p.capacity = op.capacity
  return Result.succeed({ type: "updateProvider", provider: p.address, pricePerUnit: p.pricePerUnit, capacity: p.capacity })
}

/** Move `amount` more of the provider's balance into its bond. */
export const addBond = (s: EconState, op: Extract<MarketOp, { type: "addBond" }>): R<AddBondReceipt> => {
  const found = providerOf(s, op.provider)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const p = found.success
  if (p.retired) return Result.fail(new MarketProviderRetired({ provider: p.address }))
  if (!isPositive(op.amount)) return Result.fail(new MarketInvalidProvider({ provider: p.address, reason: `bond top-up ${String(op.amount)} is not a bigint > 0 (base units)` }))
  const short = checkBalance(s, p.address, op.amount)
  if (short !== undefined) return Result.fail(short)
  debit(s, p.address, op.amount)
  credit(s, MARKET_BONDS_ACCOUNT, op.amount)
  p.bond += op.amount
  return Result.succeed({ type: "addBond", provider: p.address, amount: op.amount, bond: p.bond })
}

/** Stop taking jobs (the jobs it holds continue). */
export const retireProvider = (s: EconState, op: Extract<MarketOp, { type: "retireProvider" }>): R<RetireProviderReceipt> => {
  const found = providerOf(s, op.provider)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const p = found.success
  if (p.retired) return Result.fail(new MarketProviderRetired({ provider: p.address }))
  p.retired = true
  return Result.succeed({ type: "retireProvider", provider: p.address })
}

/** Give a retired provider with no open job what is left of its bond. */
export const withdrawBond = (s: EconState, op: Extract<MarketOp, { type: "withdrawBond" }>): R<WithdrawBondReceipt> => {
  const found = providerOf(s, op.provider)
  if (Result.isFailure(found)) return Result.fail(found.failure)
  const p = found.success
  if (!p.retired) return Result.fail(new MarketProviderNotRetired({ provider: p.address }))
  if (p.openJobs > 0) return Result.fail(new MarketProviderBusy({ provider: p.address, openJobs: p.openJobs }))
  const amount = p.bond
  debit(s, MARKET_BONDS_ACCOUNT, amount)
  credit(s, p.address, amount)
  p.bond = 0n
  return Result.succeed({ type: "withdrawBond", provider: p.address, amount })
}

/** A provider as a plain read-only copy. */
export const providerView = (p: Provider): ProviderView => ({ ...p, kinds: [...p.kinds] })
