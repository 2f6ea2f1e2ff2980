/**
 * Downtime tracking: for each validator, which of the last `window` blocks it signed (a precommit in
 * the commit certificate the next block carries). A validator that signed fewer than
 * `minSigned × window` of them is slashed for downtime and jailed; its record starts afresh when it
 * is unjailed, so it gets a full window before it can be judged again (as in Cosmos' x/slashing).
 */

interface Record {
  /** Ring buffer: 1 = missed. */
  readonly missed: Uint8Array
  /** Blocks observed since the record started (saturates at the window). */
  observed: number
  missedCount: number
  next: number
}

export class DowntimeTracker {
  readonly #records = new Map<string, Record>()
  #window: number

  constructor(window: number) {
    this.#window = window
  }

  /** The window changed by governance: every record starts afresh. */
  setWindow(window: number): void {
    if (window !== this.#window) {
      this.#window = window
      this.#records.clear()
    }
  }

  /** Record one block: `signers` signed it, every other address in `validators` missed it. */
  observe(validators: Iterable<string>, signers: ReadonlySet<string>): void {
    for (const v of validators) {
      let r = this.#records.get(v)
      if (r === undefined) {
        r = { missed: new Uint8Array(this.#window), observed: 0, missedCount: 0, next: 0 }
        this.#records.set(v, r)
      }
      const miss = signers.has(v) ? 0 : 1
      r.missedCount += miss - r.missed[r.next]!
      r.missed[r.next] = miss
      r.next = (r.next + 1) % this.#window
      r.observed = Math.min(this.#window, r.observed + 1)
    }
  }

  /** Validators whose full window shows fewer signed blocks than `minSignedFraction` of it. */
  offenders(minSignedFraction: number): string[] {
    const minSigned = Math.ceil(minSignedFraction * this.#window)
    const out: string[] = []
    for (const [v, r] of this.#records) if (r.observed === this.#window && this.#window - r.missedCount < minSigned) out.push(v)
    return out.sort()
  }

  /** Forget a validator's record (after it was jailed, or when it leaves the set). */
  reset(validator: string): void {
    this.#records.delete(validator)
  }

  missed(validator: string): number {
    return this.#records.get(validator)?.missedCount ?? 0
  }
}
