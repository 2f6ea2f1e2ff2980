/**
 * Downtime tracking: for each validator, which of the last `window` blocks it signed (a precommit in
 * the commit certificate the next block carries). A validator that signed fewer than
 * `minSigned × window` of them is slashed for downtime and jailed; its record starts afresh when it
 * is unjailed, so it gets a full window before it can be judged again (as in Cosmos' x/slashing).
 *
 * A record starts the first time its validator is observed, and its window moves on only when the
 * validator is observed (a block of a set it is not in does not count for or against it).
 *
 * Records live in typed arrays, one slot per validator, not in an object per validator: every
 * replica observes every validator of every block, which at 1,000 validators is a million updates
 * per height in a simulated world of 1,000 replicas (a Map and an object per record made that 11 % of
 * such a run). The signers of a block come as one byte per member of the set, in set order, so a
 * block costs one pass over the set and no lookup by address.
 */
import type { ValidatorSet } from "../consensus/validator-set.ts"

export class DowntimeTracker {
  #window: number
  /** Slot of each validator that has a record. */
  readonly #slot = new Map<string, number>()
  /** Validator of each slot (undefined: free). */
  #holder: (string | undefined)[] = []
  readonly #free: number[] = []
  /** Ring of `window` entries per slot (slot-major), 1 = missed. */
  #missed: Uint8Array
  /** Blocks observed since the record started (saturates at the window). */
  #observed: Int32Array
  #missedCount: Int32Array
  /** Next ring entry per slot. */
  #next: Int32Array
  /** Bumped whenever a slot is freed or the records are cleared: the slot lists below are then stale. */
  #generation = 0
  /** Each set's members' slots, in set order (valid for the generation they were made in). */
  #slotsOf = new WeakMap<ValidatorSet, { readonly generation: number; readonly slots: Int32Array }>()

  constructor(window: number) {
    if (!Number.isSafeInteger(window) || window < 1) throw new RangeError(`downtime window must be a positive whole number of blocks, got ${window}`)
    this.#window = window
    this.#missed = new Uint8Array(0)
    this.#observed = new Int32Array(0)
    this.#missedCount = new Int32Array(0)
    this.#next = new Int32Array(0)
  }

  get window(): number {
    return this.#window
  }

  /** The window changed by governance: every record starts afresh. */
  setWindow(window: number): void {
    if (window === this.#window) return
    if (!Number.isSafeInteger(window) || window < 1) throw new RangeError(`downtime window must be a positive whole number of blocks, got ${window}`)
    this.#window = window
    this.#slot.clear()
    this.#holder = []
    this.#free.length = 0
    this.#missed = new Uint8Array(0)
    this.#observed = new Int32Array(0)
    this.#missedCount = new Int32Array(0)
    this.#next = new Int32Array(0)
    this.#generation++
  }

  /**
   * Record one block of `set`: `signed[i]` is 1 when `set.validators[i]` signed it (a precommit in
   * its commit certificate), 0 when it missed it.
   */
  observe(set: ValidatorSet, signed: Uint8Array): void {
    const n = set.size
    if (signed.length !== n) throw new RangeError(`downtime: ${signed.length} signer flags for a set of ${n}`)
    const slots = this.#slotsFor(set)
    const w = this.#window
    const ring = this.#missed
    const next = this.#next
    const observed = this.#observed
    const count = this.#missedCount
    for (let i = 0; i < n; i++) {
      const s = slots[i]!
      const miss = signed[i] === 0 ? 1 : 0
      const at = s * w + next[s]!
      count[s] = count[s]! + miss - ring[at]!
      ring[at] = miss
      next[s] = next[s]! + 1 === w ? 0 : next[s]! + 1
      if (observed[s]! < w) observed[s] = observed[s]! + 1
    }
  }

  /** Validators whose full window shows fewer signed blocks than `minSignedFraction` of it. */
  offenders(minSignedFraction: number): string[] {
    const w = this.#window
    const minSigned = Math.ceil(minSignedFraction * w)
    const out: string[] = []
    const holder = this.#holder
    for (let s = 0; s < holder.length; s++) {
      const v = holder[s]
      if (v !== undefined && this.#observed[s] === w && w - this.#missedCount[s]! < minSigned) out.push(v)
    }
    return out.sort()
  }

  /** Forget a validator's record (after it was jailed, or when it leaves the set). */
  reset(validator: string): void {
    const s = this.#slot.get(validator)
    if (s === undefined) return
    this.#slot.delete(validator)
    this.#holder[s] = undefined
    this.#free.push(s)
    this.#generation++
  }

  /** Blocks of its window the validator missed (0 without a record). */
  missed(validator: string): number {
    const s = this.#slot.get(validator)
    return s === undefined ? 0 : this.#missedCount[s]!
  }

  /** Blocks observed since the validator's record started, at most the window (0 without a record). */
  observed(validator: string): number {
    const s = this.#slot.get(validator)
    return s === undefined ? 0 : this.#observed[s]!
  }

  /** The slots of `set`'s members in set order; a member without a record gets a fresh one. */
  #slotsFor(set: ValidatorSet): Int32Array {
    const known = this.#slotsOf.get(set)
    if (known !== undefined && known.generation === this.#generation) return known.slots
    const slots = new Int32Array(set.size)
    let fresh = 0
    for (const v of set.validators) if (!this.#slot.has(v.address)) fresh++
    this.#reserve(this.#holder.length + Math.max(0, fresh - this.#free.length))
    set.validators.forEach((v, i) => {
      let s = this.#slot.get(v.address)
      if (s === undefined) {
        s = this.#allocate()
        this.#slot.set(v.address, s)
        this.#holder[s] = v.address
      }
      slots[i] = s
    })
    this.#slotsOf.set(set, { generation: this.#generation, slots })
    return slots
  }

  /** A slot with a fresh record (all observed blocks signed, none observed). */
  #allocate(): number {
    const w = this.#window
    const s = this.#free.pop()
    if (s !== undefined) {
      this.#missed.fill(0, s * w, (s + 1) * w)
      this.#observed[s] = 0
      this.#missedCount[s] = 0
      this.#next[s] = 0
      return s
    }
    const slot = this.#holder.length
    this.#holder.push(undefined)
    this.#reserve(slot + 1)
    return slot
  }

  /** Room for `slots` slots (grown at least twofold, so that a set of n costs O(n) in all). */
  #reserve(slots: number): void {
    if (slots <= this.#observed.length) return
    const w = this.#window
    const capacity = Math.max(16, slots, this.#observed.length * 2)
    const grow = <T extends Uint8Array | Int32Array>(old: T, made: T): T => {
      made.set(old)
      return made
    }
    this.#missed = grow(this.#missed, new Uint8Array(capacity * w))
    this.#observed = grow(this.#observed, new Int32Array(capacity))
    this.#missedCount = grow(this.#missedCount, new Int32Array(capacity))
    this.#next = grow(this.#next, new Int32Array(capacity))
  }
}
