/**
 * The requester's answer to a ledger that does not answer (runtime/actors/market/requester.ts): on a
 * chain the adapter gives up on an operation after its timeout (`ChainUnavailable`) while the
 * transaction may still be mined. So that no escrow is left behind:
 *
 * - a post without an answer is remembered (`lostPost`); `sweep` reads the requester's own jobs
 *   (`marketJobs({ requester })`) and hands the live, open one posted with that post's terms (kind,
 *   units, cap, deadline to the chain's second) that no run holds to `adopt`;
 * - its own live jobs that no run holds once past their deadline (a lost post found late, a job of an
 *   earlier run of the node) it refunds itself (`refund` is anyone's, nobody else has a reason to send it);
 * - `tookEffect` reads a job after an assignment or a reclaim without an answer, to tell whether it
 *   went through.
 *
 * A sweep is due while a lost post or an owed refund is unresolved, and every `interval` when given.
 */
import type { JobView } from "../../core/market/index.ts"
import { LIVE_JOB_STATES } from "../../core/market/index.ts"
import { call, reasonOf, type MarketContext } from "./context.ts"

/** One job to run: what `postJob` escrows (`deadline` is absolute, ledger time in ms). */
export interface JobSpec {
  readonly kind: string
  readonly units: number
  readonly maxPricePerUnit: bigint
  readonly deadline: number
}

/** How long past its deadline a lost post is still looked for on the ledger (a transaction mined late). */
const LOST_POST_GRACE_MS = 60_000

/** A failure that is no answer (`ChainUnavailable`): the ledger may have applied the operation. */
export const isUnanswered = (e: unknown): boolean => typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "ChainUnavailable"

/** Whether `job` is what `spec` posts: same kind, units and cap, the deadline as the ledger rounds it (a chain: up to its second). */
const postedAs = (spec: JobSpec, job: JobView): boolean =>
  job.kind === spec.kind && job.units === BigInt(spec.units) && job.maxPricePerUnit === spec.maxPricePerUnit && job.deadline >= spec.deadline && job.deadline - spec.deadline < 1_000

export interface Sweeper {
  /** A post the ledger did not answer (it may have taken it). */
  lostPost(spec: JobSpec): void
  /** Posts in flight: no sweep meanwhile (their jobs, not yet known to their runs, would look like lost posts'). */
  posting(delta: 1 | -1): void
  /** Sweep if one is due (at every poll of the requester). */
  tick(): void
  /** After a failed operation on `job`: `yes` if the ledger shows it took effect (`took`), else `no`. */
  tookEffect(job: number, e: unknown, took: (j: JobView) => boolean, yes: () => void, no: () => void): void
}

/** The sweeper of the requester `self` on `ctx`; `held(id)` says whether a run holds job `id`. */
export const makeSweeper = (ctx: MarketContext, o: {
  readonly self: string
  readonly interval: number | undefined
  readonly held: (job: number) => boolean
  readonly stopped: () => boolean
  /** Run a job the ledger holds already, posted as `spec`. */
  readonly adopt: (spec: JobSpec, job: JobView) => void
}): Sweeper => {
  const lost: JobSpec[] = []
  let inFlight = 0
  // Its jobs no run holds, past their deadline and not refunded yet (read again until they are); those being refunded now.
  const owed = new Set<number>()
  const refunding = new Set<number>()
  let sweeping = false
  let lastSweep = Number.NEGATIVE_INFINITY

  const refund = (job: number) => {
    refunding.add(job)
    call(ctx, ctx.ledger.marketOp({ type: "refund", job }), (r) => {
      refunding.delete(job)
      owed.delete(job)
      ctx.emit("market.job.swept", { job, state: r.state, returned: String(r.returned), paid: r.payments.length })
    }, (e) => {
      refunding.delete(job)
      ctx.emit("market.sweep-refused", { job, reason: reasonOf(e) })
    })
  }

  /** Read its own jobs: adopt a lost post's, refund those no run holds past their deadline. One read at a time. */
  const sweep = () => {
    if (sweeping || o.stopped() || inFlight > 0) return
    sweeping = true
    lastSweep = ctx.now()
    const done = () => void (sweeping = false)
    call(ctx, ctx.ledger.marketJobs({ requester: o.self }), (jobs) => {
      done()
      if (o.stopped()) return
      const now = ctx.now()
      owed.clear()
      for (const j of jobs) {
        if (o.held(j.id) || !LIVE_JOB_STATES.includes(j.state)) continue
        const i = lost.findIndex((l) => postedAs(l, j))
        if (i >= 0 && j.state === "open" && now < j.deadline) {
          const spec = lost.splice(i, 1)[0]!
          ctx.emit("market.job.adopted", { job: j.id, units: spec.units, budget: String(j.budget) })
          o.adopt({ ...spec, deadline: j.deadline }, j)
          continue
        }
        if (i >= 0) lost.splice(i, 1)
        // A disputed one waits for its verdict (the periodic sweeps see it again).
        if (now < j.deadline || j.state === "disputed") continue
        owed.add(j.id)
        if (!refunding.has(j.id)) refund(j.id)
      }
      // A lost post not on the ledger by its deadline was never taken (or is refunded by the sweeps when it shows up).
      for (let i = lost.length - 1; i >= 0; i--) if (now >= lost[i]!.deadline + LOST_POST_GRACE_MS) lost.splice(i, 1)
    }, done)
  }

  return {
    lostPost: (spec) => {
      lost.push(spec)
      ctx.emit("market.post-unanswered", { kind: spec.kind, units: spec.units, deadline: spec.deadline })
    },
    posting: (delta) => void (inFlight += delta),
    tick: () => {
      if (lost.length > 0 || owed.size > 0 || (o.interval !== undefined && ctx.now() - lastSweep >= o.interval)) sweep()
    },
    // Unanswered, or refused for a state an earlier attempt that went through would leave (not open, not assigned).
    tookEffect: (job, e, took, yes, no) => {
      const tag = (e as { _tag?: unknown } | null)?._tag
      if (!isUnanswered(e) && tag !== "MarketJobNotAssigned" && tag !== "MarketJobNotOpen") return no()
      call(ctx, ctx.ledger.marketJob(job), (j) => (j !== undefined && took(j) ? yes() : no()), no)
    },
  }
}
