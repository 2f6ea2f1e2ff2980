/**
 * The simulator's trace recorder: one canonical line per delivered event (the format is the trace
 * port, runtime/services/trace.ts), and a hash over all of them.
 *
 * Hash: SHA-256 over every line followed by "\n" — i.e. `hash()` equals `sha256sum` of the trace
 * file the sink writes. Before any event it is the SHA-256 of the empty string.
 */
import { createHash, type Hash } from "node:crypto"
import { traceLine, type TraceEvent } from "../../runtime/services/trace.ts"

export class Trace {
  #hash: Hash = createHash("sha256")
  #count = 0
  #lastT = 0
  readonly #sink: ((line: string) => void) | undefined

  /** A trace; `sink`, if given, receives each line (without "\n") as it is recorded. */
  constructor(sink?: (line: string) => void) {
    this.#sink = sink
  }

  /** How many events were recorded. */
  get count(): number {
    return this.#count
  }

  /** Records one event; `t` must not go back in time. Returns the line written. */
  record(event: TraceEvent): string {
    const line = traceLine(event)
    if (event.t < this.#lastT) {
      throw new TypeError(`trace: event.t is ${event.t}, before the previous event's ${this.#lastT}; a trace only moves forward`)
    }
    this.#lastT = event.t
    this.#hash.update(line + "\n")
    this.#count++
    this.#sink?.(line)
    return line
  }

  /** Hex SHA-256 of every line so far, each followed by "\n" (= sha256sum of the trace file). */
  hash(): string {
    return this.#hash.copy().digest("hex")
  }
}
