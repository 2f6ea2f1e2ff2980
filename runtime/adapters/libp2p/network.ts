/**
 * The Network port over libp2p: gossipsub for `publish`, a length-prefixed direct-message protocol
 * for `send`, and a private Kademlia DHT that finds the rest of the network from one bootstrap peer.
 *
 * Warm-up. Gossipsub only sends a message to peers whose subscription it has heard of, and a node
 * hears of them a few ms to a few hundred ms after the connection opens (longer while the DHT is
 * still finding peers). Publishing earlier is not an error — the message simply reaches fewer
 * peers. Protocols that need a message to reach everyone at start (the first consensus round)
 * call `ready(topic, n)` first: it waits until `n` peers are known subscribers of the topic, with a
 * timeout. After that, `floodPublish` sends our own messages straight to every known subscriber,
 * so delivery does not depend on the mesh (which forms on the 1 s heartbeat and only matters for
 * relaying).
 *
 * Providers. `provide(key, record)` puts a kad-dht provider record under the CID of the key (raw
 * codec, sha2-256 of `<provider protocol>\n<key>`) and re-announces it, 1 s, 2 s, 4 s… after the
 * first time, then every half validity (the DHT's provider records on other peers expire after
 * `providerValidityMs`). The record itself (price, capacity, queue) is not in the DHT: a requester asks
 * each provider the DHT names for it over `<prefix>/provider/1.0.0` (one frame each way, the
 * direct-message framing), so it always gets the provider's current queue and never a dead
 * provider's, and the provider is authenticated by the connection (docs/decisions.md says why).
 *
 * Gossip links. Gossipsub can lose its stream to a peer while the connection stays open, and then
 * never sends to it again; the adapter checks every connected peer's link and rebuilds a lost one by
 * reconnecting (gossip-repair.ts, docs/decisions.md).
 *
 * Hostile input never crashes the node: oversized, malformed and unknown-topic messages and
 * handlers that throw are dropped and counted (see `stats`, and the `onDrop` hook).
 */
import { TopicValidatorResult, type Message } from "@libp2p/gossipsub"
import type { Connection, PeerId as Libp2pPeerId, Stream } from "@libp2p/interface"
import { peerIdFromString } from "@libp2p/peer-id"
import { multiaddr } from "@multiformats/multiaddr"
import { sha256 } from "@noble/hashes/sha2.js"
import { CID } from "multiformats/cid"
import { create as createDigest } from "multiformats/hashes/digest"
import { Context, Effect, Layer, Result } from "effect"
import { type Envelope, type FindProvidersOptions, Network, NetworkError, type PeerId, type ProviderInfo, type ProviderRecord, type TopicLimits } from "../../services/network.ts"
import { decodeProviderRecord, encodeProviderRecord, MAX_PROVIDER_KEY_BYTES, MAX_PROVIDER_RECORD_BYTES, providerKeyProblem, providerRecordProblem } from "../../core/provider-record.ts"
import { DEFAULT_PEER_FAULT_POLICY, PeerFaults, type PeerFaultPolicy } from "../../core/peer-faults.ts"
import { encodeFrame, type Decoded, type FrameLimits } from "./frame.ts"
import { closedWithin, readFirstFrame, readFrames } from "./stream-read.ts"
import { gossipRepair } from "./gossip-repair.ts"
import { createDaiLibp2p, daiProtocols, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_PROVIDER_VALIDITY_MS, type DaiLibp2p, type Libp2pNodeOptions } from "./node.ts"

/** Why an inbound message was not delivered. */
export type Libp2pDropReason = "oversized" | "malformed" | "unknown-topic" | "handler-error" | "banned" | "bad-record"

export interface Libp2pNetworkStats {
  readonly published: number
  readonly sent: number
  readonly received: { readonly gossip: number; readonly direct: number }
  readonly dropped: Readonly<Record<Libp2pDropReason, number>>
  /** Peers cut off for their faults, now. */
  readonly banned: number
  /** Gossip links gossipsub lost under a live connection, rebuilt by reconnecting (gossip-repair.ts). */
  readonly gossipRepairs: number
}

export interface Libp2pNetworkOptions extends Libp2pNodeOptions {
  /**
   * Give up on one `send` after this many ms of dial, write and close. A send queued behind others
   * to the same peer (at most 8 at once) waits its turn, and fails if none of them finishes for this
   * long (so a burst to a live peer is not cut short by its own queue, and one to a stuck peer fails). Default 5000.
   */
  readonly sendTimeoutMs?: number
  /**
   * How often each connected peer's gossip link is checked (gossip-repair.ts: gossipsub must know the
   * peer and hold a stream to it; one lost under a live connection is rebuilt by reconnecting). Default
   * 5000 ms; 0 turns the check off.
   */
  readonly gossipCheckMs?: number
  /** Keep dialling peers found through the DHT until this many are connected. Default 16. */
  readonly targetPeers?: number
  /** Longest pause between two peer searches (DHT walk, bootstrap re-dial) while below `targetPeers`. Default 5000 ms. */
  readonly discoveryIntervalMs?: number
  /** Give up on one `findProviders` DHT query after this many ms (and on each provider's record after `providerRecordTimeoutMs`). Default 5000. */
  readonly findProvidersTimeoutMs?: number
  /**
   * The most one provider-record exchange may take, both ways: a requester gives up on a provider's
   * record (dial, request, answer) after this many ms and leaves the provider out; a provider gives a
   * requester as long to send its request and close, then resets the stream. Default `sendTimeoutMs`.
   */
  readonly providerRecordTimeoutMs?: number
  /**
   * How long a direct-message stream may go without a byte, both ways: an inbound one on which
   * the peer sends nothing for this many ms (it never writes, stalls inside a frame, or never closes
   * its end) is reset, and so is an outbound one whose receiver has not closed it this long after our
   * last byte. Either would otherwise stay open until the connection closes, counting toward the 64
   * streams a peer may hold open. Default 30000.
   */
  readonly directIdleMs?: number
  /** Longest topic accepted, in UTF-8 bytes. Default 256. */
  readonly maxTopicBytes?: number
  /** Sees every dropped inbound message, for logs and metrics. Must not throw. */
  readonly onDrop?: (reason: Libp2pDropReason, from: PeerId, detail: string) => void
  /** When a peer is cut off for its faults (runtime/core/peer-faults.ts; default policy: 20 faults in 60 s → 10 min). */
  readonly peerFaults?: PeerFaultPolicy
  /** Sees every peer banned for its faults. Must not throw. */
  readonly onBan?: (peer: PeerId, until: number, reason: string) => void
}

/** A running libp2p node: the Network port plus what tests, the devnet and the node runner need. */
export interface Libp2pNetwork {
  /** The port. */
  readonly network: Network["Service"]
  /** Addresses other nodes can dial (each ends in `/p2p/<peer id>`): hand them out as bootstrap peers. */
  readonly multiaddrs: Effect.Effect<readonly string[]>
  /** Connects to a multiaddr (with `/p2p/<id>`); returns the peer id. */
  dial(addr: string): Effect.Effect<PeerId, NetworkError>
  /** Waits until at least `count` peers are connected. */
  awaitPeers(count: number, timeoutMs?: number): Effect.Effect<void, NetworkError>
  /** Waits until at least `count` peers are known subscribers of `topic` (see the module doc on warm-up). */
  ready(topic: string, count: number, timeoutMs?: number): Effect.Effect<void, NetworkError>
  /** Peers known to be subscribed to `topic`. */
  subscribers(topic: string): Effect.Effect<readonly PeerId[]>
  /** Topics this node has at least one handler for. */
  readonly topics: Effect.Effect<readonly string[]>
  /** Counters since start (a copy). */
  readonly stats: Effect.Effect<Libp2pNetworkStats>
  /** Announces `key` and serves `bytes` as its record, unchecked: fault injection and tests only. */
  provideRaw(key: string, bytes: Uint8Array): Effect.Effect<void, NetworkError>
  /** The libp2p node itself, for diagnostics. Stopped when the scope closes. */
  readonly node: DaiLibp2p
}

/** The running libp2p transport, for code that needs more than the port (devnet, tests). */
export class Libp2pTransport extends Context.Service<Libp2pTransport, Libp2pNetwork>()("dai/Libp2pTransport") {}

const DEFAULT_SEND_TIMEOUT_MS = 5_000
const DEFAULT_TARGET_PEERS = 16
const DEFAULT_DISCOVERY_INTERVAL_MS = 5_000
const DEFAULT_GOSSIP_CHECK_MS = 5_000
const DEFAULT_MAX_TOPIC_BYTES = 256
const DEFAULT_WAIT_MS = 10_000
const POLL_MS = 25
/** Write big frames in pieces and wait for drain between them, so a 4 MiB send never overflows a buffer. */
const WRITE_CHUNK = 64 * 1024
/** A direct-message stream quiet this long is reset (`directIdleMs`): long for one frame, short next to a connection's life. */
const DEFAULT_DIRECT_IDLE_MS = 30_000
/** Concurrent outbound direct-message streams per peer; well under the 64 a peer accepts. */
const MAX_STREAMS_PER_PEER = 8
const DEFAULT_PROVIDER_LIMIT = 20
/** Most providers taken from one DHT query (each is then asked for its record). */
const MAX_PROVIDER_CANDIDATES = 100
/** First re-announcement of a new key; doubling up to half the validity (the first puts may reach few peers). */
const FIRST_REANNOUNCE_MS = 1_000
/** A provider request: the key as a frame's topic, no payload. */
const PROVIDER_REQUEST_LIMITS: FrameLimits = { maxBodyBytes: 2 + MAX_PROVIDER_KEY_BYTES, maxTopicBytes: MAX_PROVIDER_KEY_BYTES }
/** A provider response as read: the key and a record of at most MAX_PROVIDER_RECORD_BYTES (more is refused from the header). */
const PROVIDER_RESPONSE_LIMITS: FrameLimits = { maxBodyBytes: 2 + MAX_PROVIDER_KEY_BYTES + MAX_PROVIDER_RECORD_BYTES, maxTopicBytes: MAX_PROVIDER_KEY_BYTES }
/** What `provideRaw` may write (so a test can serve an oversized record). */
const RAW_RESPONSE_LIMITS: FrameLimits = { maxBodyBytes: 2 + MAX_PROVIDER_KEY_BYTES + 64 * 1024, maxTopicBytes: MAX_PROVIDER_KEY_BYTES }

const errorText = (e: unknown): string => (e instanceof Error ? e.message || e.name : String(e))

/** What a listen error code means to an operator. */
const LISTEN_PROBLEMS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address in use",
  EADDRNOTAVAIL: "no such address on this machine",
  EACCES: "permission denied (ports below 1024 need privileges)",
}

const listenProblem = (text: string): string => {
  const code = /\b(E[A-Z]{3,})\b/.exec(text)?.[1]
  if (code !== undefined && LISTEN_PROBLEMS[code] !== undefined) return LISTEN_PROBLEMS[code]
  if (text.includes("UnsupportedListenAddress")) return "no transport of this node listens on such an address"
  return text.replace(/^\w*Error: /, "")
}

/**
 * Why libp2p did not start, in one line. libp2p reports a listen address it could not take as a
 * paragraph advising `transportManager.faultTolerance` (which dai does not expose: a node that cannot
 * listen where it was told should not start) followed by a stack per address; keep only the address
 * and what went wrong: `cannot listen on /ip4/127.0.0.1/tcp/9000: address in use`.
 */
const startFailureText = (e: unknown, listen: readonly string[]): string => {
  if (!(e instanceof Error) || e.name !== "UnsupportedListenAddressesError") return `could not start libp2p (listen ${JSON.stringify(listen)}): ${errorText(e)}`
  const failures = [...e.message.matchAll(/^ {2}(\/\S+): (.*)$/gm)].map(([, addr, text]) => `cannot listen on ${addr}: ${listenProblem(text ?? "")}`)
  return failures.length > 0 ? failures.join("; ") : `cannot listen on ${listen.join(", ")}: ${e.message.split("\n")[0]}`
}
const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8")

/**
 * Starts a libp2p node and gives the Network port over it. The node is stopped when the scope
 * closes. Bootstrap peers are dialled in the background (a missing bootstrap node does not stop
 * the start); use `awaitPeers`/`ready` to wait for the network.
 */
export const makeLibp2pNetwork = Effect.fn("Libp2pNetwork.make")(function*(options: Libp2pNetworkOptions = {}) {
  const protocols = yield* Effect.try({
    try: () => daiProtocols(options.protocolPrefix),
    catch: (e) => new NetworkError({ operation: "start", reason: errorText(e) }),
  })
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const maxTopicBytes = options.maxTopicBytes ?? DEFAULT_MAX_TOPIC_BYTES
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
  const targetPeers = options.targetPeers ?? DEFAULT_TARGET_PEERS
  const discoveryIntervalMs = options.discoveryIntervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS
  const directIdleMs = options.directIdleMs ?? DEFAULT_DIRECT_IDLE_MS
  const bootstrap = yield* Effect.try({
    try: () => (options.bootstrap ?? []).map((a) => multiaddr(a)),
    catch: (e) => new NetworkError({ operation: "start", reason: `bad bootstrap multiaddr: ${errorText(e)}` }),
  })
  // The frame body holds the topic header and topic besides the payload.
  const limits: FrameLimits = { maxBodyBytes: maxMessageBytes + 2 + maxTopicBytes, maxTopicBytes }

  const faults = new PeerFaults(options.peerFaults ?? DEFAULT_PEER_FAULT_POLICY)
  const node = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => createDaiLibp2p({ ...options, refusePeer: (peer) => faults.banned(peer, Date.now()) }),
      catch: (e) => new NetworkError({ operation: "start", reason: startFailureText(e, options.listen ?? ["/ip4/127.0.0.1/tcp/0"]) }),
    }),
    (node) => Effect.promise(async () => {
      await Promise.resolve(node.stop()).catch(() => undefined)
    }),
  )
  const pubsub = node.services.pubsub
  const self = node.peerId.toString()

  const handlers = new Map<string, Set<{ readonly handler: (message: Envelope) => void; readonly maxBytes: number }>>()
  const counters = { published: 0, sent: 0, gossip: 0, direct: 0, gossipRepairs: 0 }
  const dropped: Record<Libp2pDropReason, number> = { oversized: 0, malformed: 0, "unknown-topic": 0, "handler-error": 0, banned: 0, "bad-record": 0 }

  /** One fault of `peer`: past the policy's limit it is disconnected and refused until its ban ends. */
  const fault = (peer: PeerId, reason: string): void => {
    const now = Date.now()
    if (peer === self || peer === "unknown" || faults.banned(peer, now)) return
    const verdict = faults.fault(peer, now)
    if (!verdict.banned) return
    try {
      options.onBan?.(peer, verdict.until, reason)
    } catch {
      // An observer must not be able to break the ban.
    }
    try {
      void node.hangUp(peerIdFromString(peer)).catch(() => undefined)
    } catch {
      // Not a peer id we can parse: nothing to hang up.
    }
  }

  const drop = (reason: Libp2pDropReason, from: PeerId, detail: string): void => {
    dropped[reason]++
    // Our own handler throwing is our bug, not the sender's fault; the rest is the sender's.
    if (reason === "oversized" || reason === "malformed" || reason === "bad-record") fault(from, `${reason}: ${detail}`)
    try {
      options.onDrop?.(reason, from, detail)
    } catch {
      // An observer must not be able to break delivery.
    }
  }

  /** The largest payload any subscriber of `topic` takes. */
  const topicMax = (topic: string): number => {
    let max = 0
    for (const sub of handlers.get(topic) ?? []) max = Math.max(max, sub.maxBytes)
    return max
  }

  const deliver = (message: Envelope): void => {
    const subs = handlers.get(message.topic)
    if (subs === undefined || subs.size === 0) return drop("unknown-topic", message.from, `no handler for topic ${JSON.stringify(message.topic)}`)
    if (faults.banned(message.from, Date.now())) return drop("banned", message.from, `message on ${JSON.stringify(message.topic)} from a banned peer`)
    if (message.data.length > topicMax(message.topic)) return drop("oversized", message.from, `${message.data.length} bytes on ${JSON.stringify(message.topic)} (limit ${topicMax(message.topic)})`)
    // A snapshot: a handler may unsubscribe itself (or others) while we iterate.
    for (const sub of [...subs]) {
      if (message.data.length > sub.maxBytes) continue
      try {
        sub.handler(message)
      } catch (e) {
        drop("handler-error", message.from, `handler for ${JSON.stringify(message.topic)} threw: ${errorText(e)}`)
      }
    }
  }

  const gossipTopic = (topic: string) => protocols.gossipTopicPrefix + topic

  // Gossip in. Gossipsub has already checked the signature (StrictSign) and dropped duplicates by
  // message id (author + sequence number), so each message surfaces here once.
  pubsub.addEventListener("message", (event: CustomEvent<Message>) => {
    const msg = event.detail
    if (msg.type !== "signed") return drop("malformed", "unknown", "unsigned gossip message")
    const from = msg.from.toString()
    if (from === self) return // our own message relayed back: never delivered to ourselves
    if (!msg.topic.startsWith(protocols.gossipTopicPrefix)) return drop("unknown-topic", from, `gossip topic ${JSON.stringify(msg.topic)} is outside ${protocols.gossipTopicPrefix}`)
    if (msg.data.length > maxMessageBytes) return drop("oversized", from, `gossip payload of ${msg.data.length} bytes`)
    counters.gossip++
    deliver({ from, topic: msg.topic.slice(protocols.gossipTopicPrefix.length), data: msg.data })
  })

  // Direct messages in: any number of frames per stream; a bad frame costs the sender that frame,
  // an oversized one the whole stream. Read with readFrames, not `for await` (stream-read.ts says
  // why): a handler started after the sender's end of stream would otherwise never see that end and
  // hold the stream open, one of the sender's 64, until the connection closed.
  const onDecoded = (from: PeerId, d: Decoded): void => {
    if (d.type === "drop") return drop(d.reason, from, d.detail)
    // The frame limit leaves room for the longest topic, so a short topic lets a payload slightly over the limit through it.
    if (d.data.length > maxMessageBytes) return drop("oversized", from, `direct payload of ${d.data.length} bytes`)
    counters.direct++
    deliver({ from, topic: d.topic, data: d.data })
  }
  const onStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString()
    if (faults.banned(from, Date.now())) {
      dropped.banned++
      stream.abort(new Error("peer refused for its faults"))
      return
    }
    try {
      const end = await readFrames(stream, limits, (d) => onDecoded(from, d), { idleMs: directIdleMs })
      if (end === "unframeable") {
        stream.abort(new Error("frame over the size limit"))
        return
      }
      // The peer has ended its side: closing ours ends the stream.
      await stream.close({ signal: AbortSignal.timeout(directIdleMs) })
    } catch (e) {
      // A reset, idle or stuck stream: what was complete has been delivered (a frame cut off counts as malformed), the rest is lost.
      stream.abort(e instanceof Error ? e : new Error(String(e)))
    }
  }
  yield* Effect.tryPromise({
    try: () => node.handle(protocols.directMessage, onStream, { maxInboundStreams: 64 }),
    catch: (e) => new NetworkError({ operation: "start", reason: `could not register ${protocols.directMessage}: ${errorText(e)}` }),
  })

  // Discovery: dial peers the DHT tells us about until we have enough.
  const dialing = new Set<string>()
  const maybeDial = (id: Libp2pPeerId): void => {
    const key = id.toString()
    if (key === self || dialing.has(key) || node.status !== "started") return
    if (node.getConnections(id).length > 0 || node.getPeers().length >= targetPeers) return
    dialing.add(key)
    node.dial(id, { signal: AbortSignal.timeout(sendTimeoutMs) })
      .catch(() => undefined) // an unreachable peer is normal; the next search tries again
      .finally(() => dialing.delete(key))
  }
  node.addEventListener("peer:discovery", (event) => maybeDial(event.detail.id))

  const searchOnce = async (): Promise<void> => {
    if (node.getPeers().length >= targetPeers) return
    const connected = new Set(node.getPeers().map(String))
    // Alone (or cut off from every bootstrap peer while below target): go back to the bootstrap list.
    await Promise.all(bootstrap.map(async (addr) => {
      const id = addr.getComponents().findLast((c) => c.name === "p2p")?.value
      if (id !== undefined && connected.has(id)) return
      await node.dial(addr, { signal: AbortSignal.timeout(sendTimeoutMs) }).catch(() => undefined)
    }))
    if (node.getPeers().length === 0) return
    // A walk towards our own id: the answers are the peers closest to us, each one dialled.
    try {
      for await (const peer of node.peerRouting.getClosestPeers(node.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(discoveryIntervalMs) })) {
        maybeDial(peer.id)
      }
    } catch {
      // Timeouts and query errors: try again on the next round.
    }
  }
  yield* Effect.forkScoped(Effect.gen(function*() {
    // Quick rounds at start (the network is forming), backing off to the configured interval.
    let pause = Math.min(250, discoveryIntervalMs)
    for (;;) {
      yield* Effect.promise(() => searchOnce().catch(() => undefined))
      yield* Effect.sleep(pause)
      pause = Math.min(pause * 2, discoveryIntervalMs)
    }
  }))

  // Gossip links lost under a live connection (gossip-repair.ts): rebuilt by hanging up and dialling again.
  const gossipCheckMs = options.gossipCheckMs ?? DEFAULT_GOSSIP_CHECK_MS
  if (gossipCheckMs > 0) {
    const repair = gossipRepair()
    const checkLinks = async (): Promise<void> => {
      if (node.status !== "started") return
      const open = new Map<string, Libp2pPeerId>()
      for (const c of node.getConnections()) if (c.status === "open") open.set(c.remotePeer.toString(), c.remotePeer)
      const connected: string[] = []
      for (const [key, id] of open) {
        // Only peers that speak gossipsub (identify has told the peer store): others have no gossip link to lose.
        const speaks = await node.peerStore.get(id).then((p) => p.protocols.some((x) => pubsub.protocols.includes(x)), () => false)
        if (speaks) connected.push(key)
      }
      const known = new Set(pubsub.getPeers().map(String))
      // The class's public field, not in the GossipSub interface: without it (another version) only `known` is checked.
      const streams = (pubsub as unknown as { readonly streamsOutbound?: ReadonlyMap<string, unknown> }).streamsOutbound
      const outbound = streams instanceof Map ? new Set<string>(streams.keys()) : known
      for (const key of repair.check({ connected, known, outbound })) {
        const id = open.get(key)!
        counters.gossipRepairs++
        await node.hangUp(id).catch(() => undefined)
        if (faults.banned(key, Date.now())) continue
        await node.dial(id, { signal: AbortSignal.timeout(sendTimeoutMs) }).catch(() => undefined) // else discovery dials it again
      }
    }
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(gossipCheckMs), Effect.promise(() => checkLinks().catch(() => undefined)))))
  }

  const checkTopic = (operation: string, topic: string): Effect.Effect<void, NetworkError> => {
    const n = utf8Length(topic)
    return n === 0 || n > maxTopicBytes
      ? Effect.fail(new NetworkError({ operation, reason: `topic must be 1..${maxTopicBytes} UTF-8 bytes, got ${n}` }))
      : Effect.void
  }
  const checkSize = (operation: string, data: Uint8Array): Effect.Effect<void, NetworkError> =>
    data.length > maxMessageBytes
      ? Effect.fail(new NetworkError({ operation, reason: `payload of ${data.length} bytes is over the limit of ${maxMessageBytes}; split it or raise maxMessageBytes` }))
      : Effect.void

  const publish = Effect.fn("Libp2pNetwork.publish")(function*(topic: string, data: Uint8Array) {
    yield* checkTopic("publish", topic)
    yield* checkSize("publish", data)
    // A copy: gossipsub keeps the bytes to answer IWANTs, and the caller may reuse its buffer.
    const bytes = data.slice()
    yield* Effect.tryPromise({
      try: () => pubsub.publish(gossipTopic(topic), bytes),
      catch: (e) => new NetworkError({ operation: "publish", reason: `could not publish on ${JSON.stringify(topic)}: ${errorText(e)}` }),
    })
    counters.published++
  })

  const limitPerPeer = perKeyLimiter(MAX_STREAMS_PER_PEER, sendTimeoutMs)
  const send = Effect.fn("Libp2pNetwork.send")(function*(to: PeerId, topic: string, data: Uint8Array) {
    yield* checkTopic("send", topic)
    yield* checkSize("send", data)
    if (to === self) {
      // libp2p cannot dial itself; deliver locally, asynchronously like any other message.
      const message = { from: self, topic, data: data.slice() }
      queueMicrotask(() => {
        counters.direct++
        deliver(message)
      })
      counters.sent++
      return
    }
    const peer = yield* Effect.try({
      try: () => peerIdFromString(to),
      catch: () => new NetworkError({ operation: "send", reason: `${JSON.stringify(to)} is not a peer id` }),
    })
    const frame = encodeFrame(topic, data, limits)
    yield* Effect.tryPromise({
      // The send's own time starts with its turn: time queued behind earlier sends is bounded by their progress (perKeyLimiter).
      try: (signal) => limitPerPeer(to, signal, () => writeFrame(node, peer, protocols.directMessage, frame, AbortSignal.any([signal, AbortSignal.timeout(sendTimeoutMs)]), directIdleMs)),
      catch: (e) => new NetworkError({ operation: "send", reason: `could not send ${JSON.stringify(topic)} to ${to}: ${errorText(e)}` }),
    })
    counters.sent++
  })

  const subscribe = (topic: string, handler: (message: Envelope) => void, topicLimits?: TopicLimits): Effect.Effect<Effect.Effect<void>> =>
    Effect.sync(() => {
      let subs = handlers.get(topic)
      if (subs === undefined) {
        subs = new Set()
        handlers.set(topic, subs)
        const gt = gossipTopic(topic)
        // Checked before any decoding. Rejected (not just ignored) so that gossipsub does not relay
        // it and scores the peer down; a banned peer's messages are ignored unread.
        pubsub.topicValidators.set(gt, (peer, msg) => {
          const from = peer.toString()
          if (faults.banned(from, Date.now())) return TopicValidatorResult.Ignore
          const max = Math.min(maxMessageBytes, topicMax(topic))
          if (msg.data.length <= max) return TopicValidatorResult.Accept
          drop("oversized", from, `gossip payload of ${msg.data.length} bytes on ${JSON.stringify(topic)} (limit ${max})`)
          return TopicValidatorResult.Reject
        })
        if (node.status === "started") pubsub.subscribe(gt)
      }
      // An object per subscription: the same function subscribed twice counts twice.
      const entry = { handler, maxBytes: Math.min(maxMessageBytes, topicLimits?.maxBytes ?? maxMessageBytes) }
      subs.add(entry)
      const owner = subs
      return Effect.sync(() => {
        if (!owner.delete(entry) || owner.size > 0 || handlers.get(topic) !== owner) return
        handlers.delete(topic)
        const gt = gossipTopic(topic)
        pubsub.topicValidators.delete(gt)
        if (node.status === "started") pubsub.unsubscribe(gt)
      })
    })

  // Providers: what this node serves (key → record wire bytes) and when each key is announced next.
  const providerValidityMs = options.providerValidityMs ?? DEFAULT_PROVIDER_VALIDITY_MS
  const findProvidersTimeoutMs = options.findProvidersTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
  const providerRecordTimeoutMs = options.providerRecordTimeoutMs ?? sendTimeoutMs
  const provided = new Map<string, Uint8Array>()
  const announcements = new Map<string, { next: number; every: number }>()
  const textUtf8 = new TextEncoder()
  /** The DHT key of a provider key: a raw CID of its sha2-256 (with the protocol, so two networks never share keys). */
  const keyCid = (key: string): CID => CID.createV1(0x55, createDigest(0x12, sha256(textUtf8.encode(`${protocols.provider}\n${key}`))))

  /** One DHT put of `key` (errors are normal while the node has no DHT peers: the next round retries). */
  const announce = async (key: string): Promise<void> => {
    if (node.status !== "started" || !provided.has(key)) return
    await node.contentRouting.provide(keyCid(key), { signal: AbortSignal.timeout(sendTimeoutMs) }).catch(() => undefined)
  }
  yield* Effect.forkScoped(Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(250)
      const now = Date.now()
      for (const [key, a] of announcements) {
        if (now < a.next) continue
        a.every = Math.min(a.every * 2, Math.floor(providerValidityMs / 2))
        a.next = now + a.every
        yield* Effect.promise(() => announce(key))
      }
    }
  }))

  const startProviding = async (key: string, bytes: Uint8Array): Promise<void> => {
    const fresh = !provided.has(key)
    provided.set(key, bytes)
    if (!fresh) return // a new record for a key already announced: requesters ask for it live
    announcements.set(key, { next: Date.now() + FIRST_REANNOUNCE_MS, every: FIRST_REANNOUNCE_MS })
    await announce(key)
  }

  const provide = Effect.fn("Libp2pNetwork.provide")(function*(key: string, record: ProviderRecord) {
    const problem = providerKeyProblem(key) ?? providerRecordProblem(record)
    if (problem !== undefined) return yield* new NetworkError({ operation: "provide", reason: problem })
    const bytes = encodeProviderRecord(record)
    yield* Effect.promise(() => startProviding(key, bytes))
  })

  const unprovide = (key: string): Effect.Effect<void> =>
    Effect.promise(async () => {
      if (!provided.delete(key)) return
      announcements.delete(key)
      // Our record on other peers lapses within a validity; until then they hand us out and we answer "not provided".
      if (node.status === "started") await node.contentRouting.cancelReprovide(keyCid(key)).catch(() => undefined)
    })

  // Answer provider requests: one frame in (the key), one frame out (the record, empty if we do not
  // serve the key). Both bounded (stream-read.ts says why a plain `for await` is not): one frame of
  // PROVIDER_REQUEST_LIMITS, and `providerRecordTimeoutMs` from the stream's start to its close.
  const onProviderStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString()
    if (faults.banned(from, Date.now())) {
      dropped.banned++
      stream.abort(new Error("peer refused for its faults"))
      return
    }
    const deadline = AbortSignal.timeout(providerRecordTimeoutMs)
    try {
      const request = await readFirstFrame(stream, PROVIDER_REQUEST_LIMITS, deadline)
      if (request === undefined || request.type === "drop") {
        drop(request?.type === "drop" ? request.reason : "malformed", from, `provider request: ${request?.type === "drop" ? request.detail : "empty"}`)
        stream.abort(new Error("bad provider request"))
        return
      }
      stream.send(encodeFrame(request.topic, provided.get(request.topic) ?? new Uint8Array(), RAW_RESPONSE_LIMITS))
      await stream.close({ signal: deadline })
      // A requester that never closes its end would otherwise hold the stream until the connection ends.
      await closedWithin(stream, deadline)
    } catch (e) {
      stream.abort(e instanceof Error ? e : new Error(String(e)))
    }
  }
  yield* Effect.tryPromise({
    try: () => node.handle(protocols.provider, onProviderStream, { maxInboundStreams: 32 }),
    catch: (e) => new NetworkError({ operation: "start", reason: `could not register ${protocols.provider}: ${errorText(e)}` }),
  })

  /** `peer`'s record of `key` as it serves it now: undefined if it does not serve it, cannot be reached, or served a bad one (a fault). */
  const askRecord = async (peer: string, key: string, signal: AbortSignal): Promise<ProviderRecord | undefined> => {
    let bytes: Uint8Array | undefined
    if (peer === self) {
      bytes = provided.get(key)
    } else {
      let stream: Stream
      try {
        stream = await node.dialProtocol(peerIdFromString(peer), protocols.provider, { signal })
      } catch {
        return undefined // unreachable (stopped, or never reachable): not a fault
      }
      let answer: Decoded | undefined
      try {
        // Listening before the request goes out: the answer cannot arrive before we are ready for it.
        const reading = readFirstFrame(stream, PROVIDER_RESPONSE_LIMITS, signal)
        reading.catch(() => undefined) // awaited below; a failed send or close must not leave it unhandled
        stream.send(encodeFrame(key, new Uint8Array(), PROVIDER_REQUEST_LIMITS))
        await stream.close({ signal })
        answer = await reading
      } catch {
        stream.abort(new Error("provider request failed"))
        return undefined // reset or timed out: not a fault
      }
      // One answer is all we read: a provider that keeps writing, or never closes, is cut off here.
      if (stream.status === "open") stream.abort(new Error(answer?.type === "drop" ? "provider response over the limits" : "provider response read"))
      if (answer === undefined) return undefined
      if (answer.type === "drop") {
        drop("bad-record", peer, `record for ${JSON.stringify(key)}: ${answer.reason}: ${answer.detail}`)
        return undefined
      }
      if (answer.topic !== key) {
        drop("bad-record", peer, `answered for ${JSON.stringify(answer.topic)} when asked for ${JSON.stringify(key)}`)
        return undefined
      }
      bytes = answer.data
    }
    if (bytes === undefined || bytes.length === 0) return undefined
    const record = decodeProviderRecord(bytes)
    if (Result.isSuccess(record)) return record.success
    drop("bad-record", peer, `record for ${JSON.stringify(key)}: ${record.failure}`)
    return undefined
  }

  const findProviders = Effect.fn("Libp2pNetwork.findProviders")(function*(key: string, findOptions: FindProvidersOptions = {}) {
    const problem = providerKeyProblem(key)
    if (problem !== undefined) return yield* new NetworkError({ operation: "findProviders", reason: problem })
    const limit = findOptions.limit ?? DEFAULT_PROVIDER_LIMIT
    const found = yield* Effect.promise(async (signal) => {
      const candidates = new Map<string, readonly string[]>()
      if (provided.has(key)) candidates.set(self, node.getMultiaddrs().map(String))
      try {
        const query = AbortSignal.any([signal, AbortSignal.timeout(findProvidersTimeoutMs)])
        for await (const p of node.contentRouting.findProviders(keyCid(key), { signal: query })) {
          const id = p.id.toString()
          if (id === self || candidates.has(id) || faults.banned(id, Date.now())) continue
          candidates.set(id, p.multiaddrs.map(String))
          if (candidates.size >= MAX_PROVIDER_CANDIDATES) break
        }
      } catch {
        // A timed-out or failed query: ask those found so far.
      }
      const asked = AbortSignal.any([signal, AbortSignal.timeout(providerRecordTimeoutMs)])
      const answers = await Promise.all([...candidates].map(async ([peer, addrs]) => {
        const record = await askRecord(peer, key, asked).catch(() => undefined)
        return record === undefined ? undefined : { peer, addrs, record } satisfies ProviderInfo
      }))
      return answers.filter((a) => a !== undefined).sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0)).slice(0, limit)
    })
    return found as readonly ProviderInfo[]
  })

  const peerList = (): PeerId[] => node.getPeers().map(String)

  const network = Network.of({
    self,
    publish,
    send,
    subscribe,
    report: (peer, reason) => Effect.sync(() => fault(peer, reason)),
    peers: Effect.sync(peerList),
    provide,
    unprovide,
    findProviders,
  })

  const waitFor = (check: () => boolean, timeoutMs: number, failure: () => NetworkError): Effect.Effect<void, NetworkError> =>
    Effect.gen(function*() {
      const deadline = Date.now() + timeoutMs
      while (!check()) {
        if (Date.now() >= deadline) return yield* failure()
        yield* Effect.sleep(POLL_MS)
      }
    })

  const transport: Libp2pNetwork = {
    network,
    node,
    multiaddrs: Effect.sync(() => node.getMultiaddrs().map(String)),
    dial: Effect.fn("Libp2pNetwork.dial")(function*(addr: string) {
      const ma = yield* Effect.try({
        try: () => multiaddr(addr),
        catch: (e) => new NetworkError({ operation: "dial", reason: `bad multiaddr ${JSON.stringify(addr)}: ${errorText(e)}` }),
      })
      const connection = yield* Effect.tryPromise({
        try: (signal) => node.dial(ma, { signal: AbortSignal.any([signal, AbortSignal.timeout(sendTimeoutMs)]) }),
        catch: (e) => new NetworkError({ operation: "dial", reason: `could not dial ${addr}: ${errorText(e)}` }),
      })
      return connection.remotePeer.toString()
    }),
    awaitPeers: (count, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor(() => node.getPeers().length >= count, timeoutMs, () =>
        new NetworkError({
          operation: "awaitPeers",
          reason: `${self} has ${node.getPeers().length} of ${count} peers after ${timeoutMs} ms (connected: ${peerList().join(", ") || "none"}); check the bootstrap addresses and that the peers are running`,
        })),
    ready: (topic, count, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor(() => pubsub.getSubscribers(gossipTopic(topic)).length >= count, timeoutMs, () =>
        new NetworkError({
          operation: "ready",
          reason: `${self} knows ${pubsub.getSubscribers(gossipTopic(topic)).length} of ${count} subscribers of ${JSON.stringify(topic)} after ${timeoutMs} ms (${node.getPeers().length} peers connected); are the other nodes subscribed?`,
        })),
    subscribers: (topic) => Effect.sync(() => pubsub.getSubscribers(gossipTopic(topic)).map(String)),
    topics: Effect.sync(() => [...handlers.keys()]),
    stats: Effect.sync(() => ({
      published: counters.published,
      sent: counters.sent,
      received: { gossip: counters.gossip, direct: counters.direct },
      banned: faults.bans(Date.now()).size,
      dropped: { ...dropped },
      gossipRepairs: counters.gossipRepairs,
    })),
    provideRaw: (key, bytes) => Effect.promise(() => startProviding(key, bytes.slice())),
  }
  return transport
})

/**
 * At most `max` tasks at once per key, the rest waiting in FIFO order (or until their signal aborts).
 * Direct messages need it: a peer accepts only so many concurrent streams per protocol (64 by
 * default) and resets the rest, so a burst of sends to one peer must queue rather than fail. With
 * `stallMs`, waiters of a key on which no task has finished for that long (since the first of them
 * queued, or since the last finish) fail together: a queue is bounded by its progress, not by a
 * fixed time that a long burst on a busy machine outlasts.
 */
export function perKeyLimiter(max: number, stallMs?: number) {
  const active = new Map<string, number>()
  const waiting = new Map<string, Array<{ readonly grant: () => void; readonly fail: (e: Error) => void }>>()
  const stalls = new Map<string, ReturnType<typeof setTimeout>>()
  /** (Re)starts `key`'s stall clock while it has waiters; stops it when it has none. */
  const watch = (key: string) => {
    clearTimeout(stalls.get(key))
    stalls.delete(key)
    if (stallMs === undefined || (waiting.get(key)?.length ?? 0) === 0) return
    stalls.set(key, setTimeout(() => {
      stalls.delete(key)
      const queue = waiting.get(key) ?? []
      waiting.delete(key)
      for (const w of queue) w.fail(new Error(`no task of ${key} finished in ${stallMs} ms`))
    }, stallMs))
  }
  const release = (key: string) => {
    const next = waiting.get(key)?.shift()
    if (waiting.get(key)?.length === 0) waiting.delete(key)
    watch(key) // a finished task is progress
    if (next !== undefined) return next.grant() // the permit passes straight to the next waiter
    const n = (active.get(key) ?? 1) - 1
    if (n === 0) active.delete(key)
    else active.set(key, n)
  }
  const acquire = (key: string, signal: AbortSignal): Promise<void> => {
    signal.throwIfAborted()
    const n = active.get(key) ?? 0
    if (n < max) {
      active.set(key, n + 1)
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const queue = waiting.get(key) ?? []
      waiting.set(key, queue)
      const onAbort = () => {
        const i = queue.indexOf(waiter)
        if (i >= 0) queue.splice(i, 1)
        if (queue.length === 0 && waiting.get(key) === queue) {
          waiting.delete(key)
          watch(key)
        }
        reject(signal.reason)
      }
      const waiter = {
        grant: () => {
          signal.removeEventListener("abort", onAbort)
          resolve()
        },
        fail: (e: Error) => {
          signal.removeEventListener("abort", onAbort)
          reject(e)
        },
      }
      queue.push(waiter)
      signal.addEventListener("abort", onAbort, { once: true })
      if (queue.length === 1) watch(key) // the first waiter starts the clock
    })
  }
  return async <A>(key: string, signal: AbortSignal, task: () => Promise<A>): Promise<A> => {
    await acquire(key, signal)
    try {
      return await task()
    } finally {
      release(key)
    }
  }
}

/**
 * Opens a direct-message stream, writes one frame (in drained pieces) and closes our end. The
 * stream ends when the receiver closes its end; one that has not `idleMs` later is reset (in the
 * background: the send has succeeded), so a receiver that never closes does not use up our streams.
 */
async function writeFrame(node: DaiLibp2p, peer: Libp2pPeerId, protocol: string, frame: Uint8Array, signal: AbortSignal, idleMs: number): Promise<void> {
  const stream = await node.dialProtocol(peer, protocol, { signal })
  try {
    for (let offset = 0; offset < frame.length; offset += WRITE_CHUNK) {
      if (!stream.send(frame.subarray(offset, offset + WRITE_CHUNK))) await stream.onDrain({ signal })
    }
    await stream.close({ signal })
    void closedWithin(stream, AbortSignal.timeout(idleMs))
  } catch (e) {
    stream.abort(e instanceof Error ? e : new Error(String(e)))
    throw e
  }
}

/** The libp2p transport as a layer: the node starts when the layer is built and stops when it is released. */
export const layerLibp2pTransport = (options: Libp2pNetworkOptions = {}): Layer.Layer<Libp2pTransport, NetworkError> =>
  Layer.effect(Libp2pTransport, makeLibp2pNetwork(options))

/** The Network port over libp2p, together with the transport (multiaddrs, dial, ready) it runs on. */
export const layerLibp2pNetwork = (options: Libp2pNetworkOptions = {}): Layer.Layer<Network | Libp2pTransport, NetworkError> =>
  Layer.effect(Network, Effect.map(Libp2pTransport, (t) => t.network)).pipe(
    Layer.provideMerge(layerLibp2pTransport(options)),
  )
