/**
 * For actor unit tests: an in-process bus standing for the Network port — gossip to every other
 * subscriber, direct sends to one peer, at once and in order. `provided` is what `findProviders`
 * answers; `deliver` hands a message from any peer (a forged or replayed one) to the subscribers.
 */
import { Effect } from "effect"
import type { Envelope, Network, ProviderInfo } from "../services/network.ts"

export const inProcessBus = () => {
  const handlers = new Map<string, Array<{ readonly peer: string; readonly h: (m: Envelope) => void }>>()
  const provided: ProviderInfo[] = []
  /** `data` from `from` on `topic` to `to` (every subscriber but the sender when undefined). */
  const deliver = (to: string | undefined, from: string, topic: string, data: Uint8Array) => {
    for (const x of handlers.get(topic) ?? []) if (x.peer !== from && (to === undefined || x.peer === to)) x.h({ from, topic, data })
  }
  const port = (self: string): Network["Service"] => ({
    self,
    publish: (topic, data) => Effect.sync(() => deliver(undefined, self, topic, data)),
    send: (to, topic, data) => Effect.sync(() => deliver(to, self, topic, data)),
    subscribe: (topic, h) => Effect.sync(() => {
      handlers.set(topic, [...(handlers.get(topic) ?? []), { peer: self, h }])
      return Effect.void
    }),
    report: () => Effect.void,
    peers: Effect.succeed([]),
    provide: () => Effect.void,
    unprovide: () => Effect.void,
    findProviders: () => Effect.succeed(provided),
  })
  return { port, provided, deliver }
}
