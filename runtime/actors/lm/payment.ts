/**
 * The client's side of a generation paid per token (issue 14, item 4): one market job per stage
 * (paid.ts says why), posted by the client's account with its budget in escrow (units × the price
 * cap), assigned to the server the route chose, and paid as the server delivers:
 *
 * - while the generation runs, every `pollMs` the jobs are read and their pending debit notes
 *   confirmed (paid to the server, the market's fee and burn taken as for any job): settled as
 *   delivered, a chunk of tokens at a time;
 * - at the end (`finish`), the client waits until each job's notes cover the tokens the server
 *   answered (it delivers the rest when the session closes), confirms them, and a job whose every
 *   unit was delivered is settled with the rest of its escrow returned at once; the escrow of tokens
 *   never generated (an early stop, an abandoned stage after a failover) is refunded after the job's
 *   deadline (`refund`, which the ledger allows only then) — the payer keeps a timer for it.
 *
 * The market's requester (runtime/actors/market/requester.ts) is not used for these jobs: its `submit`
 * routes a job to a provider of its own choosing (power of two choices over `market/<kind>`), while a
 * pipeline's route picks the server of every stage together (planRoute over `lm/blocks/<from>-<to>`) and
 * a replacement must be the server the replay goes to. The ledger operations are the same.
 */
import { Effect } from "effect"
import type { JobView } from "../../core/market/index.ts"
import { call, reasonOf, type MarketContext } from "../market/context.ts"
import { LmPaymentError, type LmPayment } from "./client.ts"
import { type LmAuditOptions, makeLmAudit } from "./audit.ts"
import { lmJobKind } from "./paid.ts"

export interface LmPayerOptions {
  /** The ledger account that pays (the node's). */
  readonly account: string
  /** The most it pays per token at one stage (the escrow is units × this). */
  readonly maxPricePerToken: bigint
  /** A job's deadline after its posting (ms); the rest is refundable after it. Default 120 s. */
  readonly deadlineMs?: number
  /** How often jobs are read and their notes confirmed while the generation runs (ms, default 1000). */
  readonly pollMs?: number
  /** How long `finish` waits for the last notes (ms, default 30 s). */
  readonly finishMs?: number
  /**
   * Have a share of the stages' notes re-executed by a referee before confirming them (audit.ts); a
   * refuted note is disputed and judged by the committee. `{}`: the market's verification rate and referees.
   */
  readonly verify?: Omit<LmAuditOptions, "account">
  /** A stage's server whose note a referee refuted (the job is then disputed): the generation stops using it (client.ts). */
  readonly onRefuted?: (peer: string) => void
  /** Hears what the payer does (a CLI, a TUI). */
  readonly onPaid?: (event: { readonly job: number; readonly paid: bigint; readonly units: bigint }) => void
}

/** One stage's job, as the ledger last showed it. */
export interface StageJob {
  readonly job: number
  readonly from: number
  readonly to: number
  readonly peer: string
  readonly units: number
  /** Forwards the server answered on it (what it bills). */
  served: number
  /** The server's price per token, locked at assignment. */
  pricePerUnit: bigint
  view: JobView | undefined
}

/** What a paid generation cost. */
export interface PaymentSummary {
  readonly jobs: readonly StageJob[]
  /** Escrowed at posting, in all. */
  readonly escrowed: bigint
  /** Paid for delivered tokens (to providers plus the market's fees): Σ paid units × price. */
  readonly paid: bigint
  /** Returned to the payer already. */
  readonly returned: bigint
  /** Still in escrow: returned by `refund` after the jobs' deadlines (or paid for notes not settled yet). */
  readonly held: bigint
}

export interface LmPayer extends LmPayment {
  readonly jobs: () => readonly StageJob[]
  /** Servers whose notes a referee refuted in this payer's generation (each one's job disputed). */
  readonly refuted: () => ReadonlySet<string>
  /** Wait for the last notes, pay them, settle what is complete; schedules the refund of the rest. */
  readonly finish: () => Promise<PaymentSummary>
  /** Stop the timers (the refunds still pending are then the ledger's to do by anyone after the deadline). */
  stop(): void
}

const costOf = (j: JobView): bigint => j.paidUnits * j.pricePerUnit

/** A payer for one generation (or several in a row) from `o.account`. */
export const makeLmPayer = (ctx: MarketContext, o: LmPayerOptions): LmPayer => {
  const deadlineMs = o.deadlineMs ?? 120_000
  const pollMs = o.pollMs ?? 1_000
  const jobs: StageJob[] = []
  const timers = new Set<unknown>()
  const confirming = new Set<number>()
  /** Servers whose notes a referee refuted (each one's job disputed). */
  const refuted = new Set<string>()
  const audit = o.verify === undefined ? undefined : makeLmAudit(ctx, { account: o.account, ...o.verify })
  let stopped = false
  const later = (ms: number, fn: () => void) => {
    if (stopped) return
    const t = ctx.clock.setTimeout(() => {
      timers.delete(t)
      if (!stopped) fn()
    }, ms)
    timers.add(t)
  }
  const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => new Promise((resolve, reject) => call(ctx, e, resolve, reject))

  /** Read every job; confirm those with pending notes. */
  const look = (): Promise<void> => Promise.all(jobs.map(async (s) => {
    const j = await run(ctx.ledger.marketJob(s.job)).catch(() => undefined)
    if (j === undefined) return
    s.view = j
    s.pricePerUnit = j.pricePerUnit
    if (j.state !== "assigned" || confirming.has(s.job) || !j.notes.some((n) => n.state === "pending")) return
    confirming.add(s.job)
    if (audit !== undefined) {
      // Check the sampled new notes first; confirm only when every pending note has been through the draw.
      let view: JobView | undefined = j
      while (view !== undefined && view.state === "assigned" && !audit.reviewed(view)) {
        if ((await audit.review(view)) === "disputed") {
          confirming.delete(s.job)
          if (!refuted.has(s.peer)) {
            refuted.add(s.peer)
            ctx.emit("lm.stage.refuted", { job: s.job, from: s.from, to: s.to, peer: s.peer })
            o.onRefuted?.(s.peer)
          }
          return
        }
        view = await run(ctx.ledger.marketJob(s.job)).catch(() => undefined)
      }
      if (view === undefined || view.state !== "assigned") return void confirming.delete(s.job)
    }
    const before = costOf(j)
    await run(ctx.ledger.marketOp({ type: "confirm", job: s.job, by: o.account })).then(async () => {
      const after = await run(ctx.ledger.marketJob(s.job)).catch(() => undefined)
      if (after === undefined) return
      s.view = after
      ctx.emit("lm.paid", { job: s.job, units: String(after.paidUnits), paid: String(costOf(after) - before) })
      o.onPaid?.({ job: s.job, paid: costOf(after) - before, units: after.paidUnits })
    }, (e: unknown) => ctx.emit("lm.confirm-refused", { job: s.job, reason: reasonOf(e) })).finally(() => confirming.delete(s.job))
  })).then(() => undefined)

  // Until every job is final (settled, or expired at its refund).
  const poll = () => later(pollMs, () => void look().finally(() => jobs.some((s) => s.view?.state !== "settled" && s.view?.state !== "expired") && poll()))

  const refundLater = (job: number, deadline: number, tries = 0) =>
    later(Math.max(0, deadline - ctx.now()) + 1 + tries * 5_000, () => call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j === undefined || j.state === "settled" || j.state === "expired") return
      call(ctx, ctx.ledger.marketOp({ type: "refund", job }), (r) => ctx.emit("lm.job.refunded", { job, returned: String(r.returned) }),
        (e) => (tries < 20 ? refundLater(job, deadline, tries + 1) : ctx.emit("lm.job.refund-refused", { job, reason: reasonOf(e) })))
    }))

  return {
    jobs: () => jobs,
    refuted: () => refuted,
    job: (stage, units) => Effect.gen(function*() {
      const deadline = ctx.now() + deadlineMs
      const posted = yield* Effect.mapError(ctx.ledger.marketOp({ type: "postJob", requester: o.account, kind: lmJobKind(stage.from, stage.to), units: BigInt(units), maxPricePerUnit: o.maxPricePerToken, deadline }),
        (e) => new LmPaymentError({ reason: `the ledger refused the job: ${reasonOf(e)}`, stage: false }))
      refundLater(posted.job, deadline)
      const s: StageJob = { job: posted.job, from: stage.from, to: stage.to, peer: stage.peer, units, served: 0, pricePerUnit: 0n, view: undefined }
      jobs.push(s)
      if (jobs.length === 1) poll()
      yield* Effect.mapError(ctx.ledger.marketOp({ type: "assignJob", job: posted.job, provider: stage.peer, by: o.account }),
        (e) => new LmPaymentError({ reason: `job ${posted.job} cannot go to ${stage.peer}: ${reasonOf(e)}`, stage: true }))
      const view = yield* Effect.orElseSucceed(ctx.ledger.marketJob(posted.job), () => undefined)
      if (view !== undefined) {
        s.view = view
        s.pricePerUnit = view.pricePerUnit
      }
      ctx.emit("lm.job.placed", { job: posted.job, from: stage.from, to: stage.to, provider: stage.peer, units, price: String(s.pricePerUnit) })
      return posted.job
    }),
    served: (job, session, input, output, result) => {
      const s = jobs.find((j) => j.job === job)
      if (s !== undefined) s.served++
      audit?.record(job, session, input, output, result)
    },
    finish: async () => {
      const until = ctx.now() + (o.finishMs ?? 30_000)
      // The servers deliver the rest of each session when it closes: wait for notes covering what they answered.
      for (;;) {
        await look()
        const waiting = jobs.filter((s) => s.view !== undefined && s.view.state === "assigned" && s.view.delivered < BigInt(Math.min(s.served, s.units)))
        const pending = jobs.some((s) => s.view?.state === "assigned" && s.view.notes.some((n) => n.state === "pending"))
        if ((waiting.length === 0 && !pending) || ctx.now() >= until || stopped) break
        await new Promise<void>((resolve) => later(250, resolve))
      }
      const views = jobs.map((s) => s.view).filter((v): v is JobView => v !== undefined)
      const escrowed = views.reduce((n, j) => n + j.budget, 0n)
      const paid = views.reduce((n, j) => n + costOf(j), 0n)
      const returned = views.reduce((n, j) => n + j.returned, 0n)
      return { jobs, escrowed, paid, returned, held: escrowed - paid - returned }
    },
    stop: () => {
      stopped = true
      audit?.stop()
      for (const t of timers) ctx.clock.clearTimeout(t)
      timers.clear()
    },
  }
}
