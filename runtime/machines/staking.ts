/**
 * The life of one stake position, as an XState machine.
 *
 * The ledger (runtime/core/econ) decides every rule; this machine follows a position through what
 * the ledger reports and through time, so that the node knows when to act for its owner: when a
 * lock ends, when unbonded tokens can be withdrawn, when a jailed validator may ask to be unjailed.
 *
 * Two parallel regions:
 *  - `stake`: bonded (locked → unlocked) · jailed (serving → unjailable) · tombstoned · exited
 *  - `funds`: idle · unbonding (entries waiting out the unbonding period) · withdrawable · settled
 *  - `maturity`: a timer armed for the earliest pending entry
 * The machine is done when the stake has exited and every unbonded token was withdrawn.
 *
 * Time only enters through XState delays (the node passes a real or a virtual clock) and through
 * the ledger time `at` that every event carries; the machine reads no clock of its own.
 */
import { assign, setup } from "xstate"

/** An unbonding entry as the machine tracks it. */
export interface TrackedEntry {
  readonly id: number
  readonly amount: bigint
  readonly completesAt: number
  readonly matured: boolean
}

export interface StakingInput {
  readonly positionId: number
  readonly owner: string
  readonly pool: string
  /** True when the owner operates the pool (a validator's self-bond). */
  readonly isOperator: boolean
  readonly amount: bigint
  readonly unlockAt: number
  /** Ledger time at which the machine starts. */
  readonly now: number
}

export interface StakingContext {
  readonly positionId: number
  readonly owner: string
  readonly pool: string
  readonly isOperator: boolean
  /** Tokens still bonded (after partial unbonds and slashes). */
  readonly bonded: bigint
  readonly unlockAt: number
  readonly jailedUntil: number
  readonly entries: readonly TrackedEntry[]
  readonly slashed: bigint
  /** The latest ledger time the machine has seen (from events and its own timers). */
  readonly now: number
}

export type StakingEvent =
  | { type: "position.unbonded"; at: number; entryId: number; amount: bigint; completesAt: number; remaining: bigint }
  | { type: "position.slashed"; at: number; amount: bigint; remaining: bigint }
  | { type: "position.withdrawn"; at: number; entryIds: readonly number[] }
  | { type: "validator.jailed"; at: number; until: number }
  | { type: "validator.unjailed"; at: number }
  | { type: "validator.tombstoned"; at: number }

const nextMaturity = (entries: readonly TrackedEntry[]): number | undefined => {
  let next: number | undefined
  for (const e of entries) if (!e.matured && (next === undefined || e.completesAt < next)) next = e.completesAt
  return next
}

export const stakingMachine = setup({
  types: {
    input: {} as StakingInput,
    context: {} as StakingContext,
    events: {} as StakingEvent,
  },
  actions: {
    /** The owner's lock ended: the position may be unbonded. */
    notifyUnlocked: (_, _params: { positionId: number }) => {},
    /** Some unbonded tokens reached the end of the unbonding period. */
    notifyWithdrawable: (_, _params: { positionId: number; owner: string; amount: bigint }) => {},
    /** A jailed validator's jail time is over: its operator may unjail it. */
    notifyUnjailable: (_, _params: { pool: string; owner: string }) => {},
    observe: assign({ now: ({ context, event }) => Math.max(context.now, event.at) }),
    trackUnbond: assign(({ context, event }) => {
      if (event.type !== "position.unbonded") return {}
      const entry: TrackedEntry = { id: event.entryId, amount: event.amount, completesAt: event.completesAt, matured: false }
      return { bonded: event.remaining, entries: [...context.entries, entry] }
    }),
    trackSlash: assign(({ context, event }) => {
      if (event.type !== "position.slashed") return {}
      return { bonded: event.remaining, slashed: context.slashed + event.amount }
    }),
    trackWithdraw: assign(({ context, event }) => {
      if (event.type !== "position.withdrawn") return {}
      const gone = new Set(event.entryIds)
      return { entries: context.entries.filter((e) => !gone.has(e.id)) }
    }),
    trackJail: assign(({ event }) => (event.type === "validator.jailed" ? { jailedUntil: event.until } : {})),
    matureDue: assign(({ context }) => {
      const at = nextMaturity(context.entries) ?? context.now
      const now = Math.max(context.now, at)
      return { now, entries: context.entries.map((e) => (!e.matured && e.completesAt <= now ? { ...e, matured: true } : e)) }
    }),
  },
  guards: {
    isLocked: ({ context }) => context.unlockAt > context.now,
    fullyUnbonded: ({ event }) => event.type === "position.unbonded" && event.remaining === 0n,
    fullySlashed: ({ event }) => event.type === "position.slashed" && event.remaining === 0n,
    hasPending: ({ context }) => context.entries.some((e) => !e.matured),
    hasMatured: ({ context }) => context.entries.some((e) => e.matured),
    jailOver: ({ context }) => context.jailedUntil <= context.now,
    allSettled: ({ context }) => context.bonded === 0n && context.entries.length === 0,
  },
  delays: {
    lockRemaining: ({ context }) => Math.max(0, context.unlockAt - context.now),
    jailRemaining: ({ context }) => Math.max(0, context.jailedUntil - context.now),
    untilNextMaturity: ({ context }) => Math.max(0, (nextMaturity(context.entries) ?? context.now) - context.now),
  },
}).createMachine({
  id: "staking",
  type: "parallel",
  context: ({ input }) => ({
    positionId: input.positionId,
    owner: input.owner,
    pool: input.pool,
    isOperator: input.isOperator,
    bonded: input.amount,
    unlockAt: input.unlockAt,
    jailedUntil: 0,
    entries: [],
    slashed: 0n,
    now: input.now,
  }),
  on: {
    "position.slashed": [
      { guard: "fullySlashed", actions: ["observe", "trackSlash"], target: ".stake.exited" },
      { actions: ["observe", "trackSlash"] },
    ],
    "validator.tombstoned": { actions: "observe", target: ".stake.tombstoned" },
  },
  states: {
    stake: {
      initial: "bonded",
      states: {
        bonded: {
          initial: "checking",
          states: {
            checking: { always: [{ guard: "isLocked", target: "locked" }, { target: "unlocked" }] },
            locked: {
              after: {
                lockRemaining: {
                  target: "unlocked",
                  actions: [
                    assign({ now: ({ context }) => Math.max(context.now, context.unlockAt) }),
                    { type: "notifyUnlocked", params: ({ context }) => ({ positionId: context.positionId }) },
                  ],
                },
              },
            },
            unlocked: {},
          },
          on: {
            "validator.jailed": { actions: ["observe", "trackJail"], target: "jailed" },
            "position.unbonded": [
              { guard: "fullyUnbonded", actions: ["observe", "trackUnbond"], target: "exited" },
              { actions: ["observe", "trackUnbond"] },
            ],
          },
        },
        jailed: {
          initial: "serving",
          states: {
            serving: {
              always: { guard: "jailOver", target: "unjailable" },
              after: {
                jailRemaining: {
                  target: "unjailable",
                  actions: assign({ now: ({ context }) => Math.max(context.now, context.jailedUntil) }),
                },
              },
            },
            unjailable: {
              entry: {
                type: "notifyUnjailable",
                params: ({ context }) => ({ pool: context.pool, owner: context.owner }),
              },
            },
          },
          on: {
            "validator.unjailed": { actions: "observe", target: "bonded" },
            "validator.jailed": { actions: ["observe", "trackJail"], target: "jailed", reenter: true },
            "position.unbonded": [
              { guard: "fullyUnbonded", actions: ["observe", "trackUnbond"], target: "exited" },
              { actions: ["observe", "trackUnbond"] },
            ],
          },
        },
        tombstoned: {
          on: {
            "position.unbonded": [
              { guard: "fullyUnbonded", actions: ["observe", "trackUnbond"], target: "exited" },
              { actions: ["observe", "trackUnbond"] },
            ],
          },
        },
        exited: {
          always: { guard: "allSettled", target: "closed" },
        },
        closed: { type: "final" },
      },
    },
    funds: {
      initial: "idle",
      states: {
        idle: {
          always: [
            { guard: "allSettled", target: "settled" },
            { guard: "hasMatured", target: "withdrawable" },
            { guard: "hasPending", target: "unbonding" },
          ],
        },
        unbonding: {
          always: { guard: "hasMatured", target: "withdrawable" },
        },
        withdrawable: {
          entry: {
            type: "notifyWithdrawable",
            params: ({ context }) => ({
              positionId: context.positionId,
              owner: context.owner,
              amount: context.entries.filter((e) => e.matured).reduce((s, e) => s + e.amount, 0n),
            }),
          },
          on: {
            "position.withdrawn": { actions: ["observe", "trackWithdraw"], target: "idle" },
          },
        },
        settled: { type: "final" },
      },
    },
    // Wakes up when the earliest pending entry matures; re-armed whenever a new entry arrives.
    maturity: {
      initial: "waiting",
      states: {
        waiting: {
          always: { guard: "allSettled", target: "done" },
          after: {
            untilNextMaturity: { guard: "hasPending", actions: "matureDue", target: "waiting", reenter: true },
          },
          on: {
            "position.unbonded": { target: "waiting", reenter: true },
          },
        },
        done: { type: "final" },
      },
    },
  },
})

export type StakingMachine = typeof stakingMachine
