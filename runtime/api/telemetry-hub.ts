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
  /** Listen to every event from now on; the returned function stops listening. */
  subscribe(listener: TelemetryListener): () => void
  /** Events emitted so far, by kind. */
  readonly counts: ReadonlyMap<string, number>
}

/** A hub forwarding to `next` as well (if given). A listener that throws is dropped, never the node. */
export const makeTelemetryHub = (next?: Telemetry["Service"]): TelemetryHub => {
  const listeners = new Set<TelemetryListener>()
  const counts = new Map<string, number>()
  const publish = (event: TelemetryEvent) => {
    counts.set(event.kind, (counts.get(event.kind) ?? 0) + 1)
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
    subscribe: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    counts,
  }
}
