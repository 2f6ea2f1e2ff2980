/**
 * A compute job's life from the provider's side (an XState machine; rules v1 of
 * /work/notes/issue13-plan.md). The actor starts one when the ledger assigns a job to this provider.
 *
 *   computing ──compute.done──▶ delivering ──note.recorded──▶ computing … (one debit note per chunk)
 *       │ every unit delivered, the deadline, job.reclaimed, a lost dispute, deliver.refused
 *       ▼
 *   collecting ──(every note paid, or refunded after a lost dispute)──▶ closed
 *       ├ a note nobody confirmed or disputed: `settle` once its window is over (anyone may)
 *       └ deadline + 2 × disputeWindow with notes still unpaid (a verdict that never came) ──▶ closed
 *
 * Work is cut into chunks of `chunk` units, each delivered as a debit note as soon as it is computed,
 * so the provider is paid as it goes (the requester's `confirm`) and the requester's no-show clock
 * restarts at every note. The provider never delivers more units than the job has, nor after the
 * deadline, nor once the job is no longer its own; and it collects its pay itself with `settle` when
 * the requester stays silent.
 *
 * Purity: commands `compute`, `deliver`, `settle` and `finished` are supplied by the actor with
 * `.provide()`; what the inference backend and the ledger did comes back as events carrying the
 * ledger time `at`. Time enters only through those and XState delays; states with delays have ids.
 */
import { assign, setup } from "xstate"
import type { MarketJobParams, NoteState } from "./market.ts"

export interface ProviderJobInput {
  readonly provider: string
  readonly job: number
  /** Units the job still needs (the whole job, or what is left after a failover). */
  readonly units: number
  readonly deadline: number
  /** Ledger time (ms) when the machine starts (the assignment). */
  readonly now: number
  readonly params: MarketJobParams
  /** Units per debit note (≥ 1). */
  readonly chunk: number
}

export interface ProviderNote {
  readonly units: number
  readonly at: number
  readonly state: NoteState
}

export interface ProviderJobContext extends Omit<ProviderJobInput, "now"> {
  readonly now: number
  /** The chunk being computed or delivered. */
  readonly working: number
  readonly resultHash: string | undefined
  readonly notes: readonly ProviderNote[]
  readonly reason: string | undefined
}

export type ProviderJobEvent =
  | { readonly type: "compute.done"; readonly units: number; readonly resultHash: string; readonly at: number }
  | { readonly type: "compute.failed"; readonly reason: string; readonly at: number }
  | { readonly type: "note.recorded"; readonly units: number; readonly at: number }
  | { readonly type: "deliver.refused"; readonly reason: string; readonly at: number }
  | { readonly type: "notes.paid"; readonly at: number }
  | { readonly type: "notes.disputed"; readonly at: number }
  | { readonly type: "dispute.resolved"; readonly providerRight: boolean; readonly at: number }
  | { readonly type: "job.reclaimed"; readonly at: number }

export interface ProviderJobOutput {
  readonly job: number
  /** paid: every note paid; slashed: a result was refuted; unpaid: notes still open at the end. */
  readonly status: "paid" | "slashed" | "unpaid"
  readonly reason: string | undefined
  readonly delivered: number
  readonly paid: number
  readonly refunded: number
}

type C = ProviderJobContext

const unitsIn = (c: C, ...states: NoteState[]) => c.notes.reduce((s, n) => (states.includes(n.state) ? s + n.units : s), 0)
const delivered = (c: C) => unitsIn(c, "pending", "frozen", "paid", "refunded")
const nextChunk = (c: C) => Math.max(0, Math.min(c.chunk, c.units - delivered(c)))
const mark = (c: C, from: NoteState, to: NoteState) => c.notes.map((n) => (n.state === from ? { ...n, state: to } : n))
const windowEnd = (c: C) => c.notes.reduce<number | undefined>((end, n) => (n.state === "pending" ? Math.max(end ?? 0, n.at + c.params.disputeWindow) : end), undefined)
const hardStop = (c: C) => c.deadline + 2 * c.params.disputeWindow

const outputOf = (c: C): ProviderJobOutput => ({
  job: c.job,
  status: unitsIn(c, "refunded") > 0 ? "slashed" : unitsIn(c, "pending", "frozen") > 0 ? "unpaid" : "paid",
  reason: c.reason,
  delivered: delivered(c),
  paid: unitsIn(c, "paid"),
  refunded: unitsIn(c, "refunded"),
})

export const providerJobMachine = setup({
  types: { input: {} as ProviderJobInput, context: {} as ProviderJobContext, events: {} as ProviderJobEvent, output: {} as ProviderJobOutput },
  actions: {
    /** Compute the next `units` of the job; reply `compute.done` (with the result's hash) or `compute.failed`. */
    compute: (_, _p: { job: number; units: number }) => {},
    /** Deliver the chunk as a debit note; reply `note.recorded` or `deliver.refused`. */
    deliver: (_, _p: { job: number; provider: string; units: number; resultHash: string }) => {},
    /** Collect the notes whose dispute window is over (`units`); the ledger's payment comes back as `notes.paid`. */
    settle: (_, _p: { job: number; units: number }) => {},
    /** The machine is done with the job. */
    finished: (_, _p: ProviderJobOutput) => {},
    /** Note why the work stopped (the first reason wins). */
    stopWith: assign(({ context }, params: { reason: string }) => ({ reason: context.reason ?? params.reason })),
    observe: assign({ now: ({ context, event }) => Math.max(context.now, event.at) }),
    recordNote: assign(({ context, event }) =>
      event.type === "note.recorded" ? { notes: [...context.notes, { units: event.units, at: event.at, state: "pending" as const }], working: 0 } : {}),
  },
  guards: {
    moreToDo: ({ context }) => nextChunk(context) > 0,
    // The backend may only hand back the chunk it was asked for.
    chunkDone: ({ context, event }) => event.type === "compute.done" && event.units === context.working && event.at < context.deadline,
    pastDeadline: ({ context }) => context.now >= context.deadline,
    hasPending: ({ context }) => context.notes.some((n) => n.state === "pending"),
    allClosed: ({ context }) => !context.notes.some((n) => n.state === "pending" || n.state === "frozen"),
    providerRight: ({ event }) => event.type === "dispute.resolved" && event.providerRight,
  },
  delays: {
    untilDeadline: ({ context }) => Math.max(0, context.deadline - context.now),
    window: ({ context }) => Math.max(0, (windowEnd(context) ?? hardStop(context)) - context.now),
    hardStop: ({ context }) => Math.max(0, hardStop(context) - context.now),
  },
}).createMachine({
  id: "providerJob",
  context: ({ input }) => ({ ...input, chunk: Math.max(1, Math.floor(input.chunk)), working: 0, resultHash: undefined, notes: [], reason: undefined }),
  initial: "next",
  // The requester pays, disputes and is judged while the work goes on.
  on: {
    "notes.paid": { actions: ["observe", assign({ notes: ({ context }) => mark(context, "pending", "paid") })] },
    "notes.disputed": { actions: ["observe", assign({ notes: ({ context }) => mark(context, "pending", "frozen") })] },
    "dispute.resolved": [
      { guard: "providerRight", actions: ["observe", assign({ notes: ({ context }) => mark(context, "frozen", "paid") })] },
      // A refuted result: the ledger refunded the notes, slashed the bond and gave the job to another.
      { target: ".collecting", actions: ["observe", assign({ notes: ({ context }) => mark(context, "frozen", "refunded") }), { type: "stopWith", params: { reason: "a referee refuted the result" } }] },
    ],
    "job.reclaimed": { target: ".collecting", actions: ["observe", { type: "stopWith", params: { reason: "the requester reclaimed the job (no delivery within noShowTimeout)" } }] },
  },
  states: {
    next: {
      always: [
        { guard: "pastDeadline", target: "collecting", actions: { type: "stopWith", params: { reason: "deadline passed" } } },
        { guard: "moreToDo", target: "computing" },
        { target: "collecting" },
      ],
    },
    computing: {
      id: "provider.computing",
      entry: [
        assign({ working: ({ context }) => nextChunk(context) }),
        { type: "compute", params: ({ context }) => ({ job: context.job, units: nextChunk(context) }) },
      ],
      on: {
        "compute.done": { guard: "chunkDone", target: "delivering", actions: ["observe", assign({ resultHash: ({ event }) => event.resultHash })] },
        "compute.failed": { target: "collecting", actions: ["observe", assign({ reason: ({ event }) => `computation failed: ${event.reason}` })] },
      },
      after: { untilDeadline: { target: "collecting", actions: [assign({ now: ({ context }) => Math.max(context.now, context.deadline) }), { type: "stopWith", params: { reason: "deadline passed" } }] } },
    },
    delivering: {
      id: "provider.delivering",
      entry: { type: "deliver", params: ({ context }) => ({ job: context.job, provider: context.provider, units: context.working, resultHash: context.resultHash! }) },
      on: {
        "note.recorded": [
          {
            guard: ({ context, event }) => event.units === context.working,
            target: "next",
            actions: ["observe", "recordNote"],
          },
        ],
        "deliver.refused": { target: "collecting", actions: ["observe", assign({ reason: ({ event }) => `the ledger refused the delivery: ${event.reason}` })] },
      },
      after: { untilDeadline: { target: "collecting", actions: [assign({ now: ({ context }) => Math.max(context.now, context.deadline) }), { type: "stopWith", params: { reason: "deadline passed" } }] } },
    },
    // No more work: wait for payment, settle what the requester leaves unconfirmed.
    collecting: {
      id: "provider.collecting",
      always: { guard: "allClosed", target: "closed" },
      on: {
        // Re-enter on every change so the window timer follows the notes still pending.
        "notes.paid": { target: "collecting", reenter: true, actions: ["observe", assign({ notes: ({ context }) => mark(context, "pending", "paid") })] },
        "notes.disputed": { target: "collecting", reenter: true, actions: ["observe", assign({ notes: ({ context }) => mark(context, "pending", "frozen") })] },
        // The delivery in flight when the job was taken may still have landed.
        "note.recorded": { guard: ({ context, event }) => context.working > 0 && event.units === context.working, target: "collecting", reenter: true, actions: ["observe", "recordNote"] },
      },
      after: {
        window: {
          guard: "hasPending",
          actions: [
            assign({ now: ({ context }) => Math.max(context.now, windowEnd(context) ?? context.now) }),
            { type: "settle", params: ({ context }) => ({ job: context.job, units: unitsIn(context, "pending") }) },
          ],
        },
        hardStop: { target: "closed", actions: [assign({ now: ({ context }) => Math.max(context.now, hardStop(context)) }), { type: "stopWith", params: { reason: "notes still unpaid at deadline + 2 × disputeWindow" } }] },
      },
    },
    closed: { type: "final", entry: { type: "finished", params: ({ context }) => outputOf(context) } },
  },
  output: ({ context }) => outputOf(context),
})

export type ProviderJobMachine = typeof providerJobMachine
