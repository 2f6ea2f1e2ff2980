/**
 * The client side of secure aggregation (Bonawitz et al. 2017, honest-but-curious server variant:
 * no signatures, no consistency-check round). Call the steps in order; each returns the message to
 * send. Every random byte comes from the injected `randomBytes`, so a client is deterministic.
 *
 *   advertise()                       → Advert                 (two fresh X25519 key pairs)
 *   shareKeys(adverts)                → SharesMessage          (t-of-k shares of b_u and s_u^SK, sealed per neighbour)
 *   receiveShares(shares)             → void                   (the sealed shares addressed to this client: defines U2)
 *   maskedInput(q)                    → MaskedInput            (q + PRG(b_u) + Σ_v ±PRG(s_{u,v}) mod 2^32)
 *   unmaskResponse(survivors, dropped) → UnmaskResponse        (b-shares of survivors, key shares of the dropped; never both for one peer)
 *
 * Neighbours (graph.ts): with config.graph "full" (the default) every advertised client, k = |U1|;
 * with "sparse" (SecAgg+) the k − 1 nearest on the round's random ring, with a threshold of t/|U1| of k.
 */
import type { KeyObject } from "node:crypto"
import {
  checkConfig, decodeSharePair, encodeSharePair, ENCRYPTION_PURPOSE, MASK_PURPOSE, SecAggAbort, SecAggError, shareAad,
  type Advert, type EncryptedShare, type HeldShare, type MaskedInput, type SecAggConfig, type SecAggStage, type SharesMessage, type UnmaskResponse,
} from "./messages.ts"
import { neighbourhoods, type Neighbourhoods } from "./graph.ts"
import { accumulate, agree, expandMask, keyPairFromSeed, MAX_SHARES, open, rawPrivateKey, seal, shamirSplit, type KeyPair, type RandomBytes } from "./primitives.ts"

const STEPS = ["advertise", "shareKeys", "receiveShares", "maskedInput", "unmaskResponse", "done"] as const
type Step = (typeof STEPS)[number]
const STAGE_OF: Record<Step, SecAggStage> = {
  advertise: "advertise",
  shareKeys: "share-keys",
  receiveShares: "share-keys",
  maskedInput: "masked-input",
  unmaskResponse: "unmask",
  done: "unmask",
}

/** Shares this client holds for one peer (including itself). */
interface Held {
  readonly seedShare: Uint8Array
  readonly keyShare: Uint8Array
}

export class SecAggClient {
  readonly id: string
  readonly #config: SecAggConfig
  readonly #randomBytes: RandomBytes
  #next: Step = "advertise"
  #encryption: KeyPair | undefined
  #mask: KeyPair | undefined
  #selfSeed: Uint8Array | undefined
  /** U1: advertised peers by id (including this client). */
  #adverts = new Map<string, Advert>()
  /** Who masks with whom, from U1. */
  #graph: Neighbourhoods | undefined
  /** U2: peers whose shares this client holds (including itself). */
  #held = new Map<string, Held>()

  constructor(options: { readonly id: string; readonly config: SecAggConfig; readonly randomBytes: RandomBytes }) {
    checkConfig(options.config)
    if (typeof options.id !== "string" || options.id.length === 0) throw new RangeError("a secagg client id must be a non-empty string")
    this.id = options.id
    this.#config = options.config
    this.#randomBytes = options.randomBytes
  }

  #enter(step: Step): void {
    if (this.#next !== step) {
      throw new SecAggError({ stage: STAGE_OF[step], reason: `client ${this.id}: ${step}() called out of order (expected ${this.#next}())` })
    }
    this.#next = STEPS[STEPS.indexOf(step) + 1]!
  }

  #fail(step: Step, reason: string): never {
    throw new SecAggError({ stage: STAGE_OF[step], reason: `client ${this.id}: ${reason}` })
  }

  #bytes(n: number): Uint8Array {
    const b = this.#randomBytes(n)
    if (b.length !== n) throw new RangeError(`randomBytes(${n}) returned ${b.length} bytes`)
    return b
  }

  /** Stage 0: fresh encryption and masking key pairs; send their public halves. */
  advertise(): Advert {
    this.#enter("advertise")
    this.#encryption = keyPairFromSeed(this.#bytes(32))
    this.#mask = keyPairFromSeed(this.#bytes(32))
    return { id: this.id, encryptionKey: this.#encryption.publicKey, maskKey: this.#mask.publicKey }
  }

  /** Stage 1: given U1's adverts (including ours), share b_u and s_u^SK among our neighbourhood and seal each neighbour's pair. */
  shareKeys(adverts: readonly Advert[]): SharesMessage {
    this.#enter("shareKeys")
    const { threshold, round } = this.#config
    for (const a of adverts) {
      if (this.#adverts.has(a.id)) this.#fail("shareKeys", `advert of "${a.id}" appears twice`)
      if (a.encryptionKey.length !== 32 || a.maskKey.length !== 32) this.#fail("shareKeys", `advert of "${a.id}" has keys that are not 32 bytes`)
      this.#adverts.set(a.id, a)
    }
    const mine = this.#adverts.get(this.id)
    if (!mine || !bytesEqual(mine.maskKey, this.#mask!.publicKey) || !bytesEqual(mine.encryptionKey, this.#encryption!.publicKey)) {
      this.#fail("shareKeys", "the advert list does not contain this client's own advert")
    }
    const n = this.#adverts.size
    if (n < threshold) {
      throw new SecAggAbort({ stage: "share-keys", reason: `only ${n} clients advertised keys, below the threshold t = ${threshold}` })
    }
    if (n > MAX_SHARES) this.#fail("shareKeys", `${n} clients advertised: Shamir sharing in GF(2^8) allows at most ${MAX_SHARES}`)
    this.#graph = neighbourhoods([...this.#adverts.keys()], this.#config)
    const ids = this.#graph.of(this.id)
    const k = this.#graph.threshold
    this.#selfSeed = this.#bytes(32)
    const seedShares = shamirSplit(this.#selfSeed, ids.length, k, (m) => this.#bytes(m))
    const keyShares = shamirSplit(rawPrivateKey(this.#mask!.privateKey), ids.length, k, (m) => this.#bytes(m))
    const shares: EncryptedShare[] = []
    ids.forEach((to, i) => {
      const pair = { seedShare: seedShares[i]!, keyShare: keyShares[i]! }
      if (to === this.id) {
        this.#held.set(this.id, pair)
        return
      }
      const key = this.#agree(this.#encryption!.privateKey, this.#adverts.get(to)!.encryptionKey, ENCRYPTION_PURPOSE, "shareKeys", to)
      const ciphertext = seal(key, encodeSharePair(pair.seedShare, pair.keyShare), shareAad(round, this.id, to), (k) => this.#bytes(k))
      shares.push({ from: this.id, to, ciphertext })
    })
    return { from: this.id, shares }
  }

  /** Stage 1 → 2: the sealed shares the server relays to us, one per other member of U2. */
  receiveShares(shares: readonly EncryptedShare[]): void {
    this.#enter("receiveShares")
    const { round, threshold } = this.#config
    for (const s of shares) {
      if (s.to !== this.id) this.#fail("receiveShares", `a share from "${s.from}" is addressed to "${s.to}"`)
      if (s.from === this.id || this.#held.has(s.from)) this.#fail("receiveShares", `more than one share from "${s.from}"`)
      const advert = this.#adverts.get(s.from)
      if (!advert) this.#fail("receiveShares", `a share from "${s.from}", who did not advertise keys`)
      if (!this.#graph!.adjacent(this.id, s.from)) this.#fail("receiveShares", `a share from "${s.from}", who is not a neighbour in this round's graph`)
      const key = this.#agree(this.#encryption!.privateKey, advert.encryptionKey, ENCRYPTION_PURPOSE, "receiveShares", s.from)
      const plain = open(key, s.ciphertext, shareAad(round, s.from, this.id))
      const pair = plain && decodeSharePair(plain)
      if (!pair) this.#fail("receiveShares", `the share from "${s.from}" does not decrypt (tampered or misrouted)`)
      this.#held.set(s.from, pair)
    }
    const need = this.#graph!.threshold
    if (this.#held.size < need) {
      const who = this.#config.graph === "sparse" ? `of the ${this.#graph!.size} in this client's neighbourhood ` : ""
      const t = need === threshold ? `the threshold t = ${threshold}` : `the neighbourhood threshold ${need}`
      throw new SecAggAbort({ stage: "share-keys", reason: `only ${this.#held.size} clients ${who}shared their keys, below ${t}` })
    }
  }

  /** Stage 2: the quantized input masked by the self mask and one pairwise mask per other member of U2. */
  maskedInput(input: Uint32Array): MaskedInput {
    this.#enter("maskedInput")
    const { length } = this.#config
    if (!(input instanceof Uint32Array) || input.length !== length) {
      this.#fail("maskedInput", `the input must be a Uint32Array of length ${length}, got ${input?.length}`)
    }
    const out = Uint32Array.from(input)
    const plus: Uint32Array[] = [expandMask(this.#selfSeed!, length)]
    const minus: Uint32Array[] = []
    for (const peer of this.#held.keys()) {
      if (peer === this.id) continue
      const seed = this.#agree(this.#mask!.privateKey, this.#adverts.get(peer)!.maskKey, MASK_PURPOSE, "maskedInput", peer)
      // The smaller id adds the shared mask, the larger subtracts it: the pair cancels in the sum.
      ;(this.id < peer ? plus : minus).push(expandMask(seed, length))
      // Masks are added MASK_BATCH at a time in one pass over `out` (fewer passes, bounded memory).
      if (plus.length + minus.length >= MASK_BATCH) {
        accumulate(out, plus, minus)
        plus.length = 0
        minus.length = 0
      }
    }
    accumulate(out, plus, minus)
    return { from: this.id, masked: out }
  }

  /**
   * Stage 4: for each survivor its self-mask seed share, for each dropped peer its mask-key share.
   * Refuses a request that is not a partition of U2 with at least t survivors: revealing both
   * shares of one peer would unmask its input.
   */
  unmaskResponse(survivors: readonly string[], dropped: readonly string[]): UnmaskResponse {
    this.#enter("unmaskResponse")
    const { threshold } = this.#config
    const alive = new Set(survivors)
    const gone = new Set(dropped)
    if (alive.size !== survivors.length || gone.size !== dropped.length) this.#fail("unmaskResponse", "the survivor or dropped list repeats an id")
    for (const id of alive) {
      if (gone.has(id)) this.#fail("unmaskResponse", `"${id}" is listed both as survivor and as dropped (that would reveal its input)`)
    }
    // Every listed neighbour must have shared keys with us (a non-neighbour, under "sparse", need only have advertised).
    for (const id of [...alive, ...gone]) {
      if (!this.#held.has(id) && (id === this.id || this.#graph!.adjacent(this.id, id) || !this.#adverts.has(id))) {
        this.#fail("unmaskResponse", `"${id}" did not share keys in this round`)
      }
    }
    const missing = [...this.#held.keys()].filter((id) => !alive.has(id) && !gone.has(id))
    if (missing.length > 0) this.#fail("unmaskResponse", `the request does not cover ${missing.join(", ")}`)
    if (!alive.has(this.id)) this.#fail("unmaskResponse", "this client is not among the survivors")
    if (alive.size < threshold) {
      throw new SecAggAbort({ stage: "unmask", reason: `only ${alive.size} masked inputs arrived, below the threshold t = ${threshold}` })
    }
    const held = (ids: Set<string>, pick: (h: Held) => Uint8Array): HeldShare[] =>
      [...ids].filter((owner) => this.#held.has(owner)).sort().map((owner) => ({ owner, share: pick(this.#held.get(owner)!) }))
    return { from: this.id, seedShares: held(alive, (h) => h.seedShare), keyShares: held(gone, (h) => h.keyShare) }
  }

  #agree(privateKey: KeyObject, publicKey: Uint8Array, purpose: string, step: Step, peer: string): Uint8Array {
    try {
      return agree(privateKey, publicKey, this.#config.round, purpose)
    } catch (e) {
      return this.#fail(step, `key agreement with "${peer}" failed (${e instanceof Error ? e.message : String(e)})`)
    }
  }
}

/** Pairwise masks expanded before they are added in one pass (8 × 800 KB at 200k parameters). */
const MASK_BATCH = 8

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
