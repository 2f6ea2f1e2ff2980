/**
 * Network port: gossip (publish/subscribe) and direct messages between peers.
 *
 * Real backend: libp2p (runtime/adapters). Simulated backend: an in-memory network with a latency
 * model, loss, duplication and partitions (sim/adapters). Payloads are bytes: every receiver decodes
 * them with Schema at its boundary and drops what does not decode.
 */
import { Context, type Effect, Schema } from "effect"

export type PeerId = string

/** One delivered message. */
export interface Envelope {
  readonly from: PeerId
  readonly topic: string
  readonly data: Uint8Array
}

export class NetworkError extends Schema.TaggedError<NetworkError>()("NetworkError", {
  operation: Schema.String,
  reason: Schema.String,
}) {}

export class Network extends Context.Service<Network, {
  /** This node's peer id. */
  readonly self: PeerId
  /** Gossip `data` on `topic` to every peer (the sender does not receive its own message). */
  publish(topic: string, data: Uint8Array): Effect.Effect<void, NetworkError>
  /** Send `data` to one peer on `topic`. */
  send(to: PeerId, topic: string, data: Uint8Array): Effect.Effect<void, NetworkError>
  /** Deliver every message on `topic` to `handler`; the returned effect unsubscribes. */
  subscribe(topic: string, handler: (message: Envelope) => void): Effect.Effect<Effect.Effect<void>>
  /** Peers this node can currently reach. */
  readonly peers: Effect.Effect<readonly PeerId[]>
}>()("dai/Network") {}
