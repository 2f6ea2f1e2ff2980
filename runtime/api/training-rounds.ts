/**
 * Training rounds as the API shows them, followed through telemetry: every event whose kind is
 * `training.round.<phase>` and whose data carries a numeric `round` updates that round's entry
 * (its last phase and the event's data). The round machine's node emits these; the API needs
 * nothing else from it.
 */
import type { TelemetryEvent } from "../services/telemetry.ts"
import type { RoundView } from "./schemas.ts"

const PREFIX = "training.round."
/** Rounds kept (the newest). */
const KEEP = 256

/** JSON-safe copy of event data (bigints as decimal strings, non-JSON values dropped). */
const jsonData = (data: Readonly<Record<string, unknown>>): Record<string, never> =>
  JSON.parse(JSON.stringify(data, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as Record<string, never>

export interface RoundTracker {
  observe(event: TelemetryEvent): void
  /** Rounds seen, oldest first. */
  rounds(): readonly RoundView[]
  /** Distinct rounds seen since start. */
  readonly total: number
}

export const makeRoundTracker = (): RoundTracker => {
  const rounds = new Map<number, RoundView>()
  let total = 0
  return {
    observe: (event) => {
      if (!event.kind.startsWith(PREFIX)) return
      const round = event.data["round"]
      if (typeof round !== "number" || !Number.isSafeInteger(round)) return
      if (!rounds.has(round)) total++
      rounds.set(round, { round, phase: event.kind.slice(PREFIX.length), node: event.node, updatedAt: event.at, data: jsonData(event.data) })
      if (rounds.size > KEEP) rounds.delete(Math.min(...rounds.keys()))
    },
    rounds: () => [...rounds.values()].sort((a, b) => a.round - b.round),
    get total() {
      return total
    },
  }
}
