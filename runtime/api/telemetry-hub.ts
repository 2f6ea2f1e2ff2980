/**
 * A Telemetry service that fans every event out to listeners (the API's WebSocket clients, the
 * training-round view, the TUI) and, optionally, to another Telemetry (a log, a trace). The node
 * provides the hub's `telemetry` to its services and hands the hub to the API.
 */
import { Effect } from "effect"
import { Telemetry, type TelemetryEvent } from "../services/telemetry.ts"

export type TelemetryListener = (event: TelemetryEvent) => void

export interface TelemetryHub {
  /** The service to provide to the node: every emitted event reaches every listener. */
  readonly telemetry: Telemetry["Service"]
  /**
   * Listen to every event from now on; the returned function stops listening. With `replay`, the
   * listener first gets the current state (the latest event of each retained kind and key), so a
   * view attached late — a TUI, a WebSocket client — starts complete.
   */
  subscribe(listener: TelemetryListener, options?: { readonly replay?: boolean }): () => void
  /** Events emitted so far, by kind. */
  readonly counts: ReadonlyMap<string, number>
}

/**
 * Kinds that describe state rather than happenings, and what makes one distinct: the latest event of
 * each (kind, key) is kept for late subscribers. Training rounds are kept per round, so the accuracy
 * chart has its history.
 */
const RETAINED: Readonly<Record<string, (data: Readonly<Record<string, unknown>>) => string>> = {
  "node.started": () => "",
  "training.started": () => "",
  "consensus.step": () => "",
  "peers": () => "",
  "validators": () => "",
  "stake.position": (d) => (d.position === undefined ? "total" : String(d.position)),
  "governance.proposal": (d) => String(d.id),
  "training.round.completed": (d) => String(d.round),
  // The compute market as the ledger shows it (runtime/api/market-api.ts): the latest snapshot.
  "market": () => "",
}
/** At most this many retained events (the oldest go first). */
const MAX_RETAINED = 512

/** A hub forwarding to `next` as well (if given). A listener that throws is dropped, never the node. */
export const makeTelemetryHub = (next?: Telemetry["Service"]): TelemetryHub => {
  const listeners = new Set<TelemetryListener>()
  const counts = new Map<string, number>()
  const retained = new Map<string, TelemetryEvent>()
  const retain = (event: TelemetryEvent) => {
    const keyOf = RETAINED[event.kind]
    if (keyOf === undefined) return
    const key = `${event.kind}/${keyOf(event.data)}`
    retained.delete(key) // re-inserted last: replay keeps the order events happened in
    retained.set(key, event)
    if (retained.size > MAX_RETAINED) retained.delete(retained.keys().next().value!)
  }
  const publish = (event: TelemetryEvent) => {
    counts.set(event.kind, (counts.get(event.kind) ?? 0) + 1)
    retain(event)
    for (const listener of [...listeners]) {
      try {
        listener(event)
      } catch {
        listeners.delete(listener)
      }
    }
  }
  return {
    telemetry: Telemetry.of({
      emit: (event) => next === undefined ? Effect.sync(() => publish(event)) : Effect.andThen(Effect.sync(() => publish(event)), next.emit(event)),
    }),
    subscribe: (listener, options) => {
      if (options?.replay === true) {
        try {
          for (const event of [...retained.values()]) listener(event)
        } catch {
          return () => undefined
        }
      }
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    counts,
  }
}
