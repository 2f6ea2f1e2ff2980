/**
 * A validator re-measures the accuracy a `round-result` claims before it votes for the block that
 * carries it (the consensus actor's `ProposalCheck`): it fetches the aggregate by its hash, evaluates
 * it on the evaluation set fixed in the genesis, and refuses (prevotes nil on) a block whose claim is
 * off by more than `training.accuracyTolerance`. It never blocks consensus: the verdict comes through
 * a callback once the model is in (at once when measured before), and the machine's propose timeout
 * runs meanwhile — a proposal judged too late is a nil prevote, and the next round re-proposes.
 *
 * A result every replica will find provably false (a participant that did not sign, or is not a
 * bonded trainer: round-attestation.ts) is let through on purpose: on chain it is evidence, and its
 * coordinator is slashed there. Only a claim that a measurement alone refutes is kept off the chain,
 * and its coordinator is paid nothing for it. The same check filters what this node proposes, so an
 * honest proposer never builds a block it would refuse.
 *
 * With `checkLoss` (the language model's fine-tuning, whose measure is the validation loss), the claimed
 * loss is re-measured too, on the same evaluation: a result that claims none, or one off by more than
 * the tolerance read as a fraction of the measured loss (0.02: 2 %), is refused.
 */
import { Result } from "effect"
import type { AppTx, Block } from "../../core/consensus/types.ts"
import { decodeTx, type SignedTx } from "../../core/app/txs.ts"

type RoundResultTx = Extract<SignedTx, { readonly type: "round-result" }>

/** How many measurements a node keeps (one per model hash; a round makes one). */
const MAX_MEASURED = 256

export interface ResultCheckOptions {
  /** `training.accuracyTolerance` in force (a fraction: 0.02 = two points of accuracy). */
  readonly tolerance: () => number
  /** Why every replica will find `tx` provably false, or undefined (the App's own check). */
  readonly forged: (tx: RoundResultTx) => string | undefined
  /** Fetch the weights hashing to `modelHash` (round `round`'s aggregate); `done(undefined)` when nobody has them. May call back at once. */
  readonly fetch: (modelHash: string, round: number, done: (weights: Float32Array | undefined) => void) => void
  /** Accuracy (0..1) of weights on the evaluation set fixed in the genesis, or accuracy and loss (nats) when the loss is checked too. */
  readonly evaluate: (weights: Float32Array) => number | { readonly accuracy: number; readonly loss: number }
  /** Whether a claim's loss is re-measured too (fine-tuning of the language model); default false. */
  readonly checkLoss?: () => boolean
  /** Each measurement as it is made (telemetry, traces). */
  readonly onMeasured?: (m: {
    readonly round: number
    readonly modelHash: string
    readonly claimed: number
    readonly measured: number | undefined
    /** Loss claimed and measured (millionths of a nat), when the evaluation gives one. */
    readonly claimedLoss?: number | undefined
    readonly measuredLoss?: number | undefined
    readonly refused: string | undefined
  }) => void
}

/** What a node measured for a model: its accuracy (and loss, when measured) in millionths, or that it could not get it. */
type Measurement = { readonly accuracy: number; readonly loss: number | undefined } | { readonly missing: true }

/** The round results a block carries, decoded (anything else is the App's to judge). */
const roundResults = (txs: readonly AppTx[]): RoundResultTx[] => {
  const out: RoundResultTx[] = []
  for (const tx of txs) {
    if (tx.type !== "round-result") continue
    const d = decodeTx(tx)
    if (Result.isSuccess(d) && d.success.type === "round-result") out.push(d.success)
  }
  return out
}

/** One validator's check of claimed round accuracies. */
export class ResultCheck {
  readonly #o: ResultCheckOptions
  readonly #measured = new Map<string, Measurement>()
  /** Fetches in flight, by model hash, and who waits for each. */
  readonly #waiting = new Map<string, Array<() => void>>()

  constructor(options: ResultCheckOptions) {
    this.#o = options
  }

  /** Why this node refuses `tx` given what it measured, or undefined; "unknown" while its model is not measured yet. */
  #verdict(tx: RoundResultTx): string | undefined | "unknown" {
    if (this.#o.forged(tx) !== undefined) return undefined
    const m = this.#measured.get(tx.modelHash)
    if (m === undefined) return "unknown"
    if ("missing" in m) return `round ${tx.round}: nobody serves its model ${tx.modelHash}, so its accuracy cannot be checked`
    const tolerance = Math.round(this.#o.tolerance() * 1_000_000)
    if (Math.abs(tx.accuracy - m.accuracy) > tolerance) {
      return `round ${tx.round} claims accuracy ${tx.accuracy / 1_000_000}, measured ${m.accuracy / 1_000_000} on the genesis evaluation set (tolerance ${tolerance / 1_000_000})`
    }
    if (this.#o.checkLoss?.() !== true || m.loss === undefined) return undefined
    if (tx.loss === undefined) return `round ${tx.round} claims no validation loss; measured ${m.loss / 1_000_000} on the genesis evaluation set`
    const lossTolerance = Math.round(this.#o.tolerance() * m.loss)
    if (Math.abs(tx.loss - m.loss) <= lossTolerance) return undefined
    return `round ${tx.round} claims validation loss ${tx.loss / 1_000_000}, measured ${m.loss / 1_000_000} on the genesis evaluation set (tolerance ${lossTolerance / 1_000_000})`
  }

  /** Measure `tx`'s model (once per hash; a model nobody served is asked for again), then call `then`. */
  #measure(tx: RoundResultTx, then: () => void): void {
    const known = this.#measured.get(tx.modelHash)
    if (known !== undefined && !("missing" in known)) return then()
    const waiting = this.#waiting.get(tx.modelHash)
    if (waiting !== undefined) return void waiting.push(then)
    this.#waiting.set(tx.modelHash, [then])
    this.#o.fetch(tx.modelHash, tx.round, (weights) => {
      const e = weights === undefined ? undefined : this.#o.evaluate(weights)
      const measured = e === undefined ? undefined : Math.round((typeof e === "number" ? e : e.accuracy) * 1_000_000)
      const loss = e === undefined || typeof e === "number" || !Number.isFinite(e.loss) ? undefined : Math.min(1e12, Math.round(e.loss * 1_000_000))
      if (this.#measured.size >= MAX_MEASURED) this.#measured.delete(this.#measured.keys().next().value!)
      this.#measured.set(tx.modelHash, measured === undefined ? { missing: true } : { accuracy: measured, loss })
      const refused = this.#verdict(tx)
      this.#o.onMeasured?.({
        round: tx.round, modelHash: tx.modelHash, claimed: tx.accuracy, measured, refused: refused === "unknown" ? undefined : refused,
        ...(loss === undefined ? {} : { claimedLoss: tx.loss, measuredLoss: loss }),
      })
      const all = this.#waiting.get(tx.modelHash) ?? []
      this.#waiting.delete(tx.modelHash)
      for (const fn of all) fn()
    })
  }

  /** Judge a proposed block: the first refusal of its round results, or undefined once all are measured within tolerance. */
  judge(block: Block, verdict: (why: string | undefined) => void): void {
    const results = roundResults(block.txs).filter((tx) => this.#o.forged(tx) === undefined)
    let left = results.length
    if (left === 0) return verdict(undefined)
    const done = () => {
      if (--left > 0) return
      for (const tx of results) {
        const why = this.#verdict(tx)
        if (why !== undefined) return verdict(why === "unknown" ? `round ${tx.round}: its model is not measured` : why)
      }
      verdict(undefined)
    }
    for (const tx of results) this.#measure(tx, done)
  }

  /**
   * Whether this node proposes `tx`: anything but a round result whose claim it refuses, or has not
   * measured yet (it starts measuring, so a later proposal of this node can carry it).
   */
  admits(tx: AppTx): boolean {
    if (tx.type !== "round-result") return true
    const [r] = roundResults([tx])
    if (r === undefined) return true
    if (this.#o.forged(r) !== undefined) return true
    const m = this.#measured.get(r.modelHash)
    if (m === undefined || "missing" in m) this.#measure(r, () => {}) // a model at hand is measured at once
    return this.#verdict(r) === undefined
  }
}
