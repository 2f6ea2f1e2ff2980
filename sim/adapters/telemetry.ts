/** Simulated Telemetry: every event goes to a sink the run owns (its trace, a view model, a list). */
import { Effect, Layer } from "effect"
import { Telemetry, type TelemetryEvent } from "../../runtime/services/telemetry.ts"

export const layerSimTelemetry = (sink: (event: TelemetryEvent) => void) =>
  Layer.succeed(Telemetry, Telemetry.of({ emit: (event) => Effect.sync(() => sink(event)) }))
