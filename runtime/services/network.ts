/**
 * Network port: gossip (publish/subscribe), direct messages between peers, and provider discovery
 * (who serves a key, at what price and load: `provide` / `findProviders`).
 *
 * Real backend: libp2p (runtime/adapters). Simulated backend: an in-memory network with a latency
 * model, loss, duplication and partitions (sim/adapters). Payloads are bytes: every receiver decodes
 * them with Schema at its boundary and drops what does not decode.
 */
import { Context, type Effect, Schema } from "effect"
import type { ProviderRecord } from "../core/provider-record.ts"

export type { ProviderRecord } from "../core/provider-record.ts"

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

/** A provider of a key, as a requester finds it: who, where, and its record as that peer serves it now. */
export interface ProviderInfo {
  readonly peer: PeerId
  /** Where it can be reached (multiaddrs on libp2p, `/sim/<id>` in the simulator). */
  readonly addrs: readonly string[]
  readonly record: ProviderRecord
}

export interface FindProvidersOptions {
  /** Most providers returned (the first by peer id). Default 20. */
  readonly limit?: number
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
  /**
   * Announce that this node serves `key` (e.g. `market/infer:mnist`) with `record`; calling it again
   * replaces the record (a new queue length, a new price). The announcement lasts until `unprovide`
   * or until the node stops (the backend re-announces it; a stopped node's announcement lapses).
   * A bad key or record fails with a NetworkError and announces nothing.
   */
  provide(key: string, record: ProviderRecord): Effect.Effect<void, NetworkError>
  /** Stop announcing `key` (nothing announced: a no-op). */
  unprovide(key: string): Effect.Effect<void>
  /**
   * The reachable providers of `key` with the record each serves now, ordered by peer id (this node
   * included if it provides the key). A provider whose record is oversized or malformed is left out
   * and counts as a fault of that peer; an unreachable or withdrawn one is left out.
   */
  findProviders(key: string, options?: FindProvidersOptions): Effect.Effect<readonly ProviderInfo[], NetworkError>
}>()("dai/Network") {}
