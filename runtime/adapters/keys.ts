/**
 * The Keys port over a raw secp256k1 private key: real recoverable ECDSA, as the contracts check it
 * with `ecrecover`. The encrypted keystore (an ethers JSON wallet) will unlock a key and hand it here.
 */
import { Effect, Layer } from "effect"
import { addressOfPrivateKey, signDigest, verifySignature } from "../core/crypto.ts"
import { Keys, KeysError } from "../services/keys.ts"

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The Keys port for `privateKey` (32 bytes, a valid secp256k1 scalar); a bad key is a KeysError. */
export const makeKeysFromPrivateKey = (privateKey: Uint8Array): Effect.Effect<Keys["Service"], KeysError> =>
  Effect.try({
    try: () => {
      if (privateKey.length !== 32) throw new Error(`a secp256k1 private key has 32 bytes, got ${privateKey.length}`)
      // A copy: the caller may wipe its buffer once the key is loaded.
      const key = privateKey.slice()
      const address = addressOfPrivateKey(key)
      return Keys.of({
        address,
        sign: (digest) =>
          Effect.try({
            try: () => signDigest(key, digest),
            catch: (e) => new KeysError({ operation: "sign", reason: errorText(e) }),
          }),
        verify: (signer, digest, signature) => {
          try {
            return verifySignature(signer, digest, signature)
          } catch {
            return false // malformed input from a peer is an invalid signature, not a crash
          }
        },
      })
    },
    catch: (e) => new KeysError({ operation: "load", reason: `not a usable private key: ${errorText(e)}` }),
  })

/** The Keys port for `privateKey`, as a layer. */
export const layerKeysFromPrivateKey = (privateKey: Uint8Array): Layer.Layer<Keys, KeysError> =>
  Layer.effect(Keys, makeKeysFromPrivateKey(privateKey))
