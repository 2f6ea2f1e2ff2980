/**
 * A bounded buffer of messages for a height the machine cannot use yet (it has no validator set
 * for it until the node starts that height). When full it refuses new messages rather than
 * evicting old ones: the oldest are the most likely to be useful, and the node's gossip resends
 * what a lagging peer still needs. It also remembers who sent messages for each buffered height,
 * which tells a node that has just decided whether the network has already moved on.
 */
export class HeightBuffer<E extends { readonly height: number }> {
  readonly capacity: number
  readonly #sendersOf: (item: E) => readonly string[]
  #items: E[] = []
  readonly #senders = new Map<number, Set<string>>()

  /** A buffer of at most `capacity` items; `sendersOf` names the signers of an item. */
  constructor(capacity: number, sendersOf: (item: E) => readonly string[] = () => []) {
    this.capacity = capacity
    this.#sendersOf = sendersOf
  }

  get size(): number {
    return this.#items.length
  }

  /** Keep `item`; false when the buffer is full. */
  push(item: E): boolean {
    if (this.#items.length >= this.capacity) return false
    this.#items.push(item)
    let senders = this.#senders.get(item.height)
    if (senders === undefined) this.#senders.set(item.height, (senders = new Set()))
    for (const s of this.#sendersOf(item)) senders.add(s)
    return true
  }

  /** Who signed the buffered items of `height`. */
  senders(height: number): ReadonlySet<string> {
    return this.#senders.get(height) ?? new Set()
  }

  /** Remove and return the items of `height` (in arrival order), dropping any of lower heights. */
  take(height: number): E[] {
    const now = this.#items.filter((e) => e.height === height)
    this.#items = this.#items.filter((e) => e.height > height)
    for (const h of this.#senders.keys()) if (h <= height) this.#senders.delete(h)
    return now
  }
}
