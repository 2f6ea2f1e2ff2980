/**
 * The Network port over the simulated network (`SimNetwork`).
 *
 * What the port adds to the raw bus:
 * - topics: each node keeps its handlers by topic; `publish` goes to every other node, in ascending
 *   id order like `SimNetwork.broadcast`, and a node keeps the message when it has a handler for the
 *   topic on arrival (so a node that subscribes while a message is in flight still gets it, as in a
 *   gossip mesh, and nodes started one after another at the same instant all hear each other);
 * - exactly-once delivery: the bus may duplicate a message; each payload travels with its sender's
 *   sequence number, and a receiver drops a (sender, sequence) pair it has already delivered;
 * - restarts: a node id is registered on the bus once and its port can be released and attached
 *   again (a crashed node coming back), keeping its sequence numbers so nothing it sends after the
 *   restart is mistaken for a duplicate.
 *
 * Wire form (what the bus, its observer and the trace see): `0xDA, varint(seq), payload`. Code that
 * injects messages straight into the bus (rather than through a node's port) must build them with
 * `encodeSimPayload`, or they are dropped as malformed; trace readers can strip the header with
 * `decodeSimPayload`.
 */
import { Effect, Layer, Result, type Scope } from "effect"
import { type Envelope, type FindProvidersOptions, Network, NetworkError, type PeerId, type ProviderInfo, type ProviderRecord, type TopicLimits } from "../../runtime/services/network.ts"
import { decodeProviderRecord, encodeProviderRecord, providerKeyProblem, providerRecordProblem } from "../../runtime/core/provider-record.ts"
import { DEFAULT_PEER_FAULT_POLICY, PeerFaults, type PeerFaultPolicy } from "../../runtime/core/peer-faults.ts"
import type { NetworkPeer, SimNetwork } from "./sim-network.ts"

/** Why a message reaching this node was not handed to a handler. */
export type SimDropReason = "malformed" | "duplicate" | "unknown-topic" | "handler-error" | "detached" | "oversized" | "banned" | "bad-record"

export interface SimNetworkPortStats {
  readonly published: number
  readonly sent: number
  readonly delivered: number
  readonly dropped: Readonly<Record<SimDropReason, number>>
}

export interface SimNetworkPortOptions {
  /** Sees every dropped message (the runner may trace them). Must not throw. */
  readonly onDrop?: (reason: SimDropReason, from: PeerId, topic: string) => void
  /** How many recent (sender, sequence) pairs a node remembers to drop duplicates. Default 16384. */
  readonly dedupeWindow?: number
  /** When a peer is cut off for its faults (as on libp2p: runtime/core/peer-faults.ts). */
  readonly peerFaults?: PeerFaultPolicy
  /** Sees every peer this node bans. Must not throw. */
  readonly onBan?: (peer: PeerId, until: number, reason: string) => void
}

/** A node's attachment to the bus. */
export interface SimNetworkPort {
  readonly network: Network["Service"]
  /** Counters since this attachment (a copy). */
  stats(): SimNetworkPortStats
  /** Detaches the node: messages to it are dropped ("detached") until it attaches again. */
  detach(): void
}

const MARKER = 0xda
const DEFAULT_DEDUPE_WINDOW = 16_384

/** Frames a payload with its sender's sequence number (the wire form of every port message). */
export function encodeSimPayload(seq: number, data: Uint8Array): Uint8Array {
  if (!(Number.isSafeInteger(seq) && seq >= 0)) throw new RangeError(`encodeSimPayload: seq must be a safe integer >= 0, got ${seq}`)
  const header: number[] = [MARKER]
  let n = seq
  do {
    const low = n % 128
    n = Math.floor(n / 128)
    header.push(n > 0 ? low | 0x80 : low)
  } while (n > 0)
  const out = new Uint8Array(header.length + data.length)
  out.set(header)
  out.set(data, header.length)
  return out
}

/** Reads the wire form back; undefined if the bytes are not a port message. */
export function decodeSimPayload(bytes: Uint8Array): { readonly seq: number; readonly data: Uint8Array } | undefined {
  if (bytes[0] !== MARKER) return undefined
  let seq = 0
  let scale = 1
  for (let i = 1; i < bytes.length && i <= 8; i++) {
    const b = bytes[i]!
    seq += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return Number.isSafeInteger(seq) ? { seq, data: bytes.subarray(i + 1) } : undefined
    scale *= 128
  }
  return undefined
}

type Receiver = (from: string, topic: string, data: Uint8Array) => void

/**
 * The payload view of each published wire buffer, made once: a publish hands one buffer to every
 * recipient, so they all get the same `data` object, and what a receiver derives from it once
 * (a decoded message: codec.ts decodeShared) is shared by the whole simulated world.
 */
const payloads = new WeakMap<Uint8Array, { readonly seq: number; readonly data: Uint8Array }>()
const payloadOf = (wire: Uint8Array): { readonly seq: number; readonly data: Uint8Array } | undefined => {
  let p = payloads.get(wire)
  if (p === undefined) {
    p = decodeSimPayload(wire)
    if (p !== undefined) payloads.set(wire, p)
  }
  return p
}

/** What the bus knows of one node id: registered once, outlives the node's ports. */
class Endpoint implements NetworkPeer {
  nextSeq = 0
  receiver: Receiver | undefined
  /** Topics the attached port has handlers for (what publishers look at). */
  topics: ReadonlySet<string> = new Set()
  detachedDrops = 0

  onMessage(from: string, topic: string, data: Uint8Array): void {
    if (this.receiver === undefined) this.detachedDrops++
    else this.receiver(from, topic, data)
  }
}

const endpointsByNetwork = new WeakMap<SimNetwork, Map<string, Endpoint>>()
/** How many times a port was attached to or detached from each bus: with `SimNetwork.topology`, when a peer list may have changed. */
const attachmentsByNetwork = new WeakMap<SimNetwork, number>()
const attachmentChanged = (net: SimNetwork): void => void attachmentsByNetwork.set(net, (attachmentsByNetwork.get(net) ?? 0) + 1)

/**
 * Provider announcements on one bus: key → provider id → the record's wire bytes. The simulated
 * DHT is this one table (an announcement is visible at once, everywhere); what a requester gets
 * from it follows libp2p's semantics, where each record is asked of its provider at query time:
 * a provider that is down, partitioned away or detached is not returned, and a node that detaches
 * (stops, crashes) loses its announcements, as a restarted libp2p node does.
 */
const directoryByNetwork = new WeakMap<SimNetwork, Map<string, Map<PeerId, Uint8Array>>>()

function directoryOf(net: SimNetwork): Map<string, Map<PeerId, Uint8Array>> {
  let directory = directoryByNetwork.get(net)
  if (directory === undefined) directoryByNetwork.set(net, (directory = new Map()))
  return directory
}

/** Announce `bytes` as `peer`'s record for `key`, unchecked: for fault injection (a byzantine provider) and tests. */
export function simProvideRaw(net: SimNetwork, peer: PeerId, key: string, bytes: Uint8Array): void {
  let providers = directoryOf(net).get(key)
  if (providers === undefined) directoryOf(net).set(key, (providers = new Map()))
  providers.set(peer, bytes.slice())
}

/** Withdraw `peer`'s announcement of `key` (every key when `key` is undefined). */
function simUnprovide(net: SimNetwork, peer: PeerId, key?: string): void {
  const directory = directoryOf(net)
  for (const [k, providers] of directory) {
    if (key !== undefined && k !== key) continue
    providers.delete(peer)
    if (providers.size === 0) directory.delete(k)
  }
}

const DEFAULT_PROVIDER_LIMIT = 20

function endpointFor(net: SimNetwork, id: string): Endpoint {
  let endpoints = endpointsByNetwork.get(net)
  if (endpoints === undefined) {
    endpoints = new Map()
    endpointsByNetwork.set(net, endpoints)
  }
  let endpoint = endpoints.get(id)
  if (endpoint === undefined) {
    endpoint = new Endpoint()
    // Throws if the id was registered on the bus by someone else: one owner per id.
    net.register(id, endpoint)
    endpoints.set(id, endpoint)
  }
  return endpoint
}

/**
 * Attaches node `self` to the bus and returns its port. Throws if `self` already has an attached
 * port, or was registered on the bus without this module.
 */
export function attachSimNetwork(net: SimNetwork, self: PeerId, options: SimNetworkPortOptions = {}): SimNetworkPort {
  const endpoint = endpointFor(net, self)
  if (endpoint.receiver !== undefined) throw new Error(`attachSimNetwork: node ${self} already has an attached port; release it first`)
  const endpoints = endpointsByNetwork.get(net)!
  const window = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW

  const handlers = new Map<string, Set<{ readonly handler: (message: Envelope) => void; readonly maxBytes: number }>>()
  const counters = { published: 0, sent: 0, delivered: 0 }
  const dropped: Record<SimDropReason, number> = { malformed: 0, duplicate: 0, "unknown-topic": 0, "handler-error": 0, detached: 0, oversized: 0, banned: 0, "bad-record": 0 }
  const faults = new PeerFaults(options.peerFaults ?? DEFAULT_PEER_FAULT_POLICY)
  /** One fault of `peer`: past the policy's limit its messages are dropped unread until the ban ends. */
  const fault = (peer: PeerId, reason: string): void => {
    if (peer === self || faults.banned(peer, net.now)) return
    const verdict = faults.fault(peer, net.now)
    if (!verdict.banned) return
    try {
      options.onBan?.(peer, verdict.until, reason)
    } catch {
      // An observer must not be able to break the ban.
    }
  }
  const detachedAtStart = endpoint.detachedDrops
  // Recently delivered (sender, seq) keys; a Set keeps insertion order, so the oldest goes first.
  const seen = new Set<string>()

  const drop = (reason: SimDropReason, from: PeerId, topic: string): void => {
    dropped[reason]++
    try {
      options.onDrop?.(reason, from, topic)
    } catch {
      // An observer must not be able to break delivery.
    }
  }

  const receive: Receiver = (from, topic, wire) => {
    const decoded = payloadOf(wire)
    if (decoded === undefined) {
      fault(from, `malformed wire bytes on ${JSON.stringify(topic)}`)
      return drop("malformed", from, topic)
    }
    const key = `${from}\u0000${decoded.seq}`
    if (seen.has(key)) return drop("duplicate", from, topic)
    seen.add(key)
    if (seen.size > window) seen.delete(seen.values().next().value!)
    const subs = handlers.get(topic)
    if (subs === undefined || subs.size === 0) return drop("unknown-topic", from, topic)
    if (faults.banned(from, net.now)) return drop("banned", from, topic)
    let max = 0
    for (const sub of subs) max = Math.max(max, sub.maxBytes)
    if (decoded.data.length > max) {
      fault(from, `${decoded.data.length} bytes on ${JSON.stringify(topic)} (limit ${max})`)
      return drop("oversized", from, topic)
    }
    counters.delivered++
    const message: Envelope = { from, topic, data: decoded.data }
    for (const sub of [...subs]) {
      if (decoded.data.length > sub.maxBytes) continue
      try {
        sub.handler(message)
      } catch {
        drop("handler-error", from, topic)
      }
    }
  }
  endpoint.receiver = receive
  endpoint.topics = new Set()
  attachmentChanged(net)

  const attached = () => endpoint.receiver === receive
  const notAttached = (operation: string) =>
    new NetworkError({ operation, reason: `node ${self}'s network port was released (the node stopped); build a new one to use the network again` })

  const publish = (topic: string, data: Uint8Array): Effect.Effect<void, NetworkError> =>
    Effect.suspend(() => {
      if (!attached()) return Effect.fail(notAttached("publish"))
      const wire = encodeSimPayload(endpoint.nextSeq++, data)
      // Ascending id order (net.nodes is sorted), like SimNetwork.broadcast: a deterministic fan-out.
      // Every other node gets it and keeps it if it has a handler when the message arrives: a node
      // that subscribes while a message is in flight still receives it, as with a real mesh.
      // One copy of the bytes for all of them (SimNetwork.multicast: the same draws as one send each).
      net.multicast(self, net.nodes.filter((id) => id !== self), topic, wire)
      counters.published++
      return Effect.void
    })

  const send = (to: PeerId, topic: string, data: Uint8Array): Effect.Effect<void, NetworkError> =>
    Effect.suspend(() => {
      if (!attached()) return Effect.fail(notAttached("send"))
      if (!endpoints.has(to) && !net.nodes.includes(to)) {
        return Effect.fail(new NetworkError({ operation: "send", reason: `unknown peer ${JSON.stringify(to)}: no node with that id is on the simulated network` }))
      }
      net.send(self, to, topic, encodeSimPayload(endpoint.nextSeq++, data))
      counters.sent++
      return Effect.void
    })

  const subscribe = (topic: string, handler: (message: Envelope) => void, limits?: TopicLimits): Effect.Effect<Effect.Effect<void>> =>
    Effect.sync(() => {
      let subs = handlers.get(topic)
      if (subs === undefined) {
        subs = new Set()
        handlers.set(topic, subs)
        if (attached()) endpoint.topics = new Set(handlers.keys())
      }
      // An object per subscription: the same function subscribed twice counts twice.
      const entry = { handler, maxBytes: limits?.maxBytes ?? Number.POSITIVE_INFINITY }
      subs.add(entry)
      const owner = subs
      return Effect.sync(() => {
        if (!owner.delete(entry) || owner.size > 0 || handlers.get(topic) !== owner) return
        handlers.delete(topic)
        if (attached()) endpoint.topics = new Set(handlers.keys())
      })
    })

  const reachable = (id: string): boolean => {
    if (id === self || net.isDown(id) || net.partitioned(self, id)) return false
    const other = endpoints.get(id)
    return other === undefined || other.receiver !== undefined
  }

  const provide = (key: string, record: ProviderRecord): Effect.Effect<void, NetworkError> =>
    Effect.suspend(() => {
      if (!attached()) return Effect.fail(notAttached("provide"))
      const problem = providerKeyProblem(key) ?? providerRecordProblem(record)
      if (problem !== undefined) return Effect.fail(new NetworkError({ operation: "provide", reason: problem }))
      simProvideRaw(net, self, key, encodeProviderRecord(record))
      return Effect.void
    })

  const findProviders = (key: string, options: FindProvidersOptions = {}): Effect.Effect<readonly ProviderInfo[], NetworkError> =>
    Effect.suspend(() => {
      if (!attached()) return Effect.fail(notAttached("findProviders"))
      const problem = providerKeyProblem(key)
      if (problem !== undefined) return Effect.fail(new NetworkError({ operation: "findProviders", reason: problem }))
      if (net.isDown(self)) return Effect.succeed([])
      const limit = options.limit ?? DEFAULT_PROVIDER_LIMIT
      const found: ProviderInfo[] = []
      const providers = [...(directoryOf(net).get(key) ?? new Map<PeerId, Uint8Array>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      for (const [peer, bytes] of providers) {
        if (found.length >= limit) break
        if (peer !== self && (!reachable(peer) || faults.banned(peer, net.now))) continue
        const record = decodeProviderRecord(bytes)
        if (Result.isFailure(record)) {
          fault(peer, `bad provider record for ${JSON.stringify(key)}: ${record.failure}`)
          drop("bad-record", peer, key)
          continue
        }
        found.push({ peer, addrs: [`/sim/${peer}`], record: record.success })
      }
      return Effect.succeed(found)
    })

  /**
   * The reachable peers, recomputed only when the bus's topology or an attachment changed since the
   * last call (a node asks once per block; the list is n long on every node).
   */
  let peerList: { readonly topology: number; readonly attachments: number; readonly peers: readonly PeerId[] } | undefined
  const peers = (): PeerId[] => {
    if (!attached() || net.isDown(self)) return []
    const topology = net.topology
    const attachments = attachmentsByNetwork.get(net) ?? 0
    if (peerList === undefined || peerList.topology !== topology || peerList.attachments !== attachments) {
      peerList = { topology, attachments, peers: net.nodes.filter(reachable) }
    }
    return [...peerList.peers]
  }

  const network = Network.of({
    self,
    publish,
    send,
    subscribe,
    report: (peer, reason) => Effect.sync(() => fault(peer, reason)),
    peers: Effect.sync(peers),
    provide,
    unprovide: (key) => Effect.sync(() => simUnprovide(net, self, key)),
    findProviders,
  })

  return {
    network,
    stats: () => ({ ...counters, dropped: { ...dropped, detached: endpoint.detachedDrops - detachedAtStart } }),
    detach: () => {
      if (!attached()) return
      // A stopped node's announcements lapse (on libp2p nobody answers for them any more).
      simUnprovide(net, self)
      endpoint.receiver = undefined
      endpoint.topics = new Set()
      attachmentChanged(net)
    },
  }
}

/** Attaches `self` for the life of the scope (detached when it closes). */
export const makeSimNetwork = (net: SimNetwork, self: PeerId, options: SimNetworkPortOptions = {}): Effect.Effect<SimNetworkPort, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => attachSimNetwork(net, self, options)),
    (port) => Effect.sync(() => port.detach()),
  )

/** The Network port of node `self` on the simulated network `net`. */
export const layerSimNetwork = (net: SimNetwork, self: PeerId, options: SimNetworkPortOptions = {}): Layer.Layer<Network> =>
  Layer.effect(Network, Effect.map(makeSimNetwork(net, self, options), (port) => port.network))
