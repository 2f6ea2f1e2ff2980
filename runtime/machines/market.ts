/**
 * A compute job's life from the requester's side (an XState machine; rules v1 of
 * /work/notes/issue13-plan.md, decided by the ledger: runtime/core/market on the in-memory ledger,
 * contracts/ComputeMarket.sol on a chain).
 *
 *   posting ──job.posted──▶ matching ──(route picks a provider)──▶ assigning ──job.assigned──▶ running
 *      │                      │  ▲ no provider: waiting, retried            │ assign.refused: matching
 *      ▼ job.refused          │  └────────────────────────────────┐         │
 *   rejected                  │       failed ◀──(no delivery for noShowTimeout: reclaimNoShow)── running
 *                             │  job.reopened │                                   │ note.delivered (debit notes)
 *                             └───────────────┘ ◀──(referee refuted it: dispute lost)── disputed ◀─ result.refuted
 *   running ──all units delivered──▶ delivered ──result.verified (confirm) | window over (settle)──▶ settled
 *   past the deadline: closing ──▶ expired (refund) | settled, after the pending notes' windows and verdicts
 *
 * A delivery is a debit note: `result.verified` (the referee, or the requester's own check, accepted
 * the results so far) confirms every pending note at once, so the provider is paid as it delivers;
 * `result.refuted` disputes them; a note nobody confirms or disputes is settled when its dispute
 * window is over. A provider that delivers nothing for `market.noShowTimeout` (since its assignment
 * or its last delivery, the ledger's rule) loses the job, as does one whose disputed result the
 * committee finds wrong; the job goes back to `matching`, and the routing function is told to exclude
 * every provider that failed it. Past the deadline nothing is assigned any more: the machine waits
 * at most one dispute window for the notes delivered before it, then refunds the rest (`expired`),
 * so it always ends by `deadline + market.disputeWindow`.
 *
 * Guarantees (machines/market.test.ts, market.property.test.ts): it never confirms or settles more
 * units than were delivered; it assigns the job to one provider at a time, and never again to one
 * that failed it; it ends (settled, expired, or rejected when the post itself failed) by the deadline
 * plus one dispute window; a paid note is never refunded, and a job whose units were all paid is
 * settled, never refunded.
 *
 * Purity: the machine acts only through the commands declared in `setup` (the ledger's operations:
 * postJob, assignJob, confirm, dispute, settle, reclaimNoShow, refund, and `finished`), supplied by
 * the actor with `.provide()`; the actor reports what the ledger and the network did as events, each
 * carrying the ledger time `at` (ms). Time enters only through those and through XState delays
 * computed from the job and the parameters; every state with a delay has an explicit id.
 */
import { assign, setup } from "xstate"

/** The `market.*` parameters the machine runs on (ms; from the registry's Params). */
export interface MarketJobParams {
  readonly noShowTimeout: number
  readonly disputeWindow: number
}

/** What the routing function is asked: a provider for the rest of the job, outside `exclude`. */
export interface RouteRequest {
  readonly job: number
  readonly kind: string
  /** Units still to be delivered. */
  readonly units: number
  readonly maxPricePerUnit: bigint
  /** Providers that failed this job, were seen gone, or just refused it. */
  readonly exclude: readonly string[]
}

/** Chooses a provider (e.g. runtime/core/market/routing.ts over the providers found in the DHT), or none. */
export type Route = (request: RouteRequest) => string | undefined

export interface MarketJobInput {
  readonly requester: string
  readonly kind: string
  /** Units of work (whole, ≥ 1). */
  readonly units: number
  readonly maxPricePerUnit: bigint
  /** Ledger time (ms) by which every unit must be delivered. */
  readonly deadline: number
  /** Ledger time (ms) when the machine starts. */
  readonly now: number
  readonly params: MarketJobParams
  /** How long to wait before asking `route` again when it found nobody (default: noShowTimeout). */
  readonly retryInterval?: number
  readonly route: Route
}

export type NoteState = "pending" | "frozen" | "paid" | "refunded"

/** A delivery as the machine tracks it (the ledger's debit note). */
export interface DebitNote {
  readonly provider: string
  readonly units: number
  readonly at: number
  readonly state: NoteState
}

export interface MarketJobContext {
  readonly requester: string
  readonly kind: string
  readonly units: number
  readonly maxPricePerUnit: bigint
  readonly deadline: number
  readonly params: MarketJobParams
  readonly retryInterval: number
  readonly route: Route
  /** The ledger's job id, once posted. */
  readonly job: number | undefined
  /** The latest ledger time seen (from events and from the machine's own timers). */
  readonly now: number
  /** The provider the job is assigned (or being assigned) to. */
  readonly provider: string | undefined
  /** When the provider was assigned or last delivered: the no-show clock runs from here. */
  readonly since: number
  /** When `route` was last asked (the retry clock runs from here). */
  readonly asked: number
  /** Everyone the job was assigned to, in order. */
  readonly providers: readonly string[]
  /** Providers that failed the job: never assigned it again. */
  readonly failed: readonly string[]
  /** Providers reported gone: not routed to either. */
  readonly avoid: readonly string[]
  /** Providers that refused the assignment since the last retry. */
  readonly refused: readonly string[]
  readonly notes: readonly DebitNote[]
  readonly reason: string | undefined
}

/** Every event carries the ledger time `at` (ms) of what it reports. */
export type MarketJobEvent =
  | { readonly type: "job.posted"; readonly job: number; readonly at: number }
  | { readonly type: "job.refused"; readonly reason: string; readonly at: number }
  | { readonly type: "job.assigned"; readonly provider: string; readonly at: number }
  | { readonly type: "assign.refused"; readonly provider: string; readonly reason: string; readonly at: number }
  | { readonly type: "note.delivered"; readonly provider: string; readonly units: number; readonly at: number }
  | { readonly type: "result.verified"; readonly at: number }
  | { readonly type: "result.refuted"; readonly at: number }
  | { readonly type: "dispute.resolved"; readonly providerRight: boolean; readonly at: number }
  | { readonly type: "job.reopened"; readonly at: number }
  | { readonly type: "reclaim.refused"; readonly reason: string; readonly at: number }
  | { readonly type: "provider.gone"; readonly provider: string; readonly at: number }
  | { readonly type: "providers.changed"; readonly at: number }

export interface MarketJobOutput {
  readonly job: number | undefined
  readonly status: "settled" | "expired" | "rejected"
  readonly reason: string | undefined
  readonly providers: readonly string[]
  readonly failed: readonly string[]
  /** Units delivered and not refunded, paid, refunded after a lost dispute. */
  readonly delivered: number
  readonly paid: number
  readonly refunded: number
  readonly notes: readonly DebitNote[]
}

type C = MarketJobContext
type E = MarketJobEvent

const unitsIn = (c: C, ...states: NoteState[]) => c.notes.reduce((s, n) => (states.includes(n.state) ? s + n.units : s), 0)
/** Units delivered and not refunded. */
const live = (c: C) => unitsIn(c, "pending", "frozen", "paid")
const remaining = (c: C) => c.units - live(c)
const mark = (c: C, from: NoteState, to: NoteState) => c.notes.map((n) => (n.state === from ? { ...n, state: to } : n))
/** When the last pending note's dispute window ends (undefined without pending notes). */
const windowEnd = (c: C) => {
  let end: number | undefined
  for (const n of c.notes) if (n.state === "pending") end = Math.max(end ?? 0, n.at + c.params.disputeWindow)
  return end
}
const hardStop = (c: C) => c.deadline + c.params.disputeWindow
const noShowAt = (c: C) => c.since + c.params.noShowTimeout
const at = (c: C, e: E) => Math.max(c.now, e.at)
const add = (list: readonly string[], id: string | undefined) => (id === undefined || list.includes(id) ? list : [...list, id])
const excluded = (c: C) => [...new Set([...c.failed, ...c.avoid, ...c.refused])].sort()
const by = (c: C) => ({ job: c.job!, by: c.requester })

export const marketJobMachine = setup({
  types: { input: {} as MarketJobInput, context: {} as MarketJobContext, events: {} as MarketJobEvent, output: {} as MarketJobOutput },
  actions: {
    /** Post the job: escrow `units × maxPricePerUnit`; reply `job.posted` or `job.refused`. */
    postJob: (_, _p: { requester: string; kind: string; units: number; maxPricePerUnit: bigint; deadline: number }) => {},
    /** Assign the job to `provider`; reply `job.assigned` or `assign.refused`. */
    assignJob: (_, _p: { job: number; by: string; provider: string }) => {},
    /** Pay every pending debit note of the job (`units` of them). */
    confirm: (_, _p: { job: number; by: string; units: number }) => {},
    /** Dispute the job's pending notes (`units`), which a referee refuted; the committee replies `dispute.resolved`. */
    dispute: (_, _p: { job: number; by: string; units: number }) => {},
    /** Pay the notes whose dispute window is over (`units`; anyone may). */
    settle: (_, _p: { job: number; units: number }) => {},
    /** Take the job from a provider that delivered nothing for noShowTimeout; reply `job.reopened` or `reclaim.refused`. */
    reclaimNoShow: (_, _p: { job: number; by: string; provider: string }) => {},
    /** After the deadline: return the escrow of the `units` never paid (pending notes past their window are paid first). */
    refund: (_, _p: { job: number; units: number }) => {},
    /** The job ended. */
    finished: (_, _p: MarketJobOutput) => {},
    observe: assign({ now: ({ context, event }) => at(context, event) }),
    pick: assign({
      asked: ({ context }) => context.now,
      provider: ({ context }) => {
        if (context.job === undefined) return undefined
        const exclude = excluded(context)
        let choice: string | undefined
        try {
          choice = context.route({ job: context.job, kind: context.kind, units: remaining(context), maxPricePerUnit: context.maxPricePerUnit, exclude })
        } catch {
          choice = undefined
        }
        // The routing function is the actor's: a choice it should have excluded is no choice.
        return choice === undefined || choice === "" || exclude.includes(choice) ? undefined : choice
      },
    }),
    addNote: assign(({ context, event }) => {
      if (event.type !== "note.delivered") return {}
      const now = at(context, event)
      return { now, since: now, notes: [...context.notes, { provider: event.provider, units: event.units, at: event.at, state: "pending" as const }] }
    }),
    payPending: assign({ notes: ({ context }) => mark(context, "pending", "paid") }),
    freezePending: assign({ notes: ({ context }) => mark(context, "pending", "frozen") }),
    loseProvider: assign(({ context }) => ({ failed: add(context.failed, context.provider), provider: undefined })),
  },
  guards: {
    pastDeadline: ({ context }) => context.now >= context.deadline,
    hasProvider: ({ context }) => context.provider !== undefined,
    fromProvider: ({ context, event }) => "provider" in event && event.provider === context.provider,
    validDelivery: ({ context, event }) =>
      event.type === "note.delivered" && event.provider === context.provider && Number.isSafeInteger(event.units) &&
      event.units > 0 && event.units <= remaining(context) && event.at < context.deadline,
    allDelivered: ({ context }) => remaining(context) === 0,
    hasPending: ({ context }) => context.notes.some((n) => n.state === "pending"),
    // The ledger accepts a dispute only while a pending note is within its window.
    canDispute: ({ context, event }) => context.notes.some((n) => n.state === "pending" && at(context, event) < n.at + context.params.disputeWindow),
    noShowFirst: ({ context }) => noShowAt(context) < context.deadline,
    allPaid: ({ context }) => unitsIn(context, "paid") === context.units,
    open: ({ context }) => !context.notes.some((n) => n.state === "pending" || n.state === "frozen"),
    providerRight: ({ event }) => event.type === "dispute.resolved" && event.providerRight,
  },
  delays: {
    untilDeadline: ({ context }) => Math.max(0, context.deadline - context.now),
    retry: ({ context }) => context.retryInterval,
    noShow: ({ context }) => Math.max(0, noShowAt(context) - context.now),
    window: ({ context }) => Math.max(0, (windowEnd(context) ?? hardStop(context)) - context.now),
    hardStop: ({ context }) => Math.max(0, hardStop(context) - context.now),
  },
}).createMachine({
  id: "marketJob",
  context: ({ input }) => ({
    requester: input.requester, kind: input.kind, units: input.units, maxPricePerUnit: input.maxPricePerUnit,
    deadline: input.deadline, params: input.params, retryInterval: Math.max(1, input.retryInterval ?? input.params.noShowTimeout),
    route: input.route, job: undefined, now: input.now, provider: undefined, since: input.now, asked: input.now,
    providers: [], failed: [], avoid: [], refused: [], notes: [], reason: undefined,
  }),
  initial: "posting",
  on: {
    "provider.gone": { actions: ["observe", assign({ avoid: ({ context, event }) => add(context.avoid, event.provider) })] },
  },
  states: {
    posting: {
      id: "market.posting",
      entry: {
        type: "postJob",
        params: ({ context }) => ({ requester: context.requester, kind: context.kind, units: context.units, maxPricePerUnit: context.maxPricePerUnit, deadline: context.deadline }),
      },
      on: {
        "job.posted": { target: "matching", actions: assign({ job: ({ event }) => event.job, now: ({ context, event }) => at(context, event) }) },
        "job.refused": { target: "rejected", actions: ["observe", assign({ reason: ({ event }) => `the ledger refused the job: ${event.reason}` })] },
      },
      after: { untilDeadline: { target: "rejected", actions: assign({ now: ({ context }) => Math.max(context.now, context.deadline), reason: "the job was not posted by its deadline" }) } },
    },
    matching: {
      entry: "pick",
      always: [
        { guard: "pastDeadline", target: "closing", actions: assign({ provider: undefined }) },
        { guard: "allDelivered", target: "delivered", actions: assign({ provider: undefined }) },
        { guard: "hasProvider", target: "assigning", actions: { type: "assignJob", params: ({ context }) => ({ ...by(context), provider: context.provider! }) } },
        { target: "waiting" },
      ],
    },
    // Nobody to route to: ask again after a while, or as soon as the actor knows of new providers.
    waiting: {
      id: "market.waiting",
      on: { "providers.changed": { target: "matching", actions: ["observe", assign({ refused: [] })] } },
      after: {
        untilDeadline: { target: "closing", actions: assign({ now: ({ context }) => Math.max(context.now, context.deadline) }) },
        retry: { target: "matching", actions: assign({ now: ({ context }) => Math.max(context.now, context.asked + context.retryInterval), refused: [] }) },
      },
    },
    assigning: {
      id: "market.assigning",
      on: {
        "job.assigned": {
          guard: "fromProvider",
          target: "running",
          actions: assign(({ context, event }) => ({ now: at(context, event), since: at(context, event), providers: add(context.providers, event.provider) })),
        },
        // A delivery means the ledger assigned it (its receipt may come later).
        "note.delivered": {
          guard: "validDelivery",
          target: "running",
          actions: [assign(({ context, event }) => ({ providers: add(context.providers, event.provider) })), "addNote"],
        },
        "assign.refused": {
          guard: "fromProvider",
          target: "matching",
          actions: ["observe", assign(({ context, event }) => ({ refused: add(context.refused, event.provider), provider: undefined }))],
        },
      },
      // Until the ledger answers, the job may be assigned: never offer it to anyone else meanwhile.
      after: { untilDeadline: { target: "closing", actions: assign({ now: ({ context }) => Math.max(context.now, context.deadline) }) } },
    },
    running: {
      id: "market.running",
      always: { guard: "allDelivered", target: "delivered" },
      on: {
        // Each delivery restarts the no-show clock (re-entering re-arms the timers).
        "note.delivered": { guard: "validDelivery", target: "running", reenter: true, actions: "addNote" },
        "result.verified": { guard: "hasPending", actions: ["observe", { type: "confirm", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "payPending"] },
        "result.refuted": { guard: "canDispute", target: "disputed", actions: "observe" },
      },
      after: {
        noShow: {
          guard: "noShowFirst",
          target: "failed",
          actions: [
            assign({ now: ({ context }) => Math.max(context.now, noShowAt(context)) }),
            { type: "reclaimNoShow", params: ({ context }) => ({ ...by(context), provider: context.provider! }) },
          ],
        },
        untilDeadline: { target: "closing", actions: assign({ now: ({ context }) => Math.max(context.now, context.deadline) }) },
      },
    },
    // The provider is being taken off the job: until the ledger says the job is open again, it still holds it.
    failed: {
      id: "market.failed",
      on: {
        "job.reopened": { target: "matching", actions: ["observe", "loseProvider"] },
        "reclaim.refused": { target: "running", actions: assign(({ context, event }) => ({ now: at(context, event), since: at(context, event) })) },
        // A delivery that beat the reclaim is a note on the ledger.
        "note.delivered": { guard: "validDelivery", actions: "addNote" },
        "result.verified": { guard: "hasPending", actions: ["observe", { type: "confirm", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "payPending"] },
      },
      after: { untilDeadline: { target: "closing", actions: assign({ now: ({ context }) => Math.max(context.now, context.deadline) }) } },
    },
    // Every unit delivered: pay on a verification, dispute on a refutation, or settle when the window is over.
    delivered: {
      id: "market.delivered",
      always: { guard: "open", target: "resolving" },
      on: {
        "result.verified": { guard: "hasPending", target: "resolving", actions: ["observe", { type: "confirm", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "payPending"] },
        "result.refuted": { guard: "canDispute", target: "disputed", actions: "observe" },
      },
      after: {
        window: {
          guard: "hasPending",
          target: "resolving",
          actions: [
            assign({ now: ({ context }) => Math.max(context.now, windowEnd(context) ?? context.now) }),
            { type: "settle", params: ({ context }) => ({ job: context.job!, units: unitsIn(context, "pending") }) },
            "payPending",
          ],
        },
      },
    },
    disputed: {
      id: "market.disputed",
      entry: [{ type: "dispute", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "freezePending"],
      on: {
        "dispute.resolved": [
          { guard: "providerRight", target: "resolving", actions: ["observe", assign({ notes: ({ context }) => mark(context, "frozen", "paid") })] },
          // The committee's verdict refunded the frozen notes and reopened the job.
          { target: "resolving", actions: ["observe", assign({ notes: ({ context }) => mark(context, "frozen", "refunded") }), "loseProvider"] },
        ],
        "note.delivered": { guard: "validDelivery", actions: "addNote" },
        "result.verified": { guard: "hasPending", actions: ["observe", { type: "confirm", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "payPending"] },
      },
      // A verdict that never comes does not keep the job open past the last window.
      after: { hardStop: { target: "expired", actions: assign({ now: ({ context }) => Math.max(context.now, hardStop(context)), reason: "no verdict on the dispute by the end of the last dispute window" }) } },
    },
    // Where a job goes once its notes are settled or a verdict is in.
    resolving: {
      always: [
        { guard: "pastDeadline", target: "closing" },
        { guard: "allPaid", target: "settled" },
        { guard: "allDelivered", target: "delivered" },
        { guard: "hasProvider", target: "running" },
        { target: "matching" },
      ],
    },
    // Past the deadline: nothing more is assigned; the notes delivered in time are seen through.
    closing: {
      always: [
        { guard: "allPaid", target: "settled" },
        { guard: "open", target: "expired", actions: assign({ reason: ({ context }) => `deadline passed with ${context.units - unitsIn(context, "paid")} of ${context.units} units unpaid` }) },
        { target: "winding" },
      ],
    },
    winding: {
      id: "market.winding",
      on: {
        "result.verified": { guard: "hasPending", target: "closing", actions: ["observe", { type: "confirm", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "payPending"] },
        "result.refuted": {
          guard: "canDispute",
          target: "closing",
          actions: ["observe", { type: "dispute", params: ({ context }) => ({ ...by(context), units: unitsIn(context, "pending") }) }, "freezePending"],
        },
        "dispute.resolved": [
          { guard: "providerRight", target: "closing", actions: ["observe", assign({ notes: ({ context }) => mark(context, "frozen", "paid") })] },
          { target: "closing", actions: ["observe", assign({ notes: ({ context }) => mark(context, "frozen", "refunded") }), "loseProvider"] },
        ],
      },
      after: {
        window: {
          guard: "hasPending",
          target: "closing",
          actions: [
            assign({ now: ({ context }) => Math.max(context.now, windowEnd(context) ?? context.now) }),
            { type: "settle", params: ({ context }) => ({ job: context.job!, units: unitsIn(context, "pending") }) },
            "payPending",
          ],
        },
        hardStop: { target: "expired", actions: assign({ now: ({ context }) => Math.max(context.now, hardStop(context)), reason: "no verdict on the dispute by the end of the last dispute window" }) },
      },
    },
    settled: { type: "final", entry: { type: "finished", params: ({ context }) => outputOf(context, "settled") } },
    expired: {
      type: "final",
      entry: [
        { type: "refund", params: ({ context }) => ({ job: context.job!, units: context.units - unitsIn(context, "paid", "pending", "frozen") }) },
        // The refund pays the notes still pending: every one is past its window by then.
        "payPending",
        { type: "finished", params: ({ context }) => outputOf(context, "expired") },
      ],
    },
    rejected: { type: "final", entry: { type: "finished", params: ({ context }) => outputOf(context, "rejected") } },
  },
  output: ({ context }) => outputOf(context, context.job === undefined ? "rejected" : context.units === unitsIn(context, "paid") ? "settled" : "expired"),
})

const outputOf = (c: C, status: MarketJobOutput["status"]): MarketJobOutput => ({
  job: c.job,
  status,
  reason: c.reason,
  providers: c.providers,
  failed: c.failed,
  delivered: live(c),
  paid: unitsIn(c, "paid"),
  refunded: unitsIn(c, "refunded"),
  notes: c.notes,
})

export type MarketJobMachine = typeof marketJobMachine
