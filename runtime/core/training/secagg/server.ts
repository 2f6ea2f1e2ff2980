/**
 * The server side of secure aggregation: it relays messages, learns which clients survived each
 * stage, and in the end learns only the sum of the survivors' inputs mod 2^32.
 *
 *   receiveAdvert(a)            … closeAdvertise()    → Advert[]                       (U1, to every client)
 *   receiveShares(m)            … closeShareKeys()    → Map<recipient, EncryptedShare[]> (U2, each client gets its own)
 *   receiveMaskedInput(m)       … closeMaskedInput()  → UnmaskRequest                  (U3 survivors, U2 \ U3 dropped)
 *   receiveUnmaskResponse(r)    … finish()            → Uint32Array                    (Σ_{u∈U3} x_u mod 2^32)
 *
 * A `close*()` or `finish()` with fewer than t participants throws SecAggAbort({ stage, reason }); under
 * the "sparse" graph (SecAgg+) so does one where a client whose secrets are needed has fewer than the
 * neighbourhood threshold of its neighbours left to rebuild them.
 * A `receive*()` of a malformed, duplicate, late or unknown sender's message throws SecAggError and
 * records nothing: the caller drops that message (its sender then counts as dropped).
 */
import {
  checkConfig, SecAggAbort, SecAggError, MASK_PURPOSE,
  type Advert, type EncryptedShare, type MaskedInput, type SecAggConfig, type SecAggStage, type SharesMessage, type UnmaskRequest, type UnmaskResponse,
} from "./messages.ts"
import { neighbourhoods, type Neighbourhoods } from "./graph.ts"
import { accumulate, agree, expandMask, keyPairFromSeed, shamirCombine } from "./primitives.ts"

type Phase = SecAggStage | "finished"

export class SecAggServer {
  readonly #config: SecAggConfig
  #phase: Phase = "advertise"
  readonly #adverts = new Map<string, Advert>()
  readonly #shares = new Map<string, SharesMessage>()
  readonly #inputs = new Map<string, Uint32Array>()
  readonly #responses = new Map<string, UnmaskResponse>()
  #request: UnmaskRequest | undefined
  #graph: Neighbourhoods | undefined

  constructor(config: SecAggConfig) {
    checkConfig(config)
    this.#config = config
  }

  /** The stage the server is collecting messages for ("finished" after finish()). */
  get stage(): Phase {
    return this.#phase
  }

  #expect(stage: SecAggStage, what: string): void {
    if (this.#phase !== stage) throw new SecAggError({ stage, reason: `${what} while the server is at ${this.#phase}` })
  }

  #abortBelow(stage: SecAggStage, count: number, what: string): void {
    const t = this.#config.threshold
    if (count < t) throw new SecAggAbort({ stage, reason: `only ${count} ${what}, below the threshold t = ${t}` })
  }

  /** Stage 0: one client's public keys. */
  receiveAdvert(a: Advert): void {
    this.#expect("advertise", `an advert from "${a.id}"`)
    if (typeof a.id !== "string" || a.id.length === 0) throw new SecAggError({ stage: "advertise", reason: "an advert without a client id" })
    if (this.#adverts.has(a.id)) throw new SecAggError({ stage: "advertise", reason: `a second advert from "${a.id}"` })
    if (!(a.encryptionKey instanceof Uint8Array) || a.encryptionKey.length !== 32 || !(a.maskKey instanceof Uint8Array) || a.maskKey.length !== 32) {
      throw new SecAggError({ stage: "advertise", reason: `the advert of "${a.id}" has keys that are not 32 bytes` })
    }
    this.#adverts.set(a.id, a)
  }

  /** End of stage 0: U1, the adverts to broadcast (sorted by id). */
  closeAdvertise(): Advert[] {
    this.#expect("advertise", "closeAdvertise()")
    this.#abortBelow("advertise", this.#adverts.size, "clients advertised keys")
    if (this.#adverts.size > 255) throw new SecAggError({ stage: "advertise", reason: `${this.#adverts.size} clients advertised, at most 255 can take part` })
    this.#phase = "share-keys"
    this.#graph = neighbourhoods([...this.#adverts.keys()], this.#config)
    return [...this.#adverts.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  /** Stage 1: one client's sealed shares, exactly one for every other member of its neighbourhood (all of U1 under "full"). */
  receiveShares(m: SharesMessage): void {
    this.#expect("share-keys", `shares from "${m.from}"`)
    const bad = (reason: string) => new SecAggError({ stage: "share-keys", reason: `shares from "${m.from}": ${reason}` })
    if (!this.#adverts.has(m.from)) throw bad("the sender did not advertise keys")
    if (this.#shares.has(m.from)) throw bad("sent twice")
    const to = new Set<string>()
    for (const s of m.shares) {
      if (s.from !== m.from) throw bad(`one share claims to come from "${s.from}"`)
      if (!this.#graph!.adjacent(m.from, s.to)) throw bad(`a share addressed to "${s.to}", not another advertised client in its neighbourhood`)
      if (to.has(s.to)) throw bad(`two shares addressed to "${s.to}"`)
      to.add(s.to)
    }
    const others = this.#graph!.of(m.from).length - 1
    if (to.size !== others) throw bad(`${to.size} shares for ${others} other clients`)
    this.#shares.set(m.from, m)
  }

  /** End of stage 1: U2; for each member the shares addressed to it by the other members of U2. */
  closeShareKeys(): Map<string, EncryptedShare[]> {
    this.#expect("share-keys", "closeShareKeys()")
    this.#abortBelow("share-keys", this.#shares.size, "clients shared their keys")
    const u2 = new Set(this.#shares.keys())
    this.#abortShortNeighbourhood("share-keys", [...u2], u2, "shared their keys")
    this.#phase = "masked-input"
    const routed = new Map<string, EncryptedShare[]>([...this.#shares.keys()].sort().map((id) => [id, []]))
    for (const m of this.#shares.values()) {
      for (const s of m.shares) routed.get(s.to)?.push(s)
    }
    return routed
  }

  /** Stage 2: one member of U2's masked input. */
  receiveMaskedInput(m: MaskedInput): void {
    this.#expect("masked-input", `a masked input from "${m.from}"`)
    const bad = (reason: string) => new SecAggError({ stage: "masked-input", reason: `masked input from "${m.from}": ${reason}` })
    if (!this.#shares.has(m.from)) throw bad("the sender did not share its keys")
    if (this.#inputs.has(m.from)) throw bad("sent twice")
    if (!(m.masked instanceof Uint32Array) || m.masked.length !== this.#config.length) {
      throw bad(`expected a Uint32Array of length ${this.#config.length}, got ${m.masked?.length}`)
    }
    this.#inputs.set(m.from, m.masked)
  }

  /** End of stage 2: U3 (whose inputs count) and U2 \ U3 (whose pairwise masks must be removed). */
  closeMaskedInput(): UnmaskRequest {
    this.#expect("masked-input", "closeMaskedInput()")
    this.#abortBelow("masked-input", this.#inputs.size, "masked inputs arrived")
    const survivors = [...this.#inputs.keys()].sort()
    const dropped = [...this.#shares.keys()].filter((id) => !this.#inputs.has(id)).sort()
    const u3 = new Set(survivors)
    this.#abortShortNeighbourhood("masked-input", this.#needed(survivors, dropped), u3, "sent a masked input")
    this.#phase = "unmask"
    this.#request = { survivors, dropped }
    return this.#request
  }

  /** Stage 4: one survivor's shares. */
  receiveUnmaskResponse(r: UnmaskResponse): void {
    this.#expect("unmask", `an unmask response from "${r.from}"`)
    const bad = (reason: string) => new SecAggError({ stage: "unmask", reason: `unmask response from "${r.from}": ${reason}` })
    if (!this.#inputs.has(r.from)) throw bad("the sender is not a survivor")
    if (this.#responses.has(r.from)) throw bad("sent twice")
    const { survivors, dropped } = this.#request!
    // What r.from holds: the shares of its neighbourhood's members of U2 (survivors and dropped are in U2).
    const mine = new Set(this.#graph!.of(r.from))
    const owners = (shares: UnmaskResponse["seedShares"]) => shares.map((s) => s.owner).join(",")
    if (owners(r.seedShares) !== survivors.filter((id) => mine.has(id)).join(",")) throw bad("its self-mask seed shares are not exactly one per survivor")
    if (owners(r.keyShares) !== dropped.filter((id) => mine.has(id)).join(",")) throw bad("its mask-key shares are not exactly one per dropped client")
    this.#responses.set(r.from, r)
  }

  /**
   * The sum of the survivors' inputs mod 2^32: Σ y_u − Σ PRG(b_u) (self masks rebuilt from t
   * shares) ∓ PRG(s_{v,u}) for every dropped neighbour v (its mask key rebuilt from t shares, then
   * checked against its advertised public key), added in one pass over the sum per survivor.
   */
  finish(): Uint32Array {
    this.#expect("unmask", "finish()")
    this.#abortBelow("unmask", this.#responses.size, "survivors answered the unmask request")
    const { length, round } = this.#config
    const graph = this.#graph!
    const { survivors, dropped } = this.#request!
    const answered = new Set(this.#responses.keys())
    this.#abortShortNeighbourhood("unmask", this.#needed(survivors, dropped), answered, "answered the unmask request")
    const seedShares = new Map<string, Map<string, Uint8Array>>()
    const keyShares = new Map<string, Map<string, Uint8Array>>()
    for (const [id, r] of this.#responses) {
      seedShares.set(id, new Map(r.seedShares.map((h) => [h.owner, h.share])))
      keyShares.set(id, new Map(r.keyShares.map((h) => [h.owner, h.share])))
    }
    // Deterministic choice of the holders whose shares rebuild `owner`'s secret: the first t by id
    // (the same t for every secret under "full", so Shamir's Lagrange basis is computed once).
    const rebuild = (owner: string, held: Map<string, Map<string, Uint8Array>>): Uint8Array => {
      const holders = graph.of(owner).filter((id) => answered.has(id)).slice(0, graph.threshold)
      try {
        return shamirCombine(holders.map((id) => held.get(id)!.get(owner)!))
      } catch {
        return new Uint8Array(0)
      }
    }
    const droppedKeys = new Map<string, ReturnType<typeof keyPairFromSeed>>()
    for (const v of dropped) {
      if (!survivors.some((u) => graph.adjacent(u, v))) continue // its masks are in no input
      const raw = rebuild(v, keyShares)
      const pair = raw.length === 32 ? keyPairFromSeed(raw) : undefined
      if (!pair || !bytesEqual(pair.publicKey, this.#adverts.get(v)!.maskKey)) {
        throw new SecAggError({ stage: "unmask", reason: `the mask key of dropped "${v}" did not reconstruct to its advertised public key (bad shares)` })
      }
      droppedKeys.set(v, pair)
    }
    const sum = new Uint32Array(length)
    for (const u of survivors) {
      const seed = rebuild(u, seedShares)
      if (seed.length !== 32) throw new SecAggError({ stage: "unmask", reason: `the self-mask seed of "${u}" did not reconstruct (bad shares)` })
      const plus = [this.#inputs.get(u)!]
      const minus = [expandMask(seed, length)]
      for (const [v, pair] of droppedKeys) {
        if (!graph.adjacent(u, v)) continue
        // u added the mask when u < v and subtracted it otherwise; undo what u did.
        ;(u < v ? minus : plus).push(expandMask(agree(pair.privateKey, this.#adverts.get(u)!.maskKey, round, MASK_PURPOSE), length))
      }
      accumulate(sum, plus, minus)
    }
    this.#phase = "finished"
    return sum
  }

  /** Whose secrets the unmasking needs: every survivor's seed, and the key of every dropped client with a surviving neighbour. */
  #needed(survivors: readonly string[], dropped: readonly string[]): string[] {
    return [...survivors, ...dropped.filter((v) => survivors.some((u) => this.#graph!.adjacent(u, v)))]
  }

  /**
   * Under "sparse", abort when one of `whose` has fewer than the neighbourhood threshold of its
   * neighbourhood in `left` (its secret could not be rebuilt). Under "full" the global count already says it.
   */
  #abortShortNeighbourhood(stage: SecAggStage, whose: readonly string[], left: ReadonlySet<string>, what: string): void {
    const graph = this.#graph!
    if (this.#config.graph !== "sparse") return
    for (const id of whose) {
      const count = graph.of(id).filter((x) => left.has(x)).length
      if (count < graph.threshold) {
        throw new SecAggAbort({ stage, reason: `only ${count} of the ${graph.size} clients in the neighbourhood of "${id}" ${what}, below the neighbourhood threshold ${graph.threshold}` })
      }
    }
  }
}

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
