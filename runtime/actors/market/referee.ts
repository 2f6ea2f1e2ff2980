/**
 * A referee: an active validator re-executes what a requester asks it to check, and on a disputed
 * job takes part in the committee's verdict (verdicts.ts): it signs the verdict its own
 * re-execution gives, gossips the signature, and whoever gathers ≥ 2/3 of a committee snapshot's
 * power submits it (`resolveDispute`, which the ledger accepts only with those signatures: no single
 * validator decides a slash). Its verdict is its own re-execution's, never the requester's claim: an
 * honest provider is never slashed for a result the re-execution reproduces.
 *
 * A referee started without `keys` (a node that holds no consensus key) still answers checks but
 * signs no verdict.
 */
import { Effect, Result } from "effect"
import { call, type MarketContext } from "./context.ts"
import { startVerdicts, type VerdictKeys, type Verdicts } from "./verdicts.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "./wire.ts"
import { wrongNotes, type Reexecute } from "./work.ts"

export interface RefereeOptions {
  /** The validator's operator account on the ledger (default: the node's name). */
  readonly account?: string
  readonly reexecute: Reexecute
  /** The validator's consensus key, which the committee snapshots name: it signs verdicts. */
  readonly keys?: VerdictKeys
}

export interface RefereeActor {
  /** Checks answered, results refuted, verdicts this node signed and submitted (the ledger took). */
  readonly stats: () => { readonly checks: number; readonly refuted: number; readonly signed: number; readonly verdicts: number }
  stop(): void
}

/** Start answering checks and disputes on `ctx`. */
export const startReferee = (ctx: MarketContext, o: RefereeOptions): RefereeActor => {
  const self = o.account ?? ctx.name
  const stats = { checks: 0, refuted: 0 }
  /** Own re-executions of disputes, by job and frozen notes (a job disputed again freezes other notes). */
  const judged = new Map<string, boolean>()
  const judge = (job: number, done: (providerRight: boolean | undefined) => void): void =>
    call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j === undefined || j.state !== "disputed") return done(undefined)
      const key = `${job}:${j.notes.filter((n) => n.state === "disputed").map((n) => n.id).join(",")}`
      let right = judged.get(key)
      if (right === undefined) {
        right = wrongNotes(j, ["disputed"], o.reexecute).length === 0
        judged.set(key, right)
        ctx.emit("market.referee.judged", { job, providerRight: right })
      }
      done(right)
    }, () => done(undefined))
  const verdicts: Verdicts | undefined = o.keys === undefined ? undefined : startVerdicts(ctx, { keys: o.keys, account: self, judge })
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
      // The committee's verdict: this node signs its own re-execution's and the others join (verdicts.ts).
      verdicts?.judge(msg.job)
    }
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))
  return {
    stats: () => ({ ...stats, signed: verdicts?.stats().signed ?? 0, verdicts: verdicts?.stats().submitted ?? 0 }),
    stop: () => {
      verdicts?.stop()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}
