/**
 * Starts several libp2p nodes on 127.0.0.1 in one scope, for tests and quick experiments.
 * Nothing here listens anywhere but loopback, and `close()` stops every node it started.
 */
import { peerIdFromString } from "@libp2p/peer-id"
import { multiaddr } from "@multiformats/multiaddr"
import { Effect, Exit, Scope } from "effect"
import type { NetworkHarness } from "../../services/compliance/network/index.ts"
import { makeLibp2pNetwork, type Libp2pNetwork, type Libp2pNetworkOptions } from "./network.ts"
import { newPeerKey, peerIdOf } from "./node.ts"

export interface Libp2pHarness extends NetworkHarness {
  readonly transports: readonly Libp2pNetwork[]
  /** Starts one more node in the same scope (stopped by `close`). */
  add(options?: Libp2pNetworkOptions): Promise<Libp2pNetwork>
  /** Stops every node. */
  close(): Promise<void>
}

export interface StartOptions {
  /** Options of every node (listen addresses are always loopback). */
  readonly node?: Libp2pNetworkOptions
  /** `mesh` (default): every node dials every other. `star`: every node only knows node 0 as bootstrap. */
  readonly topology?: "mesh" | "star"
  /** Wait for this many peers per node before returning (default n - 1 for mesh, 0 for star). */
  readonly awaitPeers?: number
  /** How long `settle()` waits for subscriptions to spread before failing. Default 5000 ms. */
  readonly settleTimeoutMs?: number
  /**
   * How long the nodes may take to connect (the mesh's dials, then `awaitPeers`) before the start
   * fails. Waiting is for the connections, not for a time: on an idle machine this takes a few ms.
   * Default 60000 ms, a bound for a machine under heavy load, independent of the nodes' `sendTimeoutMs`
   * (which bounds what a test checks, such as a send to an unknown peer).
   */
  readonly connectTimeoutMs?: number
}

const LOOPBACK = ["/ip4/127.0.0.1/tcp/0"]
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Connects `from` to the node at `addr` (ending in `/p2p/<id>`), dialling again after a failed dial, until they are connected; fails at `deadline`. */
async function connect(from: Libp2pNetwork, addr: string, deadline: number): Promise<void> {
  const ma = multiaddr(addr)
  const id = ma.getComponents().findLast((c) => c.name === "p2p")?.value
  if (id === undefined) throw new Error(`libp2p harness: ${addr} names no peer`)
  const peer = peerIdFromString(id)
  let last: unknown
  while (from.node.getConnections(peer).length === 0) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`libp2p harness: ${from.network.self} could not connect to ${addr} in time: ${String(last)}`)
    try {
      await from.node.dial(ma, { signal: AbortSignal.timeout(left) })
    } catch (e) {
      last = e
      await sleep(50)
    }
  }
}

/** True when every node knows exactly who subscribes to each topic any node listens to. */
async function subscriptionsSpread(transports: readonly Libp2pNetwork[]): Promise<string | undefined> {
  const topicsOf = await Promise.all(transports.map((t) => run(t.topics)))
  const all = new Set(topicsOf.flat())
  for (const topic of all) {
    for (const [i, t] of transports.entries()) {
      const known = new Set(await run(t.subscribers(topic)))
      // Only connected pairs: a peer cut off for its faults never learns (nor needs) our subscriptions.
      const peers = new Set(await run(t.network.peers))
      for (const [j, u] of transports.entries()) {
        if (i === j || !peers.has(u.network.self)) continue
        const subscribed = topicsOf[j]!.includes(topic)
        if (known.has(u.network.self) !== subscribed) {
          return `node ${i} ${subscribed ? "does not yet know" : "still believes"} that node ${j} subscribes to ${JSON.stringify(topic)}`
        }
      }
    }
  }
  return undefined
}

/** Starts `n` connected nodes on loopback. */
export async function startLibp2pNetworks(n: number, options: StartOptions = {}): Promise<Libp2pHarness> {
  const scope = Effect.runSync(Scope.make())
  const transports: Libp2pNetwork[] = []
  const settleTimeoutMs = options.settleTimeoutMs ?? 5_000
  const connectTimeoutMs = options.connectTimeoutMs ?? 60_000
  const start = async (o: Libp2pNetworkOptions = {}) => {
    const t = await run(Scope.provide(scope)(makeLibp2pNetwork({ ...options.node, ...o, listen: LOOPBACK })))
    transports.push(t)
    return t
  }
  const close = () => run(Scope.close(scope, Exit.void))
  try {
    const topology = options.topology ?? "mesh"
    const first = await start()
    const bootstrap = topology === "star" ? [...(await run(first.multiaddrs))] : []
    await Promise.all(Array.from({ length: n - 1 }, () => start({ bootstrap })))
    const deadline = Date.now() + connectTimeoutMs
    if (topology === "mesh") {
      const addrs = await Promise.all(transports.map((t) => run(t.multiaddrs)))
      await Promise.all(transports.flatMap((t, i) => addrs.slice(0, i).map((a) => connect(t, a[0]!, deadline))))
    }
    const want = options.awaitPeers ?? (topology === "mesh" ? n - 1 : 0)
    if (want > 0) await Promise.all(transports.map((t) => run(t.awaitPeers(want, Math.max(1, deadline - Date.now())))))
    const unknownPeer = peerIdOf(await newPeerKey())
    return {
      transports,
      get networks() {
        return transports.map((t) => t.network)
      },
      unknownPeer,
      provideRaw: (node, key, data) => run(transports[node]!.provideRaw(key, data)),
      stop: async (node) => {
        await transports[node]!.node.stop()
      },
      add: start,
      close,
      async settle() {
        const deadline = Date.now() + settleTimeoutMs
        for (;;) {
          const pending = await subscriptionsSpread(transports)
          if (pending === undefined) break
          if (Date.now() > deadline) throw new Error(`libp2p settle: subscriptions did not spread within ${settleTimeoutMs} ms: ${pending}`)
          await sleep(20)
        }
        // Messages on loopback arrive within a few ms; 50 ms leaves room on a loaded CI machine.
        await sleep(50)
      },
    }
  } catch (e) {
    await close()
    throw e
  }
}
