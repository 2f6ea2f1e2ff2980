/**
 * Who proposes at (height, round): CometBFT's weighted round-robin by proposer priority.
 *
 * Each step, every validator's priority grows by its power and the one with the highest priority
 * (ties: the lower address) proposes and pays the total power back. Over any window a validator
 * with k times the power proposes about k times as often, and the sequence is a pure function of
 * the set, so every node agrees on it. Before each step, as CometBFT does, priorities are rescaled
 * so their spread stays within 2 × total power, then centred on their average (floor division).
 *
 * One sequence per validator set, starting from zero priorities at the set's `startHeight` (the
 * start of its epoch). Rounds continue the sequence of their height: the proposer at (h, r) is the
 * sequence's step (h − startHeight) + r, so a failed proposer's turn passes to the next in line, and
 * CometBFT's relation proposer(h, r + 1) = proposer(h + 1, r) holds. (CometBFT carries priorities
 * across validator-set changes; resetting them at an epoch boundary costs at most one round-robin
 * cycle of fairness per epoch and keeps the rule a function of the set alone.)
 *
 * The sequence is computed lazily and remembered per set (by object, and by hash for the last few
 * sets), so a node pays O(n) per new step and O(1) per lookup; the first lookup deep into an epoch
 * pays O(steps × n) once.
 */
import type { ValidatorSet } from "./validator-set.ts"
import type { Address } from "./types.ts"

/** Floor division (rounds toward −∞, like Go's big.Int Div for a positive divisor). */
const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q
}

/** The lazily extended proposer sequence of one validator set. */
export class ProposerSchedule {
  readonly set: ValidatorSet
  readonly #priority: bigint[]
  /** Index (into `set.validators`) of the proposer of each step computed so far. */
  readonly #sequence: number[] = []

  constructor(set: ValidatorSet) {
    this.set = set
    this.#priority = set.validators.map(() => 0n)
  }

  /** The proposer's address at step `k` (0-based) of the sequence. */
  at(k: number): Address {
    if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`proposer step must be a non-negative integer, got ${k}`)
    while (this.#sequence.length <= k) this.#sequence.push(this.#step())
    return this.set.validators[this.#sequence[k]!]!.address
  }

  /** Current priorities (by set index), for tests and inspection. */
  priorities(): readonly bigint[] {
    return [...this.#priority]
  }

  #step(): number {
    const p = this.#priority
    const vals = this.set.validators
    const total = this.set.totalPower
    // Rescale so that max − min ≤ 2 × total (truncating division, as Go's int64 `/`).
    const diffMax = 2n * total
    let max = p[0]!, min = p[0]!
    for (const x of p) {
      if (x > max) max = x
      if (x < min) min = x
    }
    const diff = max - min
    if (diff > diffMax) {
      const ratio = (diff + diffMax - 1n) / diffMax
      for (let i = 0; i < p.length; i++) p[i] = p[i]! / ratio
    }
    // Centre on the average.
    let sum = 0n
    for (const x of p) sum += x
    const avg = floorDiv(sum, BigInt(p.length))
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - avg
    // Increment by power and pick the highest priority, the lower address on a tie.
    let best = 0
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! + vals[i]!.power
      if (i > 0 && (p[i]! > p[best]! || (p[i] === p[best] && vals[i]!.address < vals[best]!.address))) best = i
    }
    p[best] = p[best]! - total
    return best
  }
}

// Remembered by set object, and by set hash for a node that rebuilds an equal set object per
// height (the few most recent sets only; an epoch's set is reused for many heights).
const schedules = new WeakMap<ValidatorSet, ProposerSchedule>()
const byHash = new Map<string, ProposerSchedule>()
const RECENT_SETS = 8

/** The remembered schedule of `set`. */
export const proposerSchedule = (set: ValidatorSet): ProposerSchedule => {
  let s = schedules.get(set)
  if (s === undefined) {
    const key = set.hash()
    s = byHash.get(key)
    if (s === undefined) {
      s = new ProposerSchedule(set)
      byHash.set(key, s)
      if (byHash.size > RECENT_SETS) byHash.delete(byHash.keys().next().value!)
    }
    schedules.set(set, s)
  }
  return s
}

/** The proposer of (height, round) under `set` (height at or after `set.startHeight`). */
export const proposer = (set: ValidatorSet, height: number, round: number): Address => {
  if (height < set.startHeight) throw new RangeError(`height ${height} is before the set's start height ${set.startHeight}`)
  if (!Number.isSafeInteger(round) || round < 0) throw new RangeError(`bad round ${round}`)
  return proposerSchedule(set).at(height - set.startHeight + round)
}
