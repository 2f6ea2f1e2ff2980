/**
 * Keys port: this node's signing key. Signatures are secp256k1 over 32-byte digests, recoverable
 * (r ‖ s ‖ v, 65 bytes), so the contracts can check them with `ecrecover`.
 *
 * Real backend: an encrypted keystore (ethers JSON wallet). Simulated backend: keys derived from
 * the run's seed and the node id. Verification needs no key and lives in runtime/core/crypto.ts.
 */
import { Context, type Effect, Schema } from "effect"

export class KeysError extends Schema.TaggedError<KeysError>()("KeysError", {
  operation: Schema.String,
  reason: Schema.String,
}) {}

export class Keys extends Context.Service<Keys, {
  /** The 20-byte address of the key, as 0x-prefixed lowercase hex. */
  readonly address: string
  /** Sign a 32-byte digest; returns a 65-byte recoverable signature. */
  sign(digest: Uint8Array): Effect.Effect<Uint8Array, KeysError>
}>()("dai/Keys") {}
