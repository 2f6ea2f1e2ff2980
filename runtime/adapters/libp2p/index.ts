/** The libp2p backend of the Network port: what the node runner, the devnet and tests import. */
export {
  layerLibp2pNetwork,
  layerLibp2pTransport,
  makeLibp2pNetwork,
  Libp2pTransport,
  type Libp2pDropReason,
  type Libp2pNetwork,
  type Libp2pNetworkOptions,
  type Libp2pNetworkStats,
} from "./network.ts"
export {
  createDaiLibp2p,
  daiProtocols,
  decodePeerKey,
  encodePeerKey,
  newPeerKey,
  peerIdOf,
  peerKeyFromSeed,
  DEFAULT_LISTEN,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PROTOCOL_PREFIX,
  type DaiLibp2p,
  type DaiProtocols,
  type Libp2pNodeOptions,
} from "./node.ts"
