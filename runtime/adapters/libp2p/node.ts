/**
 * Builds the libp2p v3 node behind the Network port: TCP + Noise + Yamux, gossipsub, identify,
 * ping, and a private Kademlia DHT for peer discovery.
 *
 * Everything that names a protocol derives from one `protocolPrefix` (default `/dai`), so a dai
 * network never joins the public IPFS DHT nor mixes its gossip with anyone else's:
 *   gossip topic `<prefix>/1/<topic>`, direct messages `<prefix>/msg/1.0.0`, DHT `<prefix>/kad/1.0.0`,
 *   provider records `<prefix>/provider/1.0.0`.
 */
import { noise } from "@chainsafe/libp2p-noise"
import { yamux } from "@chainsafe/libp2p-yamux"
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys"
import { gossipsub, type GossipSub } from "@libp2p/gossipsub"
import { identify, type Identify } from "@libp2p/identify"
import type { PrivateKey } from "@libp2p/interface"
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, type KadDHT } from "@libp2p/kad-dht"
import { peerIdFromPrivateKey } from "@libp2p/peer-id"
import { ping, type Ping } from "@libp2p/ping"
import { tcp } from "@libp2p/tcp"
import { createLibp2p, type Libp2p } from "libp2p"

/** What a dai libp2p node is built from (the js-libp2p "components" pattern: small and explicit). */
export interface Libp2pNodeOptions {
  /** Multiaddrs to listen on. Default: loopback only, `/ip4/127.0.0.1/tcp/0` (an OS-chosen port). */
  readonly listen?: readonly string[]
  /** Multiaddrs (with `/p2p/<peer id>`) of peers to connect to at start and whenever the node is alone. */
  readonly bootstrap?: readonly string[]
  /** The node's identity; a fresh Ed25519 key (a new peer id on every start) if left out. */
  readonly privateKey?: PrivateKey
  /** Prefix of every protocol and gossip topic. Default `/dai`. */
  readonly protocolPrefix?: string
  /** Largest payload accepted by publish/send and from peers, in bytes. Default 4 MiB. */
  readonly maxMessageBytes?: number
  /** Which peer addresses the DHT stores and hands out: `all` (default: loopback/LAN devnets), or `public` only (internet). */
  readonly dhtAddresses?: "all" | "public"
  /** Peers refused at the gate (no dial, no inbound connection): the network adapter's banned peers. */
  readonly refusePeer?: (peer: string) => boolean
  /**
   * How long a DHT provider record (who serves a key) stays valid on the peers that store it; the
   * providing node re-announces it at half that. Default 10 minutes: a provider that died stops
   * being handed out within that, while a live one costs one DHT put per key per 5 minutes.
   */
  readonly providerValidityMs?: number
}

export const DEFAULT_LISTEN: readonly string[] = ["/ip4/127.0.0.1/tcp/0"]
export const DEFAULT_PROTOCOL_PREFIX = "/dai"
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
export const DEFAULT_PROVIDER_VALIDITY_MS = 10 * 60_000

/** The protocol names derived from a prefix. */
export interface DaiProtocols {
  /** Gossip topics are `${gossipTopicPrefix}${topic}`. */
  readonly gossipTopicPrefix: string
  readonly directMessage: string
  readonly kad: string
  /** Asks a provider for its record of a key (request: the key; response: the record). */
  readonly provider: string
}

/** The protocol names a node with this prefix speaks. */
export function daiProtocols(prefix: string = DEFAULT_PROTOCOL_PREFIX): DaiProtocols {
  if (!/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    throw new RangeError(`protocolPrefix must look like "/dai" (slash-separated, no trailing slash), got ${JSON.stringify(prefix)}`)
  }
  return {
    gossipTopicPrefix: `${prefix}/1/`,
    directMessage: `${prefix}/msg/1.0.0`,
    kad: `${prefix}/kad/1.0.0`,
    provider: `${prefix}/provider/1.0.0`,
  }
}

// A type alias, not an interface: libp2p's ServiceMap constraint needs an implicit index signature.
export type DaiServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht: KadDHT
}

export type DaiLibp2p = Libp2p<DaiServices>

// Gossipsub frames carry protobuf overhead, the signature and the key around the payload.
const GOSSIP_RPC_OVERHEAD = 64 * 1024

/** Creates and starts a libp2p node (it listens once this resolves). */
export async function createDaiLibp2p(options: Libp2pNodeOptions = {}): Promise<DaiLibp2p> {
  const protocols = daiProtocols(options.protocolPrefix)
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const providerValidityMs = options.providerValidityMs ?? DEFAULT_PROVIDER_VALIDITY_MS
  if (!(Number.isSafeInteger(providerValidityMs) && providerValidityMs >= 2_000)) throw new RangeError(`providerValidityMs must be a whole number of ms >= 2000, got ${providerValidityMs}`)
  return createLibp2p<DaiServices>({
    ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
    addresses: { listen: [...(options.listen ?? DEFAULT_LISTEN)] },
    transports: [tcp()],
    ...(options.refusePeer === undefined ? {} : {
      connectionGater: {
        denyDialPeer: (peer: { toString(): string }) => options.refusePeer!(peer.toString()),
        denyInboundEncryptedConnection: (peer: { toString(): string }) => options.refusePeer!(peer.toString()),
        denyInboundUpgradedConnection: (peer: { toString(): string }) => options.refusePeer!(peer.toString()),
      },
    }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        // Publishing with nobody subscribed yet is normal (a lone validator, a node still warming up).
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // Our own messages go to every known subscriber, not only mesh peers: this is what makes a
        // message published right after `ready` reach everyone, before the mesh has formed.
        floodPublish: true,
        maxInboundDataLength: maxMessageBytes + GOSSIP_RPC_OVERHEAD,
      }),
      dht: kadDHT({
        protocol: protocols.kad,
        // Loopback and LAN devnets: every node is dialable, so serve the DHT from the start
        // instead of waiting to learn a public address.
        clientMode: false,
        // The default mapper drops private addresses, which would hide every peer of a loopback devnet.
        peerInfoMapper: options.dhtAddresses === "public" ? removePrivateAddressesMapper : passthroughMapper,
        // The reprovider both renews our records (at half their validity) and deletes others' once
        // expired (it checks every tenth of it), so a dead provider is handed out for at most ~1.1 validity.
        reprovide: { validity: providerValidityMs, threshold: Math.floor(providerValidityMs / 2), interval: Math.max(1_000, Math.floor(providerValidityMs / 10)) },
      }),
    },
  })
}

/** A fresh Ed25519 identity. */
export const newPeerKey = (): Promise<PrivateKey> => generateKeyPair("Ed25519")

/** A deterministic Ed25519 identity from a 32-byte seed (devnets, tests). */
export const peerKeyFromSeed = (seed: Uint8Array): Promise<PrivateKey> => {
  if (seed.length !== 32) throw new RangeError(`peerKeyFromSeed needs 32 bytes, got ${seed.length}`)
  return generateKeyPairFromSeed("Ed25519", seed)
}

/** Serialises an identity for the node's store (libp2p protobuf form). */
export const encodePeerKey = (key: PrivateKey): Uint8Array => privateKeyToProtobuf(key)

/** Reads an identity written by {@link encodePeerKey}; throws on bytes that are not a key. */
export const decodePeerKey = (bytes: Uint8Array): PrivateKey => privateKeyFromProtobuf(bytes)

/** The peer id string of an identity. */
export const peerIdOf = (key: PrivateKey): string => peerIdFromPrivateKey(key).toString()
