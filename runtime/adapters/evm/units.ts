/**
 * The contracts' units ↔ the economy's, at the bottom of the EVM adapter: the contracts count time
 * in whole seconds (`type(uint64).max` meaning forever) and fractions, multipliers and token amounts
 * in wads; the economy counts time in ms and parameters as plain numbers. Every other module of
 * this folder converts through here, and this module imports none of them.
 */
import { formatUnits } from "ethers"
import { FOREVER } from "../../core/econ/index.ts"

/** `type(uint64).max`: the contracts' FOREVER (a tombstoned pool's jail). */
export const U64_MAX = (1n << 64n) - 1n

/** Chain seconds → economy ms (the contracts' FOREVER → the economy's FOREVER). */
export const msOf = (seconds: bigint): number => (seconds >= U64_MAX ? FOREVER : Number(seconds) * 1000)

/** Economy ms → chain seconds, rounded down (a moment: the chain only knows whole seconds). */
export const secondsOf = (ms: number): bigint => BigInt(Math.floor(ms / 1000))

/** Economy ms → chain seconds, exactly: a duration parameter that is not whole seconds cannot go on chain unchanged. */
export const msToSec = (ms: number): bigint => {
  if (!Number.isSafeInteger(ms) || ms % 1000 !== 0) throw new RangeError(`duration ${ms}ms is not a whole number of seconds`)
  return BigInt(ms / 1000)
}

/** A wad (fraction, multiplier or token amount × 1e18) → the registry's plain number; exact up to 15 significant digits. */
export const fromWad = (value: bigint): number => Number(formatUnits(value, 18))
