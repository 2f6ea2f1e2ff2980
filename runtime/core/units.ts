/**
 * Token amounts and fixed-point arithmetic.
 *
 * Every amount is a `bigint` in base units (18 decimals), and every division rounds toward zero
 * exactly as Solidity's `/` on uint256 does, so the TypeScript economy and the contracts can be
 * compared to the wei.
 */

/** Decimals of the token. */
export const DECIMALS = 18
/** One whole token in base units. */
export const TOKEN = 10n ** 18n
/** Fixed-point one for fractions (a "wad", as in Solidity math libraries). */
export const WAD = 10n ** 18n
/** The fixed total supply: 1,000,000,000 tokens. */
export const TOTAL_SUPPLY = 1_000_000_000n * TOKEN

/** `a * b / d`, rounded toward zero (Solidity semantics for non-negative operands). */
export const mulDiv = (a: bigint, b: bigint, d: bigint): bigint => {
  if (d === 0n) throw new RangeError("mulDiv: division by zero")
  return (a * b) / d
}

/** `amount * fraction` where `fraction` is a wad, rounded down. */
export const mulWad = (amount: bigint, fractionWad: bigint): bigint => (amount * fractionWad) / WAD

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/

/**
 * Exact decimal → fixed point with `decimals` places, truncating further digits.
 * Accepts a non-negative number or decimal string ("0.05", "1e-4", "1000").
 * Numbers go through their shortest round-trip string, so `0.05` is exactly 5e16 wei.
 */
export const parseFixed = (value: number | string, decimals: number = DECIMALS): bigint => {
  const text = typeof value === "number" ? numberToPlain(value) : value.trim()
  const m = DECIMAL.exec(text)
  if (m === null) throw new RangeError(`not a non-negative decimal number: ${JSON.stringify(value)}`)
  const intPart = m[1] ?? "0"
  const fracPart = m[2] ?? ""
  const exp = Number(m[3] ?? "0")
  const digits = intPart + fracPart
  const scale = decimals - fracPart.length + exp
  if (scale >= 0) return BigInt(digits) * 10n ** BigInt(scale)
  const cut = digits.length + scale
  return cut <= 0 ? 0n : BigInt(digits.slice(0, cut))
}

const numberToPlain = (n: number): string => {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`not a non-negative finite number: ${n}`)
  return String(n)
}

/** Whole or fractional tokens (number or decimal string) → base units. */
export const tokens = (value: number | string): bigint => parseFixed(value, DECIMALS)

/** A fraction in [0, 1] → wad. */
export const toWad = (fraction: number | string): bigint => parseFixed(fraction, DECIMALS)

/** Base units → a decimal string of tokens, trailing zeros trimmed ("1234.5"). */
export const formatTokens = (amount: bigint, maxDecimals: number = DECIMALS): string => {
  const negative = amount < 0n
  const abs = negative ? -amount : amount
  const whole = abs / TOKEN
  const frac = (abs % TOKEN).toString().padStart(DECIMALS, "0").slice(0, maxDecimals).replace(/0+$/, "")
  const wholeText = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return `${negative ? "-" : ""}${wholeText}${frac.length > 0 ? `.${frac}` : ""}`
}

/** Integer square root (floor), as OpenZeppelin's `Math.sqrt` rounds down. */
export const sqrt = (x: bigint): bigint => {
  if (x < 0n) throw new RangeError("sqrt of a negative number")
  if (x < 2n) return x
  // Newton's method from an estimate above the root decreases monotonically to floor(sqrt(x)).
  let r = 1n << BigInt((x.toString(2).length >> 1) + 1)
  for (;;) {
    const next = (r + x / r) >> 1n
    if (next >= r) return r
    r = next
  }
}
