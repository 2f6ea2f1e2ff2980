/**
 * Stepping through a recorded stream of events, forward and back. The model at position n is
 * always `reduceAll(initial, events[0..n))`; stepping back restarts from the nearest snapshot
 * (one every `every` events, taken on the way forward) instead of from the beginning.
 */
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import type { TraceEvent } from "../runtime/services/trace.ts"
import { reduce, type ViewModel } from "./model.ts"

/** A trace line `{ t, kind, node, ...fields }` as the telemetry event it was recorded from. */
export const traceToTelemetry = (e: TraceEvent): TelemetryEvent => {
  const { t, kind, node, ...data } = e
  const at = t
  // The simulator traces a training round as round.opened / round.done (accuracy and loss in
  // millionths); the screens read the node's telemetry names and units.
  if (kind === "round.opened") {
    return { at, node: node ?? "", kind: "training.round.opened", data: { ...data, cohort: Array.isArray(data.cohort) ? data.cohort.length : data.cohort } }
  }
  if (kind === "round.done") {
    const micro = (v: unknown) => (typeof v === "number" ? v / 1_000_000 : undefined)
    const participants = Array.isArray(data.participants) ? data.participants.length : undefined
    return {
      at, node: node ?? "", kind: "training.round.completed",
      data: { ...data, accuracy: micro(data.accuracy), ...(data.loss === undefined ? {} : { loss: micro(data.loss) }), ...(participants === undefined ? {} : { received: participants }) },
    }
  }
  return { at, node: node ?? "", kind, data }
}

export class TracePlayer {
  readonly events: readonly TelemetryEvent[]
  readonly #every: number
  readonly #snapshots: ViewModel[]
  #position = 0
  #model: ViewModel

  /** A player at position 0 (nothing applied) over `events`, snapshotting every `every` events. */
  constructor(events: readonly TelemetryEvent[], initial: ViewModel, every = 256) {
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`TracePlayer: every must be a positive integer, got ${every}`)
    this.events = events
    this.#every = every
    this.#snapshots = [initial]
    this.#model = initial
  }

  /** How many events are applied. */
  get position(): number {
    return this.#position
  }

  get length(): number {
    return this.events.length
  }

  get model(): ViewModel {
    return this.#model
  }

  get atEnd(): boolean {
    return this.#position >= this.events.length
  }

  /** Virtual time of the last applied event (of the first event before any). */
  get time(): number {
    return this.events[this.#position - 1]?.at ?? this.events[0]?.at ?? 0
  }

  /** Move to position `n` (clamped to [0, length]) and return the model there. */
  seek(n: number): ViewModel {
    const target = Math.max(0, Math.min(this.events.length, Math.floor(n)))
    if (target < this.#position) {
      // Snapshots exist for every multiple of `every` already passed, so this one is there.
      const k = Math.floor(target / this.#every)
      this.#model = this.#snapshots[k]!
      this.#position = k * this.#every
    }
    while (this.#position < target) this.#apply()
    return this.#model
  }

  forward(k = 1): ViewModel {
    return this.seek(this.#position + k)
  }

  back(k = 1): ViewModel {
    return this.seek(this.#position - k)
  }

  /** Apply the events at or before virtual time `t`, at most `max` of them; returns how many were applied. */
  playUntil(t: number, max: number): number {
    let n = 0
    while (n < max && !this.atEnd && this.events[this.#position]!.at <= t) {
      this.#apply()
      n++
    }
    return n
  }

  #apply(): void {
    this.#model = reduce(this.#model, this.events[this.#position]!)
    this.#position++
    if (this.#position % this.#every === 0 && this.#snapshots.length === this.#position / this.#every) this.#snapshots.push(this.#model)
  }
}
