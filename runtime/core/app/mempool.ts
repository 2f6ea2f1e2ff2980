/**
 * The transaction pool: signed transactions waiting for a block, by signer and nonce. Pure — no
 * network, no clock: the node's context adds what it is given or gossiped (after checking the
 * signature), the consensus actor takes what can go in the next block and prunes after each block
 * (CometBFT's habit: consensus reaches its mempool through a small interface).
 */
import type { AppTx } from "../consensus/types.ts"
import { encodeTx, type SignedTx } from "./txs.ts"

/** Most transactions a node keeps waiting. */
export const MAX_POOL = 10_000
/** Most transactions a node puts in one block. */
export const MAX_BLOCK_TXS = 1_000

/** What the pool reads of the application: nonces in use, and whether a transaction applies. */
export interface MempoolLedger {
  nextNonce(signer: string): number
  /** Why `tx` (the wire JSON) cannot be applied after the nonces already taken, or undefined. */
  checkSignedTx(tx: unknown, nonces: Map<string, number>): string | undefined
}

export interface MempoolLimits {
  readonly maxPool: number
  readonly maxBlockTxs: number
}

export class Mempool {
  readonly #ledger: MempoolLedger
  readonly #limits: MempoolLimits
  /** Signed transactions by signer, then nonce. */
  readonly #bySigner = new Map<string, Map<number, SignedTx>>()
  #size = 0

  constructor(ledger: MempoolLedger, limits: MempoolLimits = { maxPool: MAX_POOL, maxBlockTxs: MAX_BLOCK_TXS }) {
    this.#ledger = ledger
    this.#limits = limits
  }

  /** Transactions waiting. */
  get size(): number {
    return this.#size
  }

  /** Keep a (signature-checked) transaction; a refusal says why. A transaction pooled already is accepted again silently. */
  add(tx: SignedTx): string | undefined {
    if (tx.nonce < this.#ledger.nextNonce(tx.signer)) return `nonce ${tx.nonce} of ${tx.signer} was used already`
    const mine = this.#bySigner.get(tx.signer) ?? new Map<number, SignedTx>()
    if (mine.has(tx.nonce)) return undefined
    if (this.#size >= this.#limits.maxPool) return "the transaction pool is full"
    this.#bySigner.set(tx.signer, mine.set(tx.nonce, tx))
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
        const json = encodeTx(mine.get(n)!)
        if (this.#ledger.checkSignedTx(json, nonces) !== undefined) break
        out.push(json as unknown as AppTx)
      }
    }
    return out
  }

  /** Drop what a block used (nonces below each signer's next). */
  prune(): void {
    for (const [signer, mine] of this.#bySigner) {
      const next = this.#ledger.nextNonce(signer)
      for (const n of mine.keys()) {
        if (n < next) {
          mine.delete(n)
          this.#size--
        }
      }
      if (mine.size === 0) this.#bySigner.delete(signer)
    }
  }
}
