/**
 * Who masks with whom. "full": every pair of clients (Bonawitz et al. 2017). "sparse": SecAgg+ (Bell
 * et al. 2020, as Flower ships it): the clients are placed in a random order on a ring and each one
 * masks with, and shares its secrets among, the `degree` − 1 clients nearest to it on the ring (a
 * random Harary graph, regular of degree k − 1 = O(log n)); its secrets are rebuilt from `threshold`
 * of those k shares. Client cost falls from O(n·d) to O(log n · d); the server's from O(n·d) per
 * dropped client to O(log n · d).
 *
 * The ring order comes from a public seed, SHA-256 of the round id and the sorted ids of the
 * advertised clients (U1), so every client and the server compute the same graph from the adverts
 * with no message of its own, and the server cannot choose it.
 */
import { createHash } from "node:crypto"
import type { SecAggConfig, SecAggGraph } from "./messages.ts"
import { seededRandomBytes } from "./primitives.ts"

export type { SecAggGraph }

/** The neighbourhoods of one round (each includes the client itself). */
export interface Neighbourhoods {
  /** Clients per neighbourhood, itself included (k): the number of shares of each secret. */
  readonly size: number
  /** Shares that rebuild a secret: the global t for "full", the same fraction of k for "sparse". */
  readonly threshold: number
  /** The neighbourhood of `id`, itself included, sorted by id (share i goes to the i-th). */
  readonly of: (id: string) => readonly string[]
  /** Whether `a` and `b` mask with each other (`a` ≠ `b`, both advertised). */
  readonly adjacent: (a: string, b: string) => boolean
}

/**
 * SecAgg+'s neighbourhood size for n clients: 2·⌈1.5·log2 n⌉ + 1 (odd, as Flower requires; 21 at
 * n = 100, 25 at 255), or n when that is not smaller.
 */
export const sparseSize = (n: number): number => Math.min(n, 2 * Math.ceil(1.5 * Math.log2(Math.max(2, n))) + 1)

/** The neighbourhoods over the advertised clients `ids` (U1) of a round with this config. */
export const neighbourhoods = (ids: readonly string[], config: SecAggConfig): Neighbourhoods => {
  const sorted = [...ids].sort()
  const n = sorted.length
  const known = new Set(sorted)
  const size = config.graph === "sparse" ? sparseSize(n) : n
  if (size === n) {
    return { size, threshold: config.threshold, of: (id) => (known.has(id) ? sorted : []), adjacent: (a, b) => a !== b && known.has(a) && known.has(b) }
  }
  // Same fraction of the neighbourhood as t is of U1, at least 2 (one share alone would be the secret).
  const threshold = Math.min(size, Math.max(2, Math.ceil((config.threshold * size) / n)))
  const ring = ringOrder(sorted, config.round)
  const position = new Map(ring.map((id, i) => [id, i]))
  const half = (size - 1) / 2
  const closed = new Map<string, readonly string[]>()
  for (const [i, id] of ring.entries()) {
    const around: string[] = []
    for (let o = -half; o <= half; o++) around.push(ring[(i + o + n) % n]!)
    closed.set(id, around.sort())
  }
  const adjacent = (a: string, b: string): boolean => {
    const pa = position.get(a)
    const pb = position.get(b)
    if (pa === undefined || pb === undefined || a === b) return false
    const d = Math.abs(pa - pb)
    return Math.min(d, n - d) <= half
  }
  return { size, threshold, of: (id) => closed.get(id) ?? [], adjacent }
}

/** A uniformly random order of `sorted` (Fisher–Yates, rejection-sampled) drawn from the public seed. */
const ringOrder = (sorted: readonly string[], round: string): string[] => {
  const seed = createHash("sha256").update(`dai/secagg/graph|${round}|${sorted.join(",")}`, "utf8").digest()
  const random = seededRandomBytes(seed)
  const uint32 = (): number => {
    const b = random(4)
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
  }
  const out = [...sorted]
  for (let i = out.length - 1; i > 0; i--) {
    const bound = i + 1
    const limit = 2 ** 32 - (2 ** 32 % bound)
    let r = uint32()
    while (r >= limit) r = uint32()
    const j = r % bound
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
