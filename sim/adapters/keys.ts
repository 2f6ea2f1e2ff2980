/** Simulated Keys: a deterministic secp256k1 key per node, derived from the run's seed. */
import { Effect, Layer } from "effect"
import { addressOfPrivateKey, keccak256, signDigest, utf8ToBytes } from "../../runtime/core/crypto.ts"
import { Keys, KeysError } from "../../runtime/services/keys.ts"

/** The private key of `node` in the run seeded with `seed` (same inputs, same key). */
export const simPrivateKey = (seed: number, node: string): Uint8Array => keccak256(utf8ToBytes(`dai/sim-key/${seed}/${node}`))

export const makeSimKeys = (seed: number, node: string): Keys["Service"] => {
  const key = simPrivateKey(seed, node)
  return Keys.of({
    address: addressOfPrivateKey(key),
    sign: (digest) =>
      Effect.try({
        try: () => signDigest(key, digest),
        catch: (e) => new KeysError({ operation: "sign", reason: (e as Error).message }),
      }),
  })
}

export const layerSimKeys = (seed: number, node: string) => Layer.succeed(Keys, makeSimKeys(seed, node))
