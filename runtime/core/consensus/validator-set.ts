/**
 * The validator set of one epoch: who may propose and vote, and with what power.
 *
 * Order is deterministic (power descending, then address ascending, as CometBFT orders it), so
 * every node derives the same proposer sequence and the same set hash from the same validators.
 * Thresholds are exact integers: `quorum` is the smallest power strictly above 2/3 of the total
 * (what 2f+1 stands for with unequal powers), `fPlusOne` the smallest strictly above 1/3.
 */
import { keccak256, toHex } from "../crypto.ts"
import { encodePacked, type Packed } from "./packed.ts"
import type { Address, Hash } from "./types.ts"

export interface Validator {
  readonly address: Address
  readonly power: bigint
}

/**
 * Power as vote counting adds it up: a number when the set's total power is a safe integer (every
 * sum of its validators' powers then is one too, and adding numbers allocates nothing), else a
 * bigint. One set uses one kind throughout; `amountOf` turns either back into a bigint.
 */
export type Amount = number | bigint

/** The powers of a set's validators, in set order, and its thresholds, as counting adds them up. */
export interface Counting {
  readonly powers: readonly Amount[]
  readonly zero: Amount
  readonly quorum: Amount
  readonly fPlusOne: Amount
}

/** a + b, of one kind. */
export const plus = (a: Amount, b: Amount): Amount => (typeof a === "number" ? a + (b as number) : a + (b as bigint))
/** a − b, of one kind. */
export const minus = (a: Amount, b: Amount): Amount => (typeof a === "number" ? a - (b as number) : a - (b as bigint))
/** An amount as a bigint. */
export const amountOf = (a: Amount): bigint => (typeof a === "number" ? BigInt(a) : a)

const ADDRESS = /^0x[0-9a-f]{40}$/

/**
 * Hashes of recent sets by their content (start height, then address and power in set order): the
 * replicas of one process (a simulated world's nodes) each build their own set object of the same
 * validators, and the hash is a keccak over all of them. A few entries, oldest dropped first.
 */
const recentHashes = new Map<string, Hash>()
const RECENT_HASHES = 8

export class ValidatorSet {
  /** Validators by power descending, then address ascending. */
  readonly validators: readonly Validator[]
  readonly totalPower: bigint
  /** Smallest power > 2/3 of the total: enough to decide (2f+1). */
  readonly quorum: bigint
  /** Smallest power > 1/3 of the total: at least one honest validator among them (f+1). */
  readonly fPlusOne: bigint
  /** First height this set is active at (the start of its epoch); the proposer sequence starts here. */
  readonly startHeight: number
  readonly #index: ReadonlyMap<Address, number>
  #hash: Hash | undefined
  #counting: Counting | undefined
  readonly #positions = new WeakMap<object, Int32Array>()

  private constructor(validators: readonly Validator[], startHeight: number) {
    this.validators = validators
    this.startHeight = startHeight
    this.totalPower = validators.reduce((s, v) => s + v.power, 0n)
    this.quorum = (this.totalPower * 2n) / 3n + 1n
    this.fPlusOne = this.totalPower / 3n + 1n
    this.#index = new Map(validators.map((v, i) => [v.address, i]))
  }

  /**
   * A set from validators in any order. Throws a RangeError on an empty set, a malformed or
   * repeated address, a non-positive power, or a start height below 1: a set is built from the
   * application's own state, so a bad one is a bug to surface, not input to tolerate.
   */
  static from(validators: Iterable<Validator>, startHeight = 1): ValidatorSet {
    const list = [...validators].map((v) => ({ address: v.address, power: v.power }))
    if (list.length === 0) throw new RangeError("a validator set needs at least one validator")
    if (!Number.isSafeInteger(startHeight) || startHeight < 1) throw new RangeError(`bad start height ${startHeight}`)
    const seen = new Set<Address>()
    for (const v of list) {
      if (!ADDRESS.test(v.address)) throw new RangeError(`validator address must be 0x + 40 lowercase hex digits: ${v.address}`)
      if (v.power <= 0n) throw new RangeError(`validator ${v.address}: power must be positive, got ${v.power}`)
      if (seen.has(v.address)) throw new RangeError(`validator ${v.address} appears twice`)
      seen.add(v.address)
    }
    list.sort(compareValidators)
    return new ValidatorSet(Object.freeze(list.map((v) => Object.freeze(v))), startHeight)
  }

  get size(): number {
    return this.validators.length
  }

  /** Position in `validators`, or -1. */
  indexOf(address: Address): number {
    return this.#index.get(address) ?? -1
  }

  /**
   * `indexOf` of each entry's validator, in list order. Remembered for a frozen list (a certificate's
   * votes: codec.ts `certificateVotes`), which cannot change after: the replicas of a simulated world
   * that count the same list against the same set look it up once. Any other list is looked up anew.
   * Read only: the array may be shared.
   */
  positions(list: readonly { readonly validator: Address }[]): Int32Array {
    const frozen = Object.isFrozen(list)
    const known = frozen ? this.#positions.get(list) : undefined
    if (known !== undefined) return known
    const positions = new Int32Array(list.length)
    for (let i = 0; i < list.length; i++) positions[i] = this.indexOf(list[i]!.validator)
    if (frozen) this.#positions.set(list, positions)
    return positions
  }

  has(address: Address): boolean {
    return this.#index.has(address)
  }

  get(address: Address): Validator | undefined {
    const i = this.#index.get(address)
    return i === undefined ? undefined : this.validators[i]
  }

  /** Voting power of `address`; 0 when it is not in the set. */
  power(address: Address): bigint {
    return this.get(address)?.power ?? 0n
  }

  /** The powers and thresholds as vote counting adds them up (see `Amount`). */
  get counting(): Counting {
    if (this.#counting === undefined) {
      const small = this.totalPower <= BigInt(Number.MAX_SAFE_INTEGER)
      const amount = (p: bigint): Amount => (small ? Number(p) : p)
      this.#counting = Object.freeze({
        powers: Object.freeze(this.validators.map((v) => amount(v.power))),
        zero: amount(0n),
        quorum: amount(this.quorum),
        fPlusOne: amount(this.fPlusOne),
      })
    }
    return this.#counting
  }

  /**
   * keccak256(abi.encodePacked("dai/validators/v1", uint256 startHeight, (address, uint256 power)...))
   * in set order: what a block or a light client can commit to.
   */
  hash(): Hash {
    if (this.#hash === undefined) {
      let content = String(this.startHeight)
      for (const v of this.validators) content += `,${v.address}:${v.power}`
      let hash = recentHashes.get(content)
      if (hash === undefined) {
        const args: Packed[] = [{ t: "string", v: "dai/validators/v1" }, { t: "uint256", v: this.startHeight }]
        for (const v of this.validators) args.push({ t: "address", v: v.address }, { t: "uint256", v: v.power })
        hash = toHex(keccak256(encodePacked(...args)))
        if (recentHashes.size >= RECENT_HASHES) recentHashes.delete(recentHashes.keys().next().value!)
        recentHashes.set(content, hash)
      }
      this.#hash = hash
    }
    return this.#hash
  }
}

/** Power descending, then address ascending. */
export const compareValidators = (a: Validator, b: Validator): number =>
  a.power !== b.power ? (a.power > b.power ? -1 : 1) : a.address < b.address ? -1 : a.address > b.address ? 1 : 0
