/**
 * Gossip links that gossipsub lost while the connection under them stayed open, found and rebuilt.
 *
 * js-libp2p's gossipsub treats an error on a peer's inbound stream as the peer's disconnection
 * (`handlePeerReadStreamError` → `removePeer`: the peer forgotten, both streams closed), and it
 * opens streams to a peer only when libp2p reports a new connection (`peer:connect`). When the
 * connection itself survives — a reset stream on a loaded machine, one bad frame — no new
 * connection is reported, so the two nodes stay connected and never gossip again: the peer's
 * side finds its outbound stream closed and has none to send on (gossipsub's `sendRpc` then
 * drops every message to it without an error). Seen on a loaded machine: three validators,
 * "peers 2 of 2", one of them unheard by the others for minutes (its re-sent precommit never
 * arrived), the height stalled. libp2p/js-libp2p#3531 fixed the reconnect half, and leaves "a
 * stream that closes while its connection stays open" open (also ChainSafe/js-libp2p-gossipsub#456).
 *
 * So the adapter checks, every few seconds, each connected peer that speaks gossipsub: gossipsub
 * must know it and hold an outbound stream to it. One that fails the check `strikes` times in a
 * row (a fresh connection's stream takes a moment) is hung up and dialled again, which is the
 * `peer:connect` gossipsub needs to rebuild both streams and exchange subscriptions. A peer is
 * repaired at most once per `backoffTicks` checks (a peer that keeps breaking is not hammered).
 * Pure bookkeeping here; network.ts does the looking and the dialling.
 */

/** What one check sees. */
export interface GossipLinkView {
  /** Peers with an open connection that announce a gossipsub protocol. */
  readonly connected: readonly string[]
  /** Peers gossipsub knows (its `getPeers()`). */
  readonly known: ReadonlySet<string>
  /** Peers gossipsub holds an outbound stream to. */
  readonly outbound: ReadonlySet<string>
}

export interface GossipRepairOptions {
  /** Checks in a row a link must fail before it is rebuilt (default 3). */
  readonly strikes?: number
  /** Checks after a rebuild before the same peer may be rebuilt again (default 6). */
  readonly backoffTicks?: number
}

export interface GossipRepair {
  /** One check: the peers whose gossip link is to be rebuilt now. */
  check(view: GossipLinkView): readonly string[]
}

export const gossipRepair = (o: GossipRepairOptions = {}): GossipRepair => {
  const strikes = o.strikes ?? 3
  const backoffTicks = o.backoffTicks ?? 6
  const failing = new Map<string, number>()
  const rebuiltAt = new Map<string, number>()
  let tick = 0
  return {
    check: (view) => {
      tick++
      const connected = new Set(view.connected)
      // A peer no longer connected needs nothing from us (discovery dials what it wants).
      for (const p of failing.keys()) if (!connected.has(p)) failing.delete(p)
      for (const [p, at] of rebuiltAt) if (tick - at >= backoffTicks) rebuiltAt.delete(p)
      const out: string[] = []
      for (const p of connected) {
        if (view.known.has(p) && view.outbound.has(p)) {
          failing.delete(p)
          continue
        }
        const n = (failing.get(p) ?? 0) + 1
        failing.set(p, n)
        if (n >= strikes && !rebuiltAt.has(p)) {
          out.push(p)
          failing.delete(p)
          rebuiltAt.set(p, tick)
        }
      }
      return out
    },
  }
}
