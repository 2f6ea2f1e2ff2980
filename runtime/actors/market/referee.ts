/**
 * A referee: an active validator re-executes what a requester asks it to check, and on a disputed
 * job takes part in the committee's verdict (verdicts.ts): it signs the verdict its own
 * re-execution gives, gossips the signature, and whoever gathers ≥ 2/3 of a committee snapshot's
 * power submits it (`resolveDispute`, which the ledger accepts only with those signatures: no single
 * validator decides a slash). Its verdict is its own re-execution's, never the requester's claim: an
 * honest provider is never slashed for a result the re-execution reproduces. A validator that cannot
 * re-execute some frozen note (`reexecute` gives undefined: no model, or no evidence of a language-model
 * stage's note) and finds none wrong signs nothing, for either side: "provider right" needs every frozen
 * note reproduced. It judges again when asked again (a re-sent verdict signature), so one whose
 * re-execution comes late still signs.
 *
 * A referee started without `keys` (a node that holds no consensus key) still answers checks but
 * signs no verdict.
 *
 * A dispute is judged by bisection when the referee has the work's layered side (`trace`,
 * bisect.ts): for each frozen note it finds the first layer where the provider's committed trace
 * leaves its own and re-executes only that layer from the agreed input; the verdict's record names
 * the layer (telemetry `market.referee.judged {…, layers}`, `disputes()`). Without `trace` (a work
 * with no layers yet) it re-executes the frozen notes whole, as the check does.
 */
import { Effect, Result } from "effect"
import type { JobView } from "../../core/market/index.ts"
import { call, type MarketContext } from "./context.ts"
import { describeRecord, startBisector, type BisectionRecord, type Bisector } from "./bisect.ts"
import { startVerdicts, type VerdictKeys, type Verdicts } from "./verdicts.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "./wire.ts"
import { noteRanges, wrongNotes, type Reexecute, type TraceWork } from "./work.ts"

export interface RefereeOptions {
  /** The validator's operator account on the ledger (default: the node's name). */
  readonly account?: string
  readonly reexecute: Reexecute
  /** The validator's consensus key, which the committee snapshots name: it signs verdicts. */
  readonly keys?: VerdictKeys
  /** The work's layered side: disputes are judged by bisection (bisect.ts) instead of whole re-execution. */
  readonly trace?: TraceWork
  /** Whether a job of `kind` is judged by bisection with `trace` (default: every kind); any other is judged by `reexecute` whole. */
  readonly bisects?: (kind: string) => boolean
  /** How long a provider has to answer a bisection query (ms, default bisect.ts BISECTION_TIMEOUT_MS). */
  readonly bisectionTimeout?: number
}

export interface RefereeActor {
  /** Checks answered, results refuted, verdicts this node signed and submitted (the ledger took). */
  readonly stats: () => { readonly checks: number; readonly refuted: number; readonly signed: number; readonly verdicts: number }
  /** The records of the notes this referee bisected (newest last, at most MAX_RECORDS). */
  readonly disputes: () => readonly BisectionRecord[]
  stop(): void
}

/** Bisection records a referee keeps. */
const MAX_RECORDS = 1_000

/** Start answering checks and disputes on `ctx`. */
export const startReferee = (ctx: MarketContext, o: RefereeOptions): RefereeActor => {
  const self = o.account ?? ctx.name
  const stats = { checks: 0, refuted: 0 }
  /** Own judgements of disputes, by job and frozen notes (a job disputed again freezes other notes). */
  const judged = new Map<string, boolean>()
  /** Judgements under way (a bisection takes messages), with who waits for them. */
  const judging = new Map<string, Array<(providerRight: boolean | undefined) => void>>()
  const records: BisectionRecord[] = []
  const bisector: Bisector | undefined = o.trace === undefined ? undefined : startBisector(ctx, o.trace, o.bisectionTimeout === undefined ? {} : { timeoutMs: o.bisectionTimeout })
  /** Bisect every frozen note of `j`; the provider is right unless one of them refutes it. */
  const bisectJob = (b: Bisector, j: JobView, done: (providerRight: boolean | undefined, layers: readonly BisectionRecord[]) => void) => {
    const frozen = noteRanges(j).filter(({ note }) => note.state === "disputed")
    const out: Array<BisectionRecord | undefined> = []
    let left = frozen.length
    if (left === 0) return done(undefined, [])
    frozen.forEach(({ note, from }, i) =>
      b.note(j, note, from, (r) => {
        out[i] = r
        if (r !== undefined) {
          records.push(r)
          if (records.length > MAX_RECORDS) records.shift()
        }
        if (--left > 0) return
        const got = out.filter((x): x is BisectionRecord => x !== undefined)
        // Refuted by any note it could not defend; `inconsistent` (this referee's own trace in error) refutes nothing;
        // a `moot` note (judged meanwhile by another verdict) leaves this referee nothing to sign.
        if (got.some((x) => x.outcome === "moot")) return done(undefined, got)
        const wrong = got.some((x) => x.outcome !== "agree" && x.outcome !== "inconsistent")
        // Right only when every frozen note was judged: a note this node could not compute (no trace of it) clears nobody.
        done(wrong ? false : got.length < frozen.length ? undefined : true, got)
      }))
  }
  /** Disputes this node could not judge (emitted once each). */
  const unable = new Set<string>()
  /**
   * Whether the provider was right about `j`'s frozen notes, by this node's own re-execution: wrong as
   * soon as one note's re-execution differs; right only when every note was re-executed and matched;
   * undefined when some note could not be re-executed here (`reexecute` gave undefined: no model, no
   * evidence) and none was found wrong — a validator that cannot judge signs nothing, for either side.
   */
  const judgeFrozen = (j: JobView): boolean | undefined => {
    let unknown = false
    for (const { note, from } of noteRanges(j)) {
      if (note.state !== "disputed") continue
      const honest = o.reexecute({ job: j.id, kind: j.kind, from, units: Number(note.units) }, note.resultHash)
      if (honest === undefined) unknown = true
      else if (honest.toLowerCase() !== note.resultHash.toLowerCase()) return false
    }
    return unknown ? undefined : true
  }
  const judge = (job: number, done: (providerRight: boolean | undefined) => void): void =>
    call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j === undefined || j.state !== "disputed") return done(undefined)
      const key = `${job}:${j.notes.filter((n) => n.state === "disputed").map((n) => n.id).join(",")}`
      const right = judged.get(key)
      if (right !== undefined) return done(right)
      const waiting = judging.get(key)
      if (waiting !== undefined) return void waiting.push(done)
      if (bisector === undefined || o.bisects?.(j.kind) === false) {
        const r = judgeFrozen(j)
        if (r === undefined) {
          // Nothing to sign: judged again when asked again (a verdict signature re-sent, the evidence arrived meanwhile).
          if (!unable.has(key)) ctx.emit("market.referee.unable", { job, notes: j.notes.filter((n) => n.state === "disputed").length })
          unable.add(key)
          if (unable.size > MAX_RECORDS) unable.delete(unable.values().next().value!)
          return done(undefined)
        }
        judged.set(key, r)
        ctx.emit("market.referee.judged", { job, providerRight: r })
        return done(r)
      }
      judging.set(key, [done])
      bisectJob(bisector, j, (r, got) => {
        const all = judging.get(key) ?? []
        judging.delete(key)
        if (r !== undefined) judged.set(key, r)
        const layers = got.filter((x) => x.layer !== undefined && x.outcome !== "agree")
        ctx.emit("market.referee.judged", {
          job, ...(r === undefined ? {} : { providerRight: r }),
          ...(layers.length === 0 ? {} : { layer: layers[0]!.layer! }),
          records: got.map(describeRecord).join("; "),
        })
        for (const d of all) d(r)
      })
    }, () => done(undefined))
  const verdicts: Verdicts | undefined = o.keys === undefined ? undefined : startVerdicts(ctx, { keys: o.keys, account: self, judge })
  let unsubscribe: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (m) => {
    const decoded = decodeMarketMessage(m.data)
    if (Result.isFailure(decoded)) return ctx.fault(m.from, decoded.failure)
    const msg = decoded.success
    if (bisector?.onMessage(m.from, msg) === true) return
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
    disputes: () => [...records],
    stop: () => {
      verdicts?.stop()
      bisector?.stop()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}
