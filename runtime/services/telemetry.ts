/**
 * Telemetry port: the stream of things a node did, for the TUI, the API's WebSocket, metrics and
 * the simulator's trace. The TUI is a pure reducer over these events; it never looks inside a
 * running machine.
 */
import { Context, type Effect } from "effect"

/** One event. `kind` is a dotted name (`block.committed`, `stake.slashed`); `data` is plain JSON-able. */
export interface TelemetryEvent {
  /** Time of the event in ms (virtual in the simulator, Unix time for a real node). */
  readonly at: number
  readonly node: string
  readonly kind: string
  readonly data: Readonly<Record<string, unknown>>
}

export class Telemetry extends Context.Service<Telemetry, {
  emit(event: TelemetryEvent): Effect.Effect<void>
}>()("dai/Telemetry") {}
