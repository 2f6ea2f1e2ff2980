/**
 * What passes between a node and its consensus machine (runtime/machines/consensus.ts): the input
 * it starts with, the events the node sends it, and the parameters of the actions the node provides.
 * Plain types, so that the node (and the simulator) can speak to the machine without importing it.
 */
import type { Params } from "../params.ts"
import type { ValidatorSet } from "./validator-set.ts"
import type { Address, Block, DuplicateVoteEvidence, Hash, Proposal, Vote, VoteType } from "./types.ts"

/** Step timeouts in ms: each is `base + round × delta`; `commit` is the pause after a decision. */
export interface ConsensusTimeouts {
  readonly propose: number
  readonly prevote: number
  readonly precommit: number
  readonly delta: number
  readonly commit: number
}

/** The timeouts out of the parameter registry. */
export const timeoutsFromParams = (p: Params): ConsensusTimeouts => ({
  propose: p["consensus.timeoutPropose"],
  prevote: p["consensus.timeoutPrevote"],
  precommit: p["consensus.timeoutPrecommit"],
  delta: p["consensus.timeoutDelta"],
  commit: p["consensus.timeoutCommit"],
})

export interface ConsensusInput {
  /** This validator's address (a node outside the set follows consensus without voting). */
  readonly self: Address
  readonly timeouts: ConsensusTimeouts
  /** Messages for the next height kept until it starts; default 4096. */
  readonly maxBuffered?: number
  /** Proposals are kept for rounds up to this far ahead; default 32. */
  readonly maxRoundsAhead?: number
  /** Future rounds one validator may hold votes in; default 2. */
  readonly maxFutureRounds?: number
}

/** The step of the current round; `commit` while waiting for the next height after a decision. */
export type Step = "propose" | "prevote" | "precommit" | "commit"

export interface HeightStartEvent {
  readonly type: "height.start"
  readonly height: number
  /** The validator set of `height` (the node knows it from the application state). */
  readonly validators: ValidatorSet
  /** The step timeouts from this height on (the parameters of its epoch), when they may have changed. */
  readonly timeouts?: ConsensusTimeouts
}
/**
 * A proposal with a verified signature; `valid` is the node's verdict on the block. A proposal of
 * the next height cannot be judged before its parent is committed: the node holds it until it has
 * started that height (the machine buffers next-height proposals only with a verdict attached).
 */
export interface ProposalReceivedEvent { readonly type: "proposal.received"; readonly proposal: Proposal; readonly valid: boolean }
/** A vote with a verified signature. */
export interface VoteReceivedEvent { readonly type: "vote.received"; readonly vote: Vote }
/**
 * The node counted verified votes of the current height straight into the machine's height state
 * (intake.ts) and one of them crossed a threshold a guard reads, or was a validator's first
 * conflicting vote (`evidence`, to report). Sent only while the machine decides `height`.
 */
export interface VotesCountedEvent { readonly type: "votes.counted"; readonly height: number; readonly evidence?: DuplicateVoteEvidence }
/** A commit certificate whose signatures the node verified (catch-up). */
export interface CommitReceivedEvent { readonly type: "commit.received"; readonly block: Block; readonly precommits: readonly Vote[] }

export type ConsensusEvent = HeightStartEvent | ProposalReceivedEvent | VoteReceivedEvent | VotesCountedEvent | CommitReceivedEvent
/** The events that carry a message. */
export type MessageEvent = ProposalReceivedEvent | VoteReceivedEvent | CommitReceivedEvent

export interface ProposeParams {
  readonly height: number
  readonly round: number
  /** Re-propose this block (with polRound = validRound) instead of building a new one. */
  readonly validValue: Block | undefined
  readonly validRound: number
}
export interface BroadcastVoteParams { readonly type: VoteType; readonly height: number; readonly round: number; readonly blockHash: Hash | null }
export interface DecideParams { readonly height: number; readonly round: number; readonly block: Block; readonly precommits: readonly Vote[] }
export interface ReportEvidenceParams { readonly evidence: DuplicateVoteEvidence }
export interface LogParams { readonly level: "debug" | "info" | "warn"; readonly message: string }
