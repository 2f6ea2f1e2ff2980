/**
 * Keys port: this node's signing key. Signatures are secp256k1 over 32-byte digests, recoverable
 * (r ‖ s ‖ v, 65 bytes), so the contracts can check them with `ecrecover`.
 *
 * Real backend: an encrypted keystore (ethers JSON wallet). Simulated backend: keys derived from
 * the run's seed and the node id, signing with secp256k1 or — for large simulations, where an
 * ecrecover per delivered vote would dominate the run — with a simulated signature scheme whose
 * oracle only the run holds (a node can still sign only with its own key; see sim/adapters/keys.ts).
 * `verify` is the scheme's check, so a node verifies peers' signatures the way its world signs.
 */
import { Context, type Effect, Schema } from "effect"

export class KeysError extends Schema.TaggedError<KeysError>()("KeysError", {
  operation: Schema.String,
  reason: Schema.String,
}) {}

export class Keys extends Context.Service<Keys, {
  /** The 20-byte address of the key, as 0x-prefixed lowercase hex. */
  readonly address: string
  /** Sign a 32-byte digest; returns a 65-byte signature. */
  sign(digest: Uint8Array): Effect.Effect<Uint8Array, KeysError>
  /** True when `signature` over `digest` was made by `address` (any key, not only this node's). */
  verify(address: string, digest: Uint8Array, signature: Uint8Array): boolean
}>()("dai/Keys") {}
