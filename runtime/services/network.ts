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

/** What a subscriber accepts on a topic. */
export interface TopicLimits {
  /**
   * The largest payload the subscriber's decoder takes: anything larger is dropped before the
   * handler runs (before any decoding) and counts as a fault of the sender (runtime/core/peer-faults.ts).
   */
  readonly maxBytes: number
}

export class Network extends Context.Service<Network, {
  /** This node's peer id. */
  readonly self: PeerId
  /** Gossip `data` on `topic` to every peer (the sender does not receive its own message). */
  publish(topic: string, data: Uint8Array): Effect.Effect<void, NetworkError>
  /** Send `data` to one peer on `topic`. */
  send(to: PeerId, topic: string, data: Uint8Array): Effect.Effect<void, NetworkError>
  /**
   * Deliver every message on `topic` to `handler`; the returned effect unsubscribes. With `limits`,
   * a message over `maxBytes` never reaches the handler and counts as a fault of its sender.
   */
  subscribe(topic: string, handler: (message: Envelope) => void, limits?: TopicLimits): Effect.Effect<Effect.Effect<void>>
  /**
   * The caller found a message of `peer` invalid (undecodable, badly signed, from a signer that may
   * not send it): one fault of that peer. Enough faults in a short time disconnect the peer and
   * refuse it for a while (the adapter's `PeerFaults` policy); messages from a refused peer are
   * dropped unread.
   */
  report(peer: PeerId, reason: string): Effect.Effect<void>
  /** Peers this node can currently reach. */
  readonly peers: Effect.Effect<readonly PeerId[]>
}>()("dai/Network") {}
