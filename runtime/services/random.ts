/**
 * A node's randomness, as a port: the seed's stream in the simulator (sim/adapters/random.ts), the
 * operating system's on a real node (runtime/adapters/random.ts). Actors draw salts, secure-aggregation
 * keys and DP noise from it, never from the host directly.
 */
export interface NodeRandom {
  /** `n` uniformly random bytes. */
  bytes(n: number): Uint8Array
  /** A standard normal draw (DP noise). */
  normal(): number
}
