/**
 * Ledger accounts ↔ peers, for the market actors on a real network. The actors speak in ledger
 * accounts (a provider found in the DHT is assigned on the ledger by its account; a referee is a
 * validator's operator; a check is answered only to the job's requester) — in the simulator a node's
 * id is all three at once. On libp2p a node is a peer id, so each market node gossips a hello on
 * {@link MARKET_HELLO_TOPIC}: its key's address and a signature of its peer id by that key. Gossipsub
 * authenticates the sender; the signature binds the peer to the address, whose account is the App's
 * (`accountOf`: the operator of a validator address, else the address). A peer cannot speak for an
 * account whose key it does not hold.
 *
 * `accountNetwork` is the Network port as the actors need it: messages arrive from accounts, are sent
 * to accounts, and providers are found as accounts (a peer with no hello yet is left out: nobody could
 * assign it a job). Nothing else changes.
 */
import { Effect, Result, Schema } from "effect"
import { fromHex, keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import type { TimerClock } from "../../services/clock.ts"
import { NetworkError, type Network, type PeerId } from "../../services/network.ts"

/** Where market hellos are gossiped (and answered directly to a newcomer). */
export const MARKET_HELLO_TOPIC = "market/hello/v1"
/** Largest hello taken off the wire (an address and a 65-byte signature in hex fit in half of it). */
export const MAX_MARKET_HELLO_BYTES = 512
/** Gossip the hello this often for the first minute (peers connect), then every {@link HELLO_SLOW_MS}. */
const HELLO_FAST_MS = 3_000
const HELLO_SLOW_MS = 30_000
const HELLO_FAST_FOR_MS = 60_000

/** What a hello's signature covers. */
export const marketHelloDigest = (chainId: number, peer: PeerId): Uint8Array => keccak256(utf8ToBytes(`dai/market/hello/v1/${chainId}/${peer}`))

const Hello = Schema.Struct({
  v: Schema.Literal(1),
  address: Schema.String.check(Schema.isPattern(/^0x[0-9a-f]{40}$/)),
  signature: Schema.String.check(Schema.isPattern(/^0x[0-9a-f]{130}$/)),
})
const decodeHello = Schema.decodeUnknownResult(Hello)
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

export interface DirectoryOptions {
  readonly chainId: number
  readonly network: Network["Service"]
  readonly clock: TimerClock
  readonly now: () => number
  readonly run: (effect: Effect.Effect<void>) => void
  /** This node's key: its address and a signer of 32-byte digests. */
  readonly address: string
  readonly sign: (digest: Uint8Array) => Uint8Array
  readonly verify: (address: string, digest: Uint8Array, signature: Uint8Array) => boolean
  /** The ledger account of a key's address (the App's `accountOf`). */
  readonly accountOf: (address: string) => string
  /** A peer sent a hello that is not what it claims. */
  readonly invalid: (peer: PeerId, reason: string) => void
}

export interface MarketDirectory {
  peerOf(account: string): PeerId | undefined
  accountOf(peer: PeerId): string | undefined
  /** Accounts known (this node's included), sorted. */
  readonly accounts: () => readonly string[]
  stop(): void
}

/** Start saying hello and listening to others'. */
export const startMarketDirectory = (o: DirectoryOptions): MarketDirectory => {
  const peerOf = new Map<string, PeerId>()
  const accountOfPeer = new Map<PeerId, string>()
  const bind = (account: string, peer: PeerId) => {
    const before = peerOf.get(account)
    if (before !== undefined && before !== peer) accountOfPeer.delete(before) // the account moved to a new peer id
    peerOf.set(account, peer)
    accountOfPeer.set(peer, account)
  }
  const self = o.accountOf(o.address.toLowerCase())
  bind(self, o.network.self)
  const hello = utf8.encode(JSON.stringify({ v: 1, address: o.address.toLowerCase(), signature: toHex(o.sign(marketHelloDigest(o.chainId, o.network.self))) }))
  const startedAt = o.now()
  let stopped = false
  let timer: unknown

  const say = () => {
    if (stopped) return
    o.run(Effect.ignore(o.network.publish(MARKET_HELLO_TOPIC, hello)))
    timer = o.clock.setTimeout(say, o.now() - startedAt < HELLO_FAST_FOR_MS ? HELLO_FAST_MS : HELLO_SLOW_MS)
  }

  let unsubscribe: Effect.Effect<void> | undefined
  o.run(Effect.map(o.network.subscribe(MARKET_HELLO_TOPIC, (m) => {
    let json: unknown
    try {
      json = JSON.parse(strictUtf8.decode(m.data))
    } catch {
      return o.invalid(m.from, "malformed market hello: not UTF-8 JSON")
    }
    const h = decodeHello(json, { onExcessProperty: "error" })
    if (Result.isFailure(h)) return o.invalid(m.from, `malformed market hello: ${String(h.failure.message).split("\n")[0]}`)
    if (!o.verify(h.success.address, marketHelloDigest(o.chainId, m.from), fromHex(h.success.signature))) {
      return o.invalid(m.from, `market hello of ${h.success.address}: bad signature for peer ${m.from}`)
    }
    const known = accountOfPeer.has(m.from)
    bind(o.accountOf(h.success.address), m.from)
    // A newcomer (or a peer that restarted) may not know us yet: answer it directly.
    if (!known) o.run(Effect.ignore(o.network.send(m.from, MARKET_HELLO_TOPIC, hello)))
  }, { maxBytes: MAX_MARKET_HELLO_BYTES }), (u) => void (unsubscribe = u)))
  say()

  return {
    peerOf: (account) => peerOf.get(account),
    accountOf: (peer) => accountOfPeer.get(peer),
    accounts: () => [...peerOf.keys()].sort(),
    stop: () => {
      stopped = true
      o.clock.clearTimeout(timer)
      if (unsubscribe !== undefined) o.run(unsubscribe)
    },
  }
}

/** The Network port in accounts: senders and providers as ledger accounts, sends addressed to accounts. */
export const accountNetwork = (network: Network["Service"], dir: Pick<MarketDirectory, "peerOf" | "accountOf">): Network["Service"] => ({
  ...network,
  send: (to, topic, data) => {
    const peer = dir.peerOf(to)
    return peer === undefined ? Effect.fail(new NetworkError({ operation: "send", reason: `no peer known for account ${to} (no market hello from it yet)` })) : network.send(peer, topic, data)
  },
  subscribe: (topic, handler, limits) => network.subscribe(topic, (m) => handler({ ...m, from: dir.accountOf(m.from) ?? m.from }), limits),
  report: (peer, reason) => network.report(dir.peerOf(peer) ?? peer, reason),
  findProviders: (key, options) =>
    Effect.map(network.findProviders(key, options), (found) =>
      found.flatMap((p) => {
        const account = dir.accountOf(p.peer)
        return account === undefined ? [] : [{ ...p, peer: account }]
      })),
})
