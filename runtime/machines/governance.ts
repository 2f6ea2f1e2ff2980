/**
 * A proposal's life as an XState machine, with the states of contracts/Governance.sol:
 *
 *   Active ──(voting period ends)──▶ Defeated
 *          └─────────────────────▶ Queued ──(timelock)──▶ Executable ──proposal.executed──▶ Executed
 *
 * The ledger (the contract, or runtime/core/governance on the simulated chain) decides every rule;
 * the machine follows one proposal through the votes the ledger reports and through time, so a node
 * knows when to tally, when the proposal can be executed, and tells its operator. The tally is the
 * same function the ledger uses (`passes`). Time enters only through XState delays.
 */
import { assign, setup } from "xstate"
import { passes, type Support, type TallyInput } from "../core/governance/governance.ts"

export interface GovernanceInput extends TallyInput {
  readonly id: number
  /** Ledger time when the machine starts, when voting ends, and the timelock after it (ms). */
  readonly now: number
  readonly votingEnds: number
  readonly delay: number
}

export interface GovernanceContext extends GovernanceInput {}

export type GovernanceEvent =
  | { type: "vote.cast"; support: Support; votes: bigint; stake: bigint }
  | { type: "proposal.executed" }

export const governanceMachine = setup({
  types: { input: {} as GovernanceInput, context: {} as GovernanceContext, events: {} as GovernanceEvent },
  actions: {
    /** The vote is over: passed (queued) or defeated. */
    notifyOutcome: (_, _params: { id: number; passed: boolean }) => {},
    /** The timelock is over: anyone may execute the proposal. */
    notifyExecutable: (_, _params: { id: number }) => {},
    countVote: assign(({ context, event }) => {
      if (event.type !== "vote.cast") return {}
      return {
        // Abstentions count toward quorum only (their stake), never toward for or against.
        forVotes: context.forVotes + (event.support === "for" ? event.votes : 0n),
        againstVotes: context.againstVotes + (event.support === "against" ? event.votes : 0n),
        stakeVoted: context.stakeVoted + event.stake,
      }
    }),
  },
  guards: {
    passed: ({ context }) => passes(context),
  },
  delays: {
    untilVotingEnds: ({ context }) => Math.max(0, context.votingEnds - context.now),
    timelock: ({ context }) => Math.max(0, context.votingEnds + context.delay - Math.max(context.now, context.votingEnds)),
  },
}).createMachine({
  id: "governance",
  context: ({ input }) => ({ ...input }),
  initial: "Active",
  states: {
    Active: {
      on: { "vote.cast": { actions: "countVote" } },
      after: {
        untilVotingEnds: [
          { guard: "passed", target: "Queued", actions: { type: "notifyOutcome", params: ({ context }) => ({ id: context.id, passed: true }) } },
          { target: "Defeated", actions: { type: "notifyOutcome", params: ({ context }) => ({ id: context.id, passed: false }) } },
        ],
      },
    },
    Defeated: { type: "final" },
    Queued: {
      after: { timelock: "Executable" },
    },
    Executable: {
      entry: { type: "notifyExecutable", params: ({ context }) => ({ id: context.id }) },
      on: { "proposal.executed": "Executed" },
    },
    Executed: { type: "final" },
  },
})
