/**
 * The simulated network: an in-memory message bus over the Scheduler, with a latency model, loss,
 * duplication, partitions and crashed nodes, all drawn from a seeded Prng.
 *
 * Determinism: each sender draws from its own stream, `prng.child("send:" + id)`, so one node's
 * extra traffic (a byzantine flood, say) never shifts the latencies of anyone else's messages; a
 * broadcast goes to recipients in ascending id order; simultaneous arrivals run in send order
 * (the Scheduler's FIFO tie-break). Same seed and same calls → same deliveries, in the same order.
 *
 * Fault semantics:
 * - loss and duplication are decided per message at send time; a duplicate is a second copy with its
 *   own loss draw and its own latency;
 * - a partition drops messages between groups both at send time and on arrival (in-flight messages
 *   are lost when a partition forms under them); nodes in no group form one group together;
 * - a down node sends nothing and receives nothing: its sends are dropped at once, and messages to it
 *   are dropped if it is still down when they arrive.
 * Every delivery and every drop is reported to the observer (the runner traces them).
 */
import { chanceOf, type Prng, type Ratio } from "../kernel/prng.ts"
import type { Scheduler } from "../kernel/scheduler.ts"

/** A uniform latency range in whole ms, both ends inclusive. */
export interface Latency {
  readonly min: number
  readonly max: number
}

/** Per-node overrides, for the messages the node sends. */
export interface NodeNetworkOptions {
  /** Latency of this node's messages instead of the network's. */
  readonly latency?: Latency
  /** Extra ms added to everything this node sends (a slow node, or the `delay` behaviour). */
  readonly sendDelay?: number
}

/** The network's fault model: a plain options object. */
export interface SimNetworkOptions {
  /** Default {@link DEFAULT_LATENCY}. */
  readonly latency?: Latency
  /** Probability a message is lost. Default 0. */
  readonly drop?: Ratio
  /** Probability a message is delivered twice. Default 0. */
  readonly duplicate?: Ratio
  /** Overrides by node id. */
  readonly nodes?: Readonly<Record<string, NodeNetworkOptions>>
}

export const DEFAULT_LATENCY: Latency = { min: 10, max: 80 }

/** What a node gives the network to receive messages. */
export interface NetworkPeer {
  onMessage(from: string, topic: string, data: Uint8Array): void
}

export type DropReason = "loss" | "partition" | "sender-down" | "receiver-down"

/** A message in flight. */
interface Message {
  /** Message number, shared by a message and its duplicate. */
  readonly id: number
  readonly from: string
  readonly to: string
  readonly topic: string
  readonly data: Uint8Array
  /** True for the extra copy made by duplication. */
  readonly duplicate: boolean
  readonly sentAt: number
}

/** A message as the observer sees it: with the virtual time of its delivery or drop. */
type MessageInfo = Message & { readonly time: number }
export type NetworkEvent =
  | (MessageInfo & { readonly type: "deliver" })
  | (MessageInfo & { readonly type: "drop"; readonly reason: DropReason })

/** What the network is built from (the js-libp2p "components" pattern). */
export interface SimNetworkComponents {
  readonly scheduler: Scheduler
  /** The network's stream; the network derives one child per sender from it. */
  readonly prng: Prng
  /** Sees every delivery (just before the recipient's handler runs) and every drop. */
  readonly observer?: (event: NetworkEvent) => void
}

export interface SimNetworkStats {
  /** Messages sent, one per recipient (a broadcast to n nodes counts n). */
  sent: number
  delivered: number
  duplicated: number
  dropped: Record<DropReason, number>
}


interface Node {
  readonly peer: NetworkPeer
  readonly rng: Prng
  down: boolean
}

const NO_CHANCE: Ratio = { num: 0, den: 1 }

function checkLatency(l: Latency, where: string): Latency {
  if (!(Number.isSafeInteger(l.min) && Number.isSafeInteger(l.max) && l.min >= 0 && l.min <= l.max)) {
    throw new RangeError(`${where}: need whole ms with 0 <= min <= max, got ${JSON.stringify(l)}`)
  }
  return l
}
function checkRatio(r: Ratio, where: string): Ratio {
  if (!(Number.isSafeInteger(r.num) && Number.isSafeInteger(r.den) && r.den >= 1 && r.num >= 0 && r.num <= r.den)) {
    throw new RangeError(`${where}: need a ratio num/den with 0 <= num <= den, got ${JSON.stringify(r)}`)
  }
  return r
}
function checkNode(o: NodeNetworkOptions, where: string): NodeNetworkOptions {
  if (o.latency !== undefined) checkLatency(o.latency, `${where}.latency`)
  if (o.sendDelay !== undefined && !(Number.isSafeInteger(o.sendDelay) && o.sendDelay >= 0)) {
    throw new RangeError(`${where}.sendDelay: need whole ms >= 0, got ${o.sendDelay}`)
  }
  return o
}

export class SimNetwork {
  readonly #scheduler: Scheduler
  readonly #prng: Prng
  readonly #observer: ((event: NetworkEvent) => void) | undefined
  #latency: Latency = DEFAULT_LATENCY
  #drop: Ratio = NO_CHANCE
  #duplicate: Ratio = NO_CHANCE
  #nodeOptions = new Map<string, NodeNetworkOptions>()
  readonly #nodes = new Map<string, Node>()
  /** Registered ids in ascending order: the broadcast order. */
  #ids: string[] = []
  /** Partition group of each listed node; unlisted nodes share group -1. Empty when healed. */
  #group = new Map<string, number>()
  #nextId = 1
  #topology = 0
  readonly #stats: SimNetworkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    dropped: { loss: 0, partition: 0, "sender-down": 0, "receiver-down": 0 },
  }

  /** A network over `components.scheduler`, with the fault model `options`. */
  constructor(components: SimNetworkComponents, options: SimNetworkOptions = {}) {
    this.#scheduler = components.scheduler
    this.#prng = components.prng
    this.#observer = components.observer
    this.configure(options)
  }

  /**
   * Changes the fault model from now on (messages already in flight keep their latency). Fields
   * left out keep their value; each entry of `nodes` replaces that node's overrides.
   */
  configure(options: SimNetworkOptions): void {
    // Validate everything before changing anything, so a bad option never leaves half a config.
    const latency = options.latency && checkLatency(options.latency, "SimNetwork options.latency")
    const drop = options.drop && checkRatio(options.drop, "SimNetwork options.drop")
    const duplicate = options.duplicate && checkRatio(options.duplicate, "SimNetwork options.duplicate")
    const nodes = Object.entries(options.nodes ?? {}).map(([id, o]) => [id, checkNode(o, `SimNetwork options.nodes.${id}`)] as const)
    if (latency) this.#latency = latency
    if (drop) this.#drop = drop
    if (duplicate) this.#duplicate = duplicate
    for (const [id, o] of nodes) this.#nodeOptions.set(id, o)
  }

  /** Attaches a node. Ids are unique; registration order does not affect anything. */
  register(id: string, peer: NetworkPeer): void {
    if (this.#nodes.has(id)) throw new Error(`SimNetwork.register: node ${id} is already registered`)
    this.#nodes.set(id, { peer, rng: this.#prng.child(`send:${id}`), down: false })
    this.#ids = [...this.#nodes.keys()].sort()
    this.#topology++
  }

  /** Registered node ids, ascending. */
  /** The virtual time of the network's scheduler. */
  get now(): number {
    return this.#scheduler.now
  }

  get nodes(): readonly string[] {
    return this.#ids
  }

  /** A counter that changes whenever who can reach whom may have (a node registered, down or up, a partition or heal). */
  get topology(): number {
    return this.#topology
  }

  /** Counters of sends, deliveries and drops by reason (a copy). */
  stats(): SimNetworkStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } }
  }

  /** Sends `data` from one node to another. The bytes are copied: later changes by the sender don't travel. */
  send(from: string, to: string, topic: string, data: Uint8Array): void {
    const sender = this.#node(from, "send")
    this.#node(to, "send")
    this.#send(sender, from, to, topic, data.slice())
  }

  /**
   * Sends `data` to each of `to` (every one registered), in that order: one copy of the bytes,
   * shared by all recipients (what a publish is). Same draws and deliveries as `send` to each in turn.
   */
  multicast(from: string, to: readonly string[], topic: string, data: Uint8Array): void {
    const sender = this.#node(from, "multicast")
    for (const id of to) this.#node(id, "multicast")
    const bytes = data.slice()
    for (const id of to) this.#send(sender, from, id, topic, bytes)
  }

  /** Sends `data` to every other registered node (one copy of the bytes, shared by all recipients). */
  broadcast(from: string, topic: string, data: Uint8Array): void {
    const sender = this.#node(from, "broadcast")
    const bytes = data.slice()
    for (const to of this.#ids) if (to !== from) this.#send(sender, from, to, topic, bytes)
  }

  /** Splits the network: messages between different groups are dropped until `heal()`. */
  partition(groups: readonly (readonly string[])[]): void {
    const group = new Map<string, number>()
    groups.forEach((members, i) => {
      for (const id of members) {
        this.#node(id, "partition")
        if (group.has(id)) throw new Error(`SimNetwork.partition: node ${id} is in two groups`)
        group.set(id, i)
      }
    })
    this.#group = group
    this.#topology++
  }

  /** Ends any partition. */
  heal(): void {
    this.#group = new Map()
    this.#topology++
  }

  /** True if a message from `a` to `b` would be dropped by the current partition. */
  partitioned(a: string, b: string): boolean {
    return this.#group.size > 0 && (this.#group.get(a) ?? -1) !== (this.#group.get(b) ?? -1)
  }

  /** Crashes (`true`) or restarts (`false`) a node's network: a down node neither sends nor receives. */
  setDown(id: string, down: boolean): void {
    this.#node(id, "setDown").down = down
    this.#topology++
  }

  /** Whether a node is down. */
  isDown(id: string): boolean {
    return this.#node(id, "isDown").down
  }

  #node(id: string, op: string): Node {
    const node = this.#nodes.get(id)
    if (node === undefined) throw new Error(`SimNetwork.${op}: unknown node ${id} (registered: ${this.#ids.join(", ") || "none"})`)
    return node
  }

  #send(sender: Node, from: string, to: string, topic: string, data: Uint8Array): void {
    const id = this.#nextId++
    const now = this.#scheduler.now
    this.#stats.sent++
    const msg: Message = { id, from, to, topic, data, duplicate: false, sentAt: now }
    if (sender.down) return this.#dropped(msg, "sender-down")
    if (this.partitioned(from, to)) return this.#dropped(msg, "partition")
    // Draw order is fixed: loss and latency of the original, then duplication, then the copy's.
    this.#transmit(sender, msg)
    if (chanceOf(sender.rng, this.#duplicate)) {
      this.#stats.duplicated++
      this.#transmit(sender, { ...msg, duplicate: true })
    }
  }

  #transmit(sender: Node, msg: Message): void {
    if (chanceOf(sender.rng, this.#drop)) return this.#dropped(msg, "loss")
    const own = this.#nodeOptions.get(msg.from)
    const { min, max } = own?.latency ?? this.#latency
    const delay = sender.rng.range(min, max) + (own?.sendDelay ?? 0)
    this.#scheduler.after(delay, () => this.#arrive(msg), "net.deliver")
  }

  #arrive(msg: Message): void {
    const recipient = this.#nodes.get(msg.to)!
    if (recipient.down) return this.#dropped(msg, "receiver-down")
    if (this.partitioned(msg.from, msg.to)) return this.#dropped(msg, "partition")
    this.#stats.delivered++
    this.#observer?.({ type: "deliver", time: this.#scheduler.now, ...msg })
    recipient.peer.onMessage(msg.from, msg.topic, msg.data)
  }

  #dropped(msg: Message, reason: DropReason): void {
    this.#stats.dropped[reason]++
    this.#observer?.({ type: "drop", reason, time: this.#scheduler.now, ...msg })
  }
}
