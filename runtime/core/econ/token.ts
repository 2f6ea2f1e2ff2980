/**
 * The fixed-supply token: genesis mints TOTAL_SUPPLY once, then tokens only move (transfer, bond,
 * fund, claim) or disappear (burn). There is no mint after genesis.
 */
import { Result } from "effect"
import { TOTAL_SUPPLY } from "../units.ts"
import { TokenCustodyAccount, TokenInsufficientBalance, TokenInvalidAddress, TokenInvalidAllocation, TokenInvalidAmount, type EconError } from "./errors.ts"
import { emptyState, type Address, type EconState } from "./state.ts"

export interface Allocation {
  readonly address: Address
  readonly amount: bigint
}

// ---------------------------------------------------------------- checks (no mutation)

export const isAddress = (a: unknown): a is Address => typeof a === "string" && a.length > 0

export const checkAddress = (role: string, a: unknown): TokenInvalidAddress | undefined =>
  isAddress(a) ? undefined : new TokenInvalidAddress({ role, address: a })

/**
 * Accounts whose balance is a contract's custody on chain (the Committee's fee deposits, the
 * ComputeMarket's job escrow and provider bonds): their tokens move only by those rules, never by a
 * plain transfer, burn or fee "from" them, which no key could sign on chain. (The reward reserve is
 * also the Committee's on chain, but the simulator's setups fund accounts from it at genesis.)
 */
export const CUSTODY_ACCOUNTS: ReadonlySet<Address> = new Set(["committee:fees", "market:escrow", "market:bonds"])

/** checkAddress, and refused for a custody account: what a sender of a plain transfer, burn or fee must pass. */
export const checkSender = (role: string, a: unknown): TokenInvalidAddress | TokenCustodyAccount | undefined =>
  checkAddress(role, a) ?? (CUSTODY_ACCOUNTS.has(a as Address) ? new TokenCustodyAccount({ role, address: a as Address }) : undefined)

export const isPositiveAmount = (x: unknown): x is bigint => typeof x === "bigint" && x > 0n

export const checkAmount = (op: string, amount: unknown): TokenInvalidAmount | undefined =>
  isPositiveAmount(amount) ? undefined : new TokenInvalidAmount({ op, amount })

export const balanceOf = (s: EconState, a: Address): bigint => s.balances.get(a) ?? 0n

export const checkBalance = (s: EconState, a: Address, needed: bigint): TokenInsufficientBalance | undefined => {
  const balance = balanceOf(s, a)
  return balance >= needed ? undefined : new TokenInsufficientBalance({ address: a, balance, needed })
}

// ---------------------------------------------------------------- mutations (callers validated)

/** Add to a balance. */
export const credit = (s: EconState, a: Address, amount: bigint): void => {
  if (amount === 0n) return
  s.balances.set(a, balanceOf(s, a) + amount)
  s.totalBalances += amount
}

/** Take from a balance (the caller checked it suffices); a zero balance is dropped. */
export const debit = (s: EconState, a: Address, amount: bigint): void => {
  if (amount === 0n) return
  const left = balanceOf(s, a) - amount
  if (left < 0n) throw new RangeError(`debit below zero for ${a} (a caller skipped checkBalance)`)
  if (left === 0n) s.balances.delete(a)
  else s.balances.set(a, left)
  s.totalBalances -= amount
}

// ---------------------------------------------------------------- operations

/** Mint exactly TOTAL_SUPPLY over the allocations (positive, distinct, summing exactly). */
export const genesisState = (allocations: ReadonlyArray<Allocation>, now: number): Result.Result<EconState, EconError> => {
  const seen = new Set<Address>()
  let sum = 0n
  for (const [i, a] of allocations.entries()) {
    if (!isAddress(a.address)) return Result.fail(new TokenInvalidAllocation({ reason: `allocation ${i} has no address (${JSON.stringify(a.address)})` }))
    if (!isPositiveAmount(a.amount)) return Result.fail(new TokenInvalidAllocation({ reason: `allocation ${i} (${a.address}) has amount ${String(a.amount)}; every amount must be a bigint > 0` }))
    if (seen.has(a.address)) return Result.fail(new TokenInvalidAllocation({ reason: `${a.address} appears twice; merge its allocations` }))
    seen.add(a.address)
    sum += a.amount
  }
  if (sum !== TOTAL_SUPPLY) {
    return Result.fail(new TokenInvalidAllocation({ reason: `allocations sum to ${sum} base units, not the total supply ${TOTAL_SUPPLY} (off by ${sum - TOTAL_SUPPLY})` }))
  }
  const s = emptyState(TOTAL_SUPPLY, now)
  for (const a of allocations) credit(s, a.address, a.amount)
  return Result.succeed(s)
}

export interface TransferReceipt {
  readonly type: "transfer"
  readonly from: Address
  readonly to: Address
  readonly amount: bigint
}

/** Move `amount` from `from` to `to`. */
export const transfer = (s: EconState, from: Address, to: Address, amount: bigint): Result.Result<TransferReceipt, EconError> => {
  const bad = checkSender("sender", from) ?? checkAddress("recipient", to) ?? checkAmount("transfer", amount) ?? checkBalance(s, from, amount)
  if (bad !== undefined) return Result.fail(bad)
  debit(s, from, amount)
  credit(s, to, amount)
  return Result.succeed({ type: "transfer", from, to, amount })
}

export interface BurnReceipt {
  readonly type: "burn"
  readonly from: Address
  readonly burnt: bigint
  /** Total burnt since genesis after this burn. */
  readonly totalBurnt: bigint
}

/** Destroy `amount` of `from`'s tokens. */
export const burn = (s: EconState, from: Address, amount: bigint): Result.Result<BurnReceipt, EconError> => {
  const bad = checkSender("burner", from) ?? checkAmount("burn", amount) ?? checkBalance(s, from, amount)
  if (bad !== undefined) return Result.fail(bad)
  debit(s, from, amount)
  s.burnt += amount
  return Result.succeed({ type: "burn", from, burnt: amount, totalBurnt: s.burnt })
}
