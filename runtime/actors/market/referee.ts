/**
 * A referee: an active validator re-executes what a requester asks it to check, and gives the
 * committee's verdict on a disputed job on the ledger (`resolveDispute`, which the ledger accepts
 * only from an active validator). Its verdict is its own re-execution's, never the requester's
 * claim: an honest provider is never slashed for a result the re-execution reproduces.
 */
import { Effect, Result } from "effect"
import { call, reasonOf, type MarketContext } from "./context.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "./wire.ts"
import { wrongNotes, type Reexecute } from "./work.ts"

export interface RefereeOptions {
  /** The validator's operator account on the ledger (default: the node's name). */
  readonly account?: string
  readonly reexecute: Reexecute
}

export interface RefereeActor {
  /** Checks answered and verdicts given. */
  readonly stats: () => { readonly checks: number; readonly refuted: number; readonly verdicts: number }
  stop(): void
}

/** Start answering checks and disputes on `ctx`. */
export const startReferee = (ctx: MarketContext, o: RefereeOptions): RefereeActor => {
  const self = o.account ?? ctx.name
  const stats = { checks: 0, refuted: 0, verdicts: 0 }
  let unsubscribe: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (m) => {
    const decoded = decodeMarketMessage(m.data)
    if (Result.isFailure(decoded)) return ctx.fault(m.from, decoded.failure)
    const msg = decoded.success
    if (msg.t === "check") {
      call(ctx, ctx.ledger.marketJob(msg.job), (job) => {
        // Only the job's requester asks; anyone else's check is not this referee's work.
        if (job === undefined || job.requester !== m.from) return
        const wrong = wrongNotes(job, ["pending"], o.reexecute)
        stats.checks++
        if (wrong.length > 0) stats.refuted++
        ctx.emit("market.referee.checked", { job: msg.job, wrong: wrong.length })
        ctx.run(Effect.ignore(ctx.network.send(m.from, MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "verdict", job: msg.job, nonce: msg.nonce, ok: wrong.length === 0 }))))
      })
    } else if (msg.t === "resolve") {
      call(ctx, ctx.ledger.marketJob(msg.job), (job) => {
        if (job === undefined || job.state !== "disputed") return
        const providerRight = wrongNotes(job, ["disputed"], o.reexecute).length === 0
        call(ctx, ctx.ledger.marketOp({ type: "resolveDispute", job: msg.job, providerRight, by: self }), (r) => {
          stats.verdicts++
          ctx.emit("market.resolved", { job: msg.job, providerRight, provider: r.provider, slashed: String(r.slash?.slashed ?? 0n) })
        }, (e) => ctx.emit("market.resolve-refused", { job: msg.job, reason: reasonOf(e) }))
      })
    }
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))
  return {
    stats: () => ({ ...stats }),
    stop: () => {
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}
