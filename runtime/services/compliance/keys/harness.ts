/**
 * What the Keys suite's topics share. A setup returns two keys of one world — this node's and a
 * peer's, as two nodes of one network hold them — and a way to load this node's key again, as a
 * restarted node does (from the keystore, or from the run's seed).
 */
import { Effect, Exit } from "effect"
import { keccak256, utf8ToBytes } from "../../../core/crypto.ts"
import type { Keys, KeysError } from "../../keys.ts"
import type { TestSetup } from "../test-setup.ts"

export interface KeysHarness {
  /** This node's key. */
  readonly self: Keys["Service"]
  /** Another node's key in the same world (its signatures are what `self` must verify). */
  readonly peer: Keys["Service"]
  /** This node's key loaded again, as after a restart. */
  reload(): Promise<Keys["Service"]>
}

/** How the Keys suite gets a world with two keys. */
export type KeysSetup = TestSetup<KeysHarness>

export interface KeysSuiteOptions {
  /**
   * The world signs with recoverable secp256k1 (r ‖ s ‖ v, v = 27 or 28), so `ecrecover` finds the
   * signer — what the contracts check. The simulator's hash-based scheme (sim/adapters/keys.ts) does
   * not, and says so by leaving this false.
   */
  readonly recoverable?: boolean
}

/** A 32-byte digest of `label`. */
export const digestOf = (label: string): Uint8Array => keccak256(utf8ToBytes(label))

/** Sign and expect success. */
export const sign = (keys: Keys["Service"], digest: Uint8Array): Uint8Array => Effect.runSync(keys.sign(digest))

/** Sign and expect a failure; returns it (a throw or a defect fails the test). */
export const signFailure = (keys: Keys["Service"], digest: Uint8Array): KeysError => {
  const exit = Effect.runSyncExit(keys.sign(digest))
  if (Exit.isSuccess(exit)) throw new Error(`signing a ${digest.length}-byte digest succeeded`)
  const error = exit.cause.reasons.map((r) => ("error" in r ? r.error : undefined)).find((e) => e !== undefined)
  if (error === undefined) throw new Error(`signing a ${digest.length}-byte digest died instead of failing: ${String(exit.cause)}`)
  return error
}

/** `signature` with one bit of byte `at` flipped. */
export const flipBit = (signature: Uint8Array, at: number, bit = 0): Uint8Array => {
  const out = signature.slice()
  out[at] = out[at]! ^ (1 << bit)
  return out
}
