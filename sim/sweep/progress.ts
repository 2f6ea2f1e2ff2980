/**
 * Progress of a long batch on stderr: a redrawn bar with runs/s and the time left when stderr is a
 * terminal, plain lines (every tenth of the work, at most every few seconds) otherwise. Wall time
 * comes from the caller (`now`), so this module stays free of host clocks.
 */

export interface ProgressOptions {
  readonly total: number
  /** Already done before this start (a resumed sweep): counted in the bar, not in the rate. */
  readonly already: number
  readonly label: string
  readonly tty: boolean
  readonly write: (text: string) => void
  /** Milliseconds of wall time. */
  readonly now: () => number
}

/** `75s` → `1m15s`. */
export const formatEta = (ms: number): string => {
  if (!Number.isFinite(ms)) return "?"
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}

export class Progress {
  readonly #o: ProgressOptions
  readonly #start: number
  #done: number
  #lastLine = -1
  #lastAt: number

  constructor(options: ProgressOptions) {
    this.#o = options
    this.#start = options.now()
    this.#lastAt = this.#start
    this.#done = options.already
  }

  /** The text of the bar now. */
  line(): string {
    const { total, already } = this.#o
    const elapsed = this.#o.now() - this.#start
    const fresh = this.#done - already
    const rate = elapsed > 0 ? (fresh * 1000) / elapsed : 0
    const left = rate > 0 ? ((total - this.#done) / rate) * 1000 : Infinity
    const frac = total === 0 ? 1 : this.#done / total
    const width = 28
    const filled = Math.round(frac * width)
    return `${this.#o.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.#done}/${total} ${(frac * 100).toFixed(0)}% ${rate.toFixed(1)} runs/s, ${this.#done >= total ? "done" : `~${formatEta(left)} left`}`
  }

  /** One more run finished. */
  tick(): void {
    this.#done++
    const now = this.#o.now()
    if (this.#o.tty) {
      if (now - this.#lastAt >= 100 || this.#done === this.#o.total) {
        this.#lastAt = now
        this.#o.write(`\r${this.line()}\x1b[K`)
      }
      return
    }
    const tenth = Math.floor((this.#done * 10) / Math.max(1, this.#o.total))
    if (tenth !== this.#lastLine && (now - this.#lastAt >= 2_000 || this.#done === this.#o.total || this.#lastLine === -1)) {
      this.#lastLine = tenth
      this.#lastAt = now
      this.#o.write(`${this.line()}\n`)
    }
  }

  /** End the bar's line. */
  end(): void {
    if (this.#o.tty) this.#o.write(`\r${this.line()}\x1b[K\n`)
  }
}
