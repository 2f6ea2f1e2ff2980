/**
 * The transaction pool: signed transactions waiting for a block, by signer and nonce. Pure — no
 * network, no clock: the node's context adds what it is given or gossiped (after checking the
 * signature), the consensus actor takes what can go in the next block and prunes after each block
 * (CometBFT's habit: consensus reaches its mempool through a small interface).
 *
 * It is bounded per sender, so that no key can jam it (issue 16: one unfunded key's 10,050
 * transactions filled it for good):
 *  - a sender with no standing is refused (standing.ts: no account in the economy, or not a
 *    validator for a validator's transaction), and dropped at the next prune if it loses it;
 *  - a sender keeps at most `perSender` transactions, with nonces below its next one + `perSender`;
 *  - a transaction that cannot go in a block — a nonce of its signer below it is missing — is
 *    dropped once it has waited `gapTtl` blocks (age counted in executed heights, not wall time, so
 *    the pool stays pure and every replica of a test sees the same);
 *  - when the pool is full, a transaction that could go in the next block takes the place of the
 *    waiting one farthest above its signer's next nonce: gapped transactions cannot keep a sender
 *    that can be served out.
 * With S senders with standing the pool holds at most S × `perSender`; an honest transaction (from
 * a sender with standing, at its next nonce) is refused only when every pooled one could be
 * included, and those leave `maxBlockTxs` a block.
 */
import type { AppTx } from "../consensus/types.ts"
import { senderRefusal, type StandingLedger } from "./standing.ts"
import { encodeTx, type SignedTx } from "./txs.ts"

/** Most transactions a node keeps waiting. */
export const MAX_POOL = 10_000
/** Most transactions a node puts in one block. */
export const MAX_BLOCK_TXS = 1_000
/** Most transactions one sender may have waiting, and how far above its next nonce one may be. */
export const MAX_PER_SENDER = 64
/** Blocks a transaction may wait behind a missing nonce of its signer before it is dropped. */
export const GAP_TTL_BLOCKS = 20

/** What the pool reads of the application: nonces in use, whether a transaction applies, and who may send. */
export interface MempoolLedger extends StandingLedger {
  /** Height of the last executed block: the pool's clock. */
  readonly height: number
  nextNonce(signer: string): number
  /** Why `tx` (the wire JSON) cannot be applied after the nonces already taken, or undefined. */
  checkSignedTx(tx: unknown, nonces: Map<string, number>): string | undefined
}

export interface MempoolLimits {
  readonly maxPool: number
  readonly maxBlockTxs: number
  /** Most transactions of one sender, and the nonce window above its next nonce. */
  readonly perSender: number
  /** Blocks a transaction behind a missing nonce may wait. */
  readonly gapTtl: number
}

export const DEFAULT_LIMITS: MempoolLimits = { maxPool: MAX_POOL, maxBlockTxs: MAX_BLOCK_TXS, perSender: MAX_PER_SENDER, gapTtl: GAP_TTL_BLOCKS }

/** A pooled transaction and the height the ledger had executed when it came. */
interface Pooled {
  readonly tx: SignedTx
  readonly since: number
}

export class Mempool {
  readonly #ledger: MempoolLedger
  readonly #limits: MempoolLimits
  /** Signed transactions by signer, then nonce. */
  readonly #bySigner = new Map<string, Map<number, Pooled>>()
  #size = 0

  constructor(ledger: MempoolLedger, limits: Partial<MempoolLimits> = {}) {
    this.#ledger = ledger
    this.#limits = { ...DEFAULT_LIMITS, ...limits }
  }

  /** Transactions waiting. */
  get size(): number {
    return this.#size
  }

  /**
   * Why `add` would refuse `tx` now, or undefined; changes nothing. Cheap (no signature check), so a
   * node asks it before verifying a gossiped transaction's signature.
   */
  check(tx: SignedTx): string | undefined {
    const next = this.#ledger.nextNonce(tx.signer)
    if (tx.nonce < next) return `nonce ${tx.nonce} of ${tx.signer} was used already`
    const { perSender, maxPool } = this.#limits
    if (tx.nonce >= next + perSender) return `nonce ${tx.nonce} of ${tx.signer} is too far ahead: at most ${perSender} above its next (${next})`
    const mine = this.#bySigner.get(tx.signer)
    if (mine?.has(tx.nonce) === true) return undefined
    if ((mine?.size ?? 0) >= perSender) return `${tx.signer} has ${perSender} transactions waiting already`
    const refused = senderRefusal(this.#ledger, tx.signer, tx.type)
    if (refused !== undefined) return refused
    if (this.#size >= maxPool && (this.#readyRun(tx.signer) !== tx.nonce - next || this.#farthestGapped() === undefined)) return "the transaction pool is full"
    return undefined
  }

  /** Keep a (signature-checked) transaction; a refusal says why. A transaction pooled already is accepted again silently. */
  add(tx: SignedTx): string | undefined {
    const refused = this.check(tx)
    if (refused !== undefined) return refused
    const mine = this.#bySigner.get(tx.signer) ?? new Map<number, Pooled>()
    if (mine.has(tx.nonce)) return undefined
    if (this.#size >= this.#limits.maxPool) {
      const [signer, nonce] = this.#farthestGapped()!
      this.#drop(signer, nonce)
    }
    this.#bySigner.set(tx.signer, mine.set(tx.nonce, { tx, since: this.#ledger.height }))
    this.#size++
    return undefined
  }

  /** Pooled transactions that can go in the next block: per signer (in address order) a gap-free run of nonces that apply. */
  includable(): AppTx[] {
    const out: AppTx[] = []
    const nonces = new Map<string, number>()
    for (const signer of [...this.#bySigner.keys()].sort()) {
      const mine = this.#bySigner.get(signer)!
      for (let n = this.#ledger.nextNonce(signer); mine.has(n) && out.length < this.#limits.maxBlockTxs; n++) {
        const json = encodeTx(mine.get(n)!.tx)
        if (this.#ledger.checkSignedTx(json, nonces) !== undefined) break
        out.push(json as unknown as AppTx)
      }
    }
    return out
  }

  /**
   * After a block: drop what it used (nonces below each signer's next), what waited `gapTtl` blocks
   * behind a missing nonce, and what a sender that lost its standing sent.
   */
  prune(): void {
    const height = this.#ledger.height
    for (const [signer, mine] of [...this.#bySigner]) {
      const next = this.#ledger.nextNonce(signer)
      const ready = next + this.#readyRun(signer)
      const refusals = new Map<SignedTx["type"], string | undefined>()
      for (const [n, p] of [...mine]) {
        if (!refusals.has(p.tx.type)) refusals.set(p.tx.type, senderRefusal(this.#ledger, signer, p.tx.type))
        const gone = n < next || (n > ready && height - p.since >= this.#limits.gapTtl) || refusals.get(p.tx.type) !== undefined
        if (gone) this.#drop(signer, n)
      }
    }
  }

  /** How many of `signer`'s nonces from its next one are pooled without a gap. */
  #readyRun(signer: string): number {
    const mine = this.#bySigner.get(signer)
    const next = this.#ledger.nextNonce(signer)
    let n = next
    while (mine?.has(n) === true) n++
    return n - next
  }

  /** The waiting transaction farthest above its signer's run of pooled nonces (ties: the greater signer), if any is gapped. */
  #farthestGapped(): [string, number] | undefined {
    let best: [string, number, number] | undefined
    for (const [signer, mine] of this.#bySigner) {
      const ready = this.#ledger.nextNonce(signer) + this.#readyRun(signer)
      for (const n of mine.keys()) {
        const distance = n - ready
        if (distance <= 0) continue
        if (best === undefined || distance > best[2] || (distance === best[2] && signer > best[0])) best = [signer, n, distance]
      }
    }
    return best === undefined ? undefined : [best[0], best[1]]
  }

  #drop(signer: string, nonce: number): void {
    const mine = this.#bySigner.get(signer)
    if (mine?.delete(nonce) !== true) return
    this.#size--
    if (mine.size === 0) this.#bySigner.delete(signer)
  }
}
