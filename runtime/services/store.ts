/**
 * Store port: the node's durable key-value state (slashing protection, last committed height, keys
 * of its positions).
 *
 * A write is durable only after `sync`: the simulated store loses unsynced writes when its node
 * crashes, exactly like a file system without fsync, so code that must never forget something
 * (what a validator signed) syncs before it acts. Real backend: `node:sqlite` in the data dir.
 */
import { Context, type Effect, Schema } from "effect"

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  key: Schema.String,
  reason: Schema.String,
}) {}

export class Store extends Context.Service<Store, {
  get(key: string): Effect.Effect<Uint8Array | undefined, StoreError>
  /** Store `value`'s bytes as they are now: a store keeps its own copy and never changes `value` (callers may share it). */
  put(key: string, value: Uint8Array): Effect.Effect<void, StoreError>
  /**
   * Store the concatenation of `parts`, exactly as `put` of the joined bytes would (reads return the
   * joined bytes). For a value assembled from pieces that other values share — a simulated world's
   * nodes store commit certificates that differ from one another in a vote or two — a store may keep
   * sealed parts (runtime/core/sealed-bytes.ts) as they are instead of joining them.
   */
  putParts(key: string, parts: readonly Uint8Array[]): Effect.Effect<void, StoreError>
  delete(key: string): Effect.Effect<void, StoreError>
  /** Keys starting with `prefix`, in ascending order. */
  keys(prefix: string): Effect.Effect<readonly string[], StoreError>
  /** Make every write so far durable. */
  readonly sync: Effect.Effect<void, StoreError>
}>()("dai/Store") {}
