/**
 * One federated training round, as the coordinator runs it (an XState machine).
 *
 *   idle ──round.open──▶ (cohort drawn from the seeded `random`) ──┬─▶ training ─────────────┐
 *                                                                  └─▶ advertising → sharing ─┤ (secure aggregation)
 *   training: updates (or masked inputs) arrive until all are in, or the deadline ─────────────┤
 *                                                                      (secure aggregation) ◀─┤ unmasking
 *   aggregating ──aggregate.done──▶ evaluating ──evaluation.done──▶ committing ──commit.done──▶ done
 *   any step that cannot go on ───────────────────────────────────────────────────────────────▶ aborted (reason)
 *
 * Dropouts are tolerated: the round goes on at the deadline with whoever answered, as long as at
 * least `minParticipants` did (and, with secure aggregation, at least `secAggThreshold` of those who
 * shared keys answer the unmasking request); otherwise it aborts and says why.
 *
 * Purity: the machine acts only through the actions declared in `setup`, supplied by the node (or
 * the simulator) with `.provide()`: `announce` (send the global model to the cohort), the secure
 * aggregation requests, `aggregate`, `evaluate`, `commit` (submit the result as a transaction) and
 * `finished`. The work they start reports back as events. Randomness comes in as `random` (the
 * simulator's seeded stream), time only through XState's clock; every delayed transition sits in a
 * state with an explicit id, so its event is named `xstate.after.<delay>.<id>`, never at random.
 */
import { and, assign, setup } from "xstate"

export interface TrainingRoundInput {
  readonly round: number
  /** Trainers that may be picked (any order; the draw sorts them first). */
  readonly trainers: readonly string[]
  /** How many to pick (at least 1; all of them when there are fewer). */
  readonly cohortSize: number
  /** Fewest updates a round may be aggregated from. */
  readonly minParticipants: number
  /** Time the cohort has for local training, from `announce` (ms). */
  readonly deadline: number
  /** Time each secure-aggregation step and the commit may take (ms). */
  readonly stepTimeout: number
  readonly secureAggregation: boolean
  /** Fewest unmasking answers that recover the sum (with secure aggregation). */
  readonly secAggThreshold: number
  /** A uniform draw in [0, 1): the seeded stream the cohort is drawn from. */
  readonly random: () => number
}

/** What the round committed (scores are integers 0..1_000_000 by trainer id). */
export interface RoundResult {
  readonly round: number
  readonly modelHash: string
  readonly accuracy: number
  readonly participants: readonly string[]
  readonly scores: Readonly<Record<string, number>>
}

export interface TrainingRoundContext {
  readonly input: Omit<TrainingRoundInput, "random">
  readonly random: () => number
  readonly cohort: readonly string[]
  /** Who advertised keys, who shared them (secure aggregation). */
  readonly advertised: readonly string[]
  readonly shared: readonly string[]
  /** Whose update (or masked input) arrived, in arrival order. */
  readonly updates: readonly string[]
  readonly unmasked: readonly string[]
  readonly modelHash: string | undefined
  readonly accuracy: number | undefined
  readonly scores: Readonly<Record<string, number>>
  readonly height: number | undefined
  readonly reason: string | undefined
}

export type TrainingRoundEvent =
  | { readonly type: "round.open" }
  | { readonly type: "advert.received"; readonly from: string }
  | { readonly type: "shares.received"; readonly from: string }
  | { readonly type: "update.received"; readonly from: string }
  | { readonly type: "unmask.received"; readonly from: string }
  | { readonly type: "aggregate.done"; readonly modelHash: string }
  | { readonly type: "aggregate.failed"; readonly reason: string }
  | { readonly type: "evaluation.done"; readonly accuracy: number; readonly scores: Readonly<Record<string, number>> }
  | { readonly type: "evaluation.failed"; readonly reason: string }
  | { readonly type: "commit.done"; readonly height: number }
  | { readonly type: "round.abort"; readonly reason: string }

export interface TrainingRoundOutput {
  readonly round: number
  readonly status: "done" | "aborted"
  readonly reason: string | undefined
  readonly cohort: readonly string[]
  readonly participants: readonly string[]
  readonly modelHash: string | undefined
  readonly accuracy: number | undefined
  readonly height: number | undefined
}

/** `size` trainers drawn without replacement from `trainers` (sorted first, so the draw depends only on the set and the stream), sorted. */
export const drawCohort = (trainers: readonly string[], size: number, random: () => number): string[] => {
  const pool = [...trainers].sort()
  const k = Math.max(0, Math.min(size, pool.length))
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    const t = pool[i]!
    pool[i] = pool[j]!
    pool[j] = t
  }
  return pool.slice(0, k).sort()
}

const add = (list: readonly string[], id: string) => (list.includes(id) ? list : [...list, id])
/** Updates counted for aggregation: with secure aggregation, only from those who shared keys. */
const counted = (c: TrainingRoundContext) => c.input.secureAggregation ? c.updates.filter((id) => c.shared.includes(id)) : c.updates
/** Fewest updates a round goes on with (with secure aggregation, also enough to unmask the sum). */
const neededUpdates = (c: TrainingRoundContext) => Math.max(1, c.input.minParticipants, c.input.secureAggregation ? c.input.secAggThreshold : 0)
const announced = ({ context }: { context: TrainingRoundContext }) => ({ round: context.input.round, cohort: context.cohort, deadline: context.input.deadline })
const masked = ({ context }: { context: TrainingRoundContext }) => ({ round: context.input.round, participants: context.shared })
const shortBy = (what: string, got: number, of: number, need: number) => `too few ${what}: ${got} of ${of} (need ${need})`

export const trainingRoundMachine = setup({
  types: {
    input: {} as TrainingRoundInput,
    context: {} as TrainingRoundContext,
    events: {} as TrainingRoundEvent,
    output: {} as TrainingRoundOutput,
  },
  actions: {
    /** Send the global model (and, with secure aggregation, the request to advertise keys) to the cohort. */
    announce: (_, _p: { round: number; cohort: readonly string[]; deadline: number }) => {},
    /** Secure aggregation: send everyone who advertised the list of adverts, so they share keys. */
    requestShares: (_, _p: { round: number; participants: readonly string[] }) => {},
    /** Secure aggregation: ask those who shared keys for their masked inputs. */
    requestMasked: (_, _p: { round: number; participants: readonly string[] }) => {},
    /** Secure aggregation: ask the survivors for what unmasks the sum (their own masks' seeds, the dropped ones' keys). */
    requestUnmask: (_, _p: { round: number; survivors: readonly string[]; dropped: readonly string[] }) => {},
    /** Combine the updates of `participants`; reply `aggregate.done` or `aggregate.failed`. */
    aggregate: (_, _p: { round: number; participants: readonly string[] }) => {},
    /** Evaluate the aggregate on held-out data and score the participants; reply `evaluation.done`. */
    evaluate: (_, _p: { round: number; participants: readonly string[]; modelHash: string }) => {},
    /** Submit the result as a transaction; reply `commit.done` once a block holds it. */
    commit: (_, _p: RoundResult) => {},
    /** The round ended (done or aborted). */
    finished: (_, _p: TrainingRoundOutput) => {},
  },
  guards: {
    cohortTooSmall: ({ context }) => context.cohort.length < Math.max(1, context.input.minParticipants),
    allAdvertised: ({ context }) => context.advertised.length === context.cohort.length,
    enoughAdverts: ({ context }) => context.advertised.length >= Math.max(context.input.minParticipants, context.input.secAggThreshold),
    allShared: ({ context }) => context.shared.length === context.advertised.length,
    enoughShares: ({ context }) => context.shared.length >= Math.max(context.input.minParticipants, context.input.secAggThreshold),
    allUpdates: ({ context }) => counted(context).length === (context.input.secureAggregation ? context.shared.length : context.cohort.length),
    enoughUpdates: ({ context }) => counted(context).length >= neededUpdates(context),
    secure: ({ context }) => context.input.secureAggregation,
    allUnmasked: ({ context }) => context.unmasked.length === counted(context).length,
    enoughUnmasked: ({ context }) => context.unmasked.length >= context.input.secAggThreshold,
  },
  delays: {
    deadline: ({ context }) => context.input.deadline,
    step: ({ context }) => context.input.stepTimeout,
  },
}).createMachine({
  id: "trainingRound",
  context: ({ input }) => {
    const { random, ...rest } = input
    return {
      input: rest, random, cohort: [], advertised: [], shared: [], updates: [], unmasked: [],
      modelHash: undefined, accuracy: undefined, scores: {}, height: undefined, reason: undefined,
    }
  },
  initial: "idle",
  on: {
    "round.abort": { target: ".aborted", actions: assign({ reason: ({ event }) => event.reason }) },
  },
  states: {
    idle: {
      on: {
        "round.open": {
          target: "opening",
          actions: assign({ cohort: ({ context }) => drawCohort(context.input.trainers, context.input.cohortSize, context.random) }),
        },
      },
    },
    opening: {
      always: [
        {
          guard: "cohortTooSmall",
          target: "aborted",
          actions: assign({ reason: ({ context }) => `cohort too small: ${context.cohort.length} trainer(s) available, need ${Math.max(1, context.input.minParticipants)}` }),
        },
        { guard: "secure", target: "advertising", actions: { type: "announce", params: announced } },
        { target: "training", actions: { type: "announce", params: announced } },
      ],
    },
    advertising: {
      id: "round.advertising",
      always: { guard: "allAdvertised", target: "sharing" },
      on: { "advert.received": { guard: ({ context, event }) => context.cohort.includes(event.from), actions: assign({ advertised: ({ context, event }) => add(context.advertised, event.from) }) } },
      after: {
        step: [
          { guard: "enoughAdverts", target: "sharing" },
          { target: "aborted", actions: assign({ reason: ({ context }) => `secure aggregation: ${shortBy("key adverts", context.advertised.length, context.cohort.length, Math.max(context.input.minParticipants, context.input.secAggThreshold))}` }) },
        ],
      },
    },
    sharing: {
      id: "round.sharing",
      entry: { type: "requestShares", params: ({ context }) => ({ round: context.input.round, participants: context.advertised }) },
      always: { guard: "allShared", target: "training", actions: { type: "requestMasked", params: masked } },
      on: { "shares.received": { guard: ({ context, event }) => context.advertised.includes(event.from), actions: assign({ shared: ({ context, event }) => add(context.shared, event.from) }) } },
      after: {
        step: [
          { guard: "enoughShares", target: "training", actions: { type: "requestMasked", params: masked } },
          { target: "aborted", actions: assign({ reason: ({ context }) => `secure aggregation: ${shortBy("key shares", context.shared.length, context.advertised.length, Math.max(context.input.minParticipants, context.input.secAggThreshold))}` }) },
        ],
      },
    },
    training: {
      id: "round.training",
      always: [
        { guard: and(["secure", "allUpdates"]), target: "unmasking" },
        { guard: "allUpdates", target: "aggregating" },
      ],
      on: {
        "update.received": {
          guard: ({ context, event }) => context.cohort.includes(event.from),
          actions: assign({ updates: ({ context, event }) => add(context.updates, event.from) }),
        },
      },
      after: {
        deadline: [
          { guard: and(["secure", "enoughUpdates"]), target: "unmasking" },
          { guard: "enoughUpdates", target: "aggregating" },
          {
            target: "aborted",
            actions: assign({
              reason: ({ context }) => shortBy("updates by the deadline", counted(context).length, context.input.secureAggregation ? context.shared.length : context.cohort.length, neededUpdates(context)),
            }),
          },
        ],
      },
    },
    unmasking: {
      id: "round.unmasking",
      entry: {
        type: "requestUnmask",
        params: ({ context }) => {
          const survivors = counted(context)
          return { round: context.input.round, survivors: [...survivors].sort(), dropped: context.shared.filter((id) => !survivors.includes(id)).sort() }
        },
      },
      always: { guard: "allUnmasked", target: "aggregating" },
      on: {
        "unmask.received": {
          guard: ({ context, event }) => counted(context).includes(event.from),
          actions: assign({ unmasked: ({ context, event }) => add(context.unmasked, event.from) }),
        },
      },
      after: {
        step: [
          { guard: "enoughUnmasked", target: "aggregating" },
          { target: "aborted", actions: assign({ reason: ({ context }) => `secure aggregation: ${shortBy("unmasking answers", context.unmasked.length, counted(context).length, context.input.secAggThreshold)}` }) },
        ],
      },
    },
    aggregating: {
      entry: { type: "aggregate", params: ({ context }) => ({ round: context.input.round, participants: [...counted(context)].sort() }) },
      on: {
        "aggregate.done": { target: "evaluating", actions: assign({ modelHash: ({ event }) => event.modelHash }) },
        "aggregate.failed": { target: "aborted", actions: assign({ reason: ({ event }) => `aggregation failed: ${event.reason}` }) },
      },
    },
    evaluating: {
      entry: { type: "evaluate", params: ({ context }) => ({ round: context.input.round, participants: [...counted(context)].sort(), modelHash: context.modelHash! }) },
      on: {
        "evaluation.done": { target: "committing", actions: assign({ accuracy: ({ event }) => event.accuracy, scores: ({ event }) => event.scores }) },
        "evaluation.failed": { target: "aborted", actions: assign({ reason: ({ event }) => `evaluation failed: ${event.reason}` }) },
      },
    },
    committing: {
      id: "round.committing",
      entry: {
        type: "commit",
        params: ({ context }) => ({
          round: context.input.round, modelHash: context.modelHash!, accuracy: context.accuracy!,
          participants: [...counted(context)].sort(), scores: context.scores,
        }),
      },
      on: { "commit.done": { target: "done", actions: assign({ height: ({ event }) => event.height }) } },
      after: { step: { target: "aborted", actions: assign({ reason: ({ context }) => `the result was not committed within ${context.input.stepTimeout} ms` }) } },
    },
    done: { type: "final", entry: { type: "finished", params: ({ context }) => outputOf(context, "done") } },
    aborted: { type: "final", entry: { type: "finished", params: ({ context }) => outputOf(context, "aborted") } },
  },
  output: ({ context }) => outputOf(context, context.reason === undefined ? "done" : "aborted"),
})

const outputOf = (c: TrainingRoundContext, status: "done" | "aborted"): TrainingRoundOutput => ({
  round: c.input.round,
  status,
  reason: c.reason,
  cohort: c.cohort,
  participants: [...counted(c)].sort(),
  modelHash: c.modelHash,
  accuracy: c.accuracy,
  height: c.height,
})
