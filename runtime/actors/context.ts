/**
 * `NodeContext`: the one thing a world hands a node. Every feature of the node behaviour
 * (runtime/actors/<feature>/) starts as `start<Feature>(ctx, params)` and reaches the world only
 * through it, so the real node (runtime/node/real-world.ts: libp2p, sqlite, the wall clock, fibers)
 * and the simulator (sim/world/world.ts: the in-memory network and store, virtual time, synchronous
 * effects) run the same actors.
 *
 * What it carries: the clock and timers, `now`, the effect runner, the node's randomness, its
 * network, store, keys and telemetry ports, the ledger (the Chain port) and its receipts, its application replica with the parameters in force and the snapshots it loaded, the transaction pool with `submitTx`, the evidence pool, the count of
 * invalid messages by sender, and the stream of executed blocks the followers (staking, training) feed on.
 */
import { Effect } from "effect"
import type { App, Execution } from "../core/app/app.ts"
import { Mempool } from "../core/app/mempool.ts"
import { encodeTx, txDigest, type SignedTx } from "../core/app/txs.ts"
import { EvidencePool } from "../core/consensus/evidence-pool.ts"
import type { Block } from "../core/consensus/types.ts"
import { fromHex } from "../core/crypto.ts"
import type { Params } from "../core/params.ts"
import type { Chain } from "../services/chain.ts"
import type { CommitteeCache } from "../services/committee-cache.ts"
import type { ReceiptFeed } from "../services/receipt-feed.ts"
import type { EffectRunner, Now, TimerClock } from "../services/clock.ts"
import type { Keys } from "../services/keys.ts"
import type { Network } from "../services/network.ts"
import type { NodeRandom } from "../services/random.ts"
import type { Store } from "../services/store.ts"
import type { Telemetry } from "../services/telemetry.ts"

/** Signed application transactions, gossiped to every node's pool. */
export const TX_TOPIC = "tx"
/**
 * Largest gossiped transaction taken off the wire (checked before decoding): the largest honest one,
 * a round result naming a few hundred participants with their signatures, is well under it.
 */
export const MAX_TX_BYTES = 256 * 1024

/** What a world provides for one node: its ports, its time and how it runs effects. */
export interface NodePorts {
  /** Name in telemetry ("v0", "node1"). */
  readonly name: string
  readonly clock: TimerClock
  readonly now: Now
  readonly run: EffectRunner
  readonly random: NodeRandom
  readonly network: Network["Service"]
  readonly store: Store["Service"]
  readonly keys: Keys["Service"]
  readonly telemetry: Telemetry["Service"]
  /**
   * The one ledger of value and rules, as the Chain port: the contracts on a real node that has an
   * EVM chain, else an in-memory ledger (the world's shared one in the simulator). Stake moves here,
   * never in a block; the committee's snapshots, epoch reports and evidence settle here.
   */
  readonly ledger: Chain["Service"]
  /** The ledger's receipts as this node hears them (stake moves, slashes). */
  readonly receipts: ReceiptFeed
}

/** What executing one decided block did, as the followers of a node see it. */
export interface ExecutedBlock {
  readonly block: Block
  readonly execution: Execution
}

export interface NodeContext extends NodePorts {
  /** This node's replica of the application (rebuilt from its store at start). */
  readonly app: App
  /** The committee snapshots this node loaded from the ledger (what its App reads). */
  readonly committees: CommitteeCache
  /** The parameters in force now: the snapshot of the current epoch's (governance changes them on the ledger). */
  params(): Params
  /** Emit a telemetry event of this node, now. */
  emit(kind: string, data: Record<string, unknown>): void
  /** Transactions waiting for a block: consensus takes from it, `submitTx` and gossip add to it. */
  readonly mempool: Mempool
  /** Verify, pool and gossip a signed transaction; a refusal says why (nothing is pooled then). */
  submitTx(tx: SignedTx): string | undefined
  /** Double-sign evidence waiting for a block: consensus adds what it sees or is submitted, and proposes from it. */
  readonly evidence: EvidencePool
  /** Invalid messages by sender, over every actor of the node. */
  readonly faults: ReadonlyMap<string, number>
  /** Count an invalid message against its sender, report it (`net.invalid`) and to the network (which may ban the peer); never throws. */
  fault(from: string, reason: string): void
  /** Every block this node executes, in order, to the listeners (called by the consensus actor). */
  readonly executed: BlockStream
}

/** A listener list for executed blocks; listeners run in subscription order. */
export interface BlockStream {
  subscribe(listener: (b: ExecutedBlock) => void): () => void
  publish(b: ExecutedBlock): void
}

const blockStream = (): BlockStream => {
  const listeners: Array<(b: ExecutedBlock) => void> = []
  return {
    subscribe: (listener) => {
      listeners.push(listener)
      return () => {
        const i = listeners.indexOf(listener)
        if (i >= 0) listeners.splice(i, 1)
      }
    },
    publish: (b) => {
      for (const l of [...listeners]) l(b)
    },
  }
}

const utf8 = new TextEncoder()

/** The context of a node over a world's ports and its application replica. */
export const makeNodeContext = (ports: NodePorts, app: App, committees: CommitteeCache): NodeContext => {
  const mempool = new Mempool(app)
  const evidence = new EvidencePool({
    get height() {
      return app.height
    },
    chainId: app.chainId,
    validatorSet: (height) => app.validatorSet(height),
    // Convicted already (evidence executed): more evidence against it would change nothing.
    tombstoned: (validator) => app.isExcluded(validator),
  }, ports.keys.verify)
  const emit = (kind: string, data: Record<string, unknown>) => ports.run(ports.telemetry.emit({ at: ports.now(), node: ports.name, kind, data }))
  const faults = new Map<string, number>()
  return {
    ...ports,
    app,
    committees,
    params: () => app.params(),
    emit,
    mempool,
    evidence,
    faults,
    fault: (from, reason) => {
      faults.set(from, (faults.get(from) ?? 0) + 1)
      emit("net.invalid", { from, reason })
      // The network counts it too: enough faults in a short time cut the peer off.
      ports.run(ports.network.report(from, reason))
    },
    executed: blockStream(),
    submitTx: (tx) => {
      if (!ports.keys.verify(tx.signer, txDigest(app.chainId, tx), fromHex(tx.signature))) return `bad signature of ${tx.signer}`
      const refused = mempool.add(tx)
      if (refused === undefined) ports.run(Effect.ignore(ports.network.publish(TX_TOPIC, utf8.encode(JSON.stringify(encodeTx(tx))))))
      return refused
    },
  }
}
