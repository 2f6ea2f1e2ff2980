/**
 * Simulated Keys: a deterministic key per node, derived from the run's seed.
 *
 * Two signature schemes:
 *  - `secp256k1` (default): real recoverable ECDSA, exactly what a real node signs;
 *  - simulated: signature = keccak256(key ‖ digest), checked through an oracle that only the run
 *    holds. A node's Keys service can sign only with its own key, so a byzantine node can no more
 *    forge a peer's vote than with ECDSA, but a verification costs a hash instead of an ecrecover —
 *    which is what lets a 64-validator simulation run hundreds of times faster than real time.
 */
import { Effect, Layer } from "effect"
import { addressOfPrivateKey, bytesToHex, keccak256, signDigest, utf8ToBytes, verifySignature } from "../../runtime/core/crypto.ts"
import { Keys, KeysError } from "../../runtime/services/keys.ts"

/** The private key of `node` in the run seeded with `seed` (same inputs, same key). */
export const simPrivateKey = (seed: number, node: string): Uint8Array => keccak256(utf8ToBytes(`dai/sim-key/${seed}/${node}`))

/** The run's registry of keys for the simulated scheme (address → key). */
export class SignatureOracle {
  readonly #keys = new Map<string, Uint8Array>()
  register(address: string, key: Uint8Array): void {
    this.#keys.set(address, key)
  }
  /** keccak256(key ‖ digest) padded to the 65-byte signature size. */
  static mac(key: Uint8Array, digest: Uint8Array): Uint8Array {
    const input = new Uint8Array(key.length + digest.length)
    input.set(key, 0)
    input.set(digest, key.length)
    const out = new Uint8Array(65)
    out.set(keccak256(input), 0)
    return out
  }
  verify(address: string, digest: Uint8Array, signature: Uint8Array): boolean {
    const key = this.#keys.get(address.toLowerCase())
    if (key === undefined || signature.length !== 65 || digest.length !== 32) return false
    return bytesToHex(SignatureOracle.mac(key, digest)) === bytesToHex(signature)
  }
}

export const makeSimKeys = (seed: number, node: string, oracle?: SignatureOracle): Keys["Service"] => {
  const key = simPrivateKey(seed, node)
  const address = addressOfPrivateKey(key)
  oracle?.register(address, key)
  const sign = oracle === undefined ? (digest: Uint8Array) => signDigest(key, digest) : (digest: Uint8Array) => {
    if (digest.length !== 32) throw new RangeError(`a digest has 32 bytes, got ${digest.length}`)
    return SignatureOracle.mac(key, digest)
  }
  return Keys.of({
    address,
    sign: (digest) =>
      Effect.try({
        try: () => sign(digest),
        catch: (e) => new KeysError({ operation: "sign", reason: (e as Error).message }),
      }),
    verify: oracle === undefined ? verifySignature : (a, d, s) => oracle.verify(a, d, s),
  })
}

export const layerSimKeys = (seed: number, node: string, oracle?: SignatureOracle) => Layer.succeed(Keys, makeSimKeys(seed, node, oracle))
