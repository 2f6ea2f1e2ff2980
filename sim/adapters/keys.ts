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
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { Effect } from "effect"
import { addressOfPublicKey, keccak256, signDigest, utf8ToBytes, verifySignature } from "../../runtime/core/crypto.ts"
import { Keys, KeysError } from "../../runtime/services/keys.ts"

/** The private key of `node` in the run seeded with `seed` (same inputs, same key). */
export const simPrivateKey = (seed: number, node: string): Uint8Array => keccak256(utf8ToBytes(`dai/sim-key/${seed}/${node}`))

/** Addresses of simulated keys already derived in this process, by `seed/node` (bounded). */
const addresses = new Map<string, string>()
const MAX_ADDRESSES = 4_096

/**
 * The address of `node`'s key in the run seeded with `seed` (= `addressOfPrivateKey(simPrivateKey(...))`).
 * Deriving a public key was ~8 % of a small run's CPU. A simulated key is public knowledge (it derives
 * from the seed), so the variable-time multiplication is safe here and about twice as fast as the
 * constant-time one; and a sweep runs the same few seeds over and over, so addresses are remembered.
 */
export const simAddress = (seed: number, node: string, key: Uint8Array = simPrivateKey(seed, node)): string => {
  const id = `${seed}/${node}`
  let address = addresses.get(id)
  if (address === undefined) {
    address = addressOfPublicKey(secp256k1.Point.BASE.multiplyUnsafe(secp256k1.Point.Fn.fromBytes(key)).toBytes(false))
    if (addresses.size >= MAX_ADDRESSES) addresses.clear()
    addresses.set(id, address)
  }
  return address
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")

/** The run's registry of keys for the simulated scheme (address → key). */
export class SignatureOracle {
  readonly #keys = new Map<string, Uint8Array>()
  /**
   * (address, digest, signature) triples found valid: every node checks every signature it
   * receives, and a keccak costs ~5 µs against ~0.3 µs for this key. One run's signatures only.
   */
  readonly #valid = new Set<string>()
  /**
   * `verify` as one function for every node of the run: the consensus node remembers the messages a
   * verify function accepted (consensus-node.ts acceptedBy), so nodes sharing it check each once.
   */
  readonly verifier = (address: string, digest: Uint8Array, signature: Uint8Array): boolean => this.verify(address, digest, signature)
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
    const normalized = address.toLowerCase()
    const key = this.#keys.get(normalized)
    if (key === undefined || signature.length !== 65 || digest.length !== 32) return false
    const triple = `${normalized}/${hex(digest)}/${hex(signature)}`
    if (this.#valid.has(triple)) return true
    const expected = SignatureOracle.mac(key, digest)
    for (let i = 0; i < 65; i++) if (expected[i] !== signature[i]) return false
    this.#valid.add(triple)
    return true
  }
}

export const makeSimKeys = (seed: number, node: string, oracle?: SignatureOracle): Keys["Service"] => {
  const key = simPrivateKey(seed, node)
  const address = simAddress(seed, node, key)
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
    verify: oracle === undefined ? verifySignature : oracle.verifier,
  })
}
