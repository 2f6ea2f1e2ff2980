/**
 * What a node hears of the ledger's receipts: stake moves, slashes (the staking followers, the
 * `stake.slashed` telemetry). The in-memory ledger tells every receipt it makes (memory-chain.ts);
 * over a chain whose contracts a node only reads, `withReceipts` tells the receipts of what this
 * node submitted itself — its operations, the slashes of its evidence and of the epoch reports and
 * conflicting reports it settled (each slash is settled by exactly one submitter, so over a network
 * every slash is told once, by the node that made it happen).
 */
import { Effect } from "effect"
import type { Receipt } from "../core/econ/index.ts"
import type { Chain } from "./chain.ts"

/** Hear a ledger's receipts as they happen; the returned function stops. */
export type ReceiptFeed = (listener: (r: Receipt) => void) => () => void

/** A listener list (the feed, and how to tell it a receipt). */
export const receiptFeed = (): { readonly feed: ReceiptFeed; publish(r: Receipt): void } => {
  const listeners: Array<(r: Receipt) => void> = []
  return {
    feed: (listener) => {
      listeners.push(listener)
      return () => {
        const i = listeners.indexOf(listener)
        if (i >= 0) listeners.splice(i, 1)
      }
    },
    publish: (r) => {
      for (const l of [...listeners]) l(r)
    },
  }
}

/** `chain`, telling the receipts of what is submitted through it to `receipts`. */
export const withReceipts = (chain: Chain["Service"]): { readonly chain: Chain["Service"]; readonly receipts: ReceiptFeed } => {
  const { feed, publish } = receiptFeed()
  const tell = (...rs: readonly Receipt[]) => Effect.sync(() => rs.forEach(publish))
  return {
    receipts: feed,
    chain: {
      ...chain,
      submit: (op) => Effect.tap(chain.submit(op), (r) => tell(r as Receipt)),
      slashDoubleSign: (a, b, submitter) => Effect.tap(chain.slashDoubleSign(a, b, submitter), (r) => tell(r)),
      submitEpochReport: (report, signatures, submitter) => Effect.tap(chain.submitEpochReport(report, signatures, submitter), (r) => tell(...r.slashes)),
      reportConflict: (report, signatures, submitter) => Effect.tap(chain.reportConflict(report, signatures, submitter), (r) => tell(...r.slashes)),
    } as Chain["Service"],
  }
}
