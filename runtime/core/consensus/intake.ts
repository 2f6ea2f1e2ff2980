/**
 * Threshold events: how a node hands verified votes to its consensus machine without an actor event
 * per vote. Every upon-rule of the machine is a guard over the height's `HeightState`, and a guard's
 * answer changes only when a tally crosses a threshold (+2/3 of the power for anything or for one
 * hash in a round and type, +1/3 active in a round above the current one), when a proposal or a
 * certificate arrives, or when the machine itself moves (round, step, lock). So a node counts each
 * vote of the height being decided into that state itself and sends the machine an event only when
 * the vote crossed a threshold, or was a validator's first conflicting vote (evidence to report):
 * about 4 events per node per height instead of one per vote (2n). The machine still decides
 * everything; a vote that crossed nothing would have left every guard as it was.
 *
 * A vote of another height, or one arriving while the machine is not deciding its height (idle,
 * committed), goes to the machine as `vote.received`, as before: it buffers or drops it.
 */
import type { HeightState } from "./height-state.ts"
import type { ConsensusEvent, Step } from "./node-interface.ts"
import type { Vote } from "./types.ts"

/** What the intake reads of the machine's context. */
export interface IntakeView {
  readonly heightState: HeightState | undefined
  readonly step: Step
}

/**
 * Count a verified `vote` into the machine's height state when the machine is deciding its height;
 * the event to send the machine, or undefined when the vote cannot change any guard. Call it only
 * between the actor's macrosteps (from a network handler, never from inside one of its actions),
 * with the actor's current snapshot's context.
 */
export const voteEvent = (view: IntakeView, vote: Vote): ConsensusEvent | undefined => voteRunEvent(view, [vote], 0).event

/**
 * `voteEvent` over `votes[start]`, `votes[start + 1]`, … (verified votes of one height, as a
 * certificate carries), as many calls of it would go, up to the first vote that has an event for
 * the machine: that event, and where the votes not yet counted start. Send the event (if any), then
 * call again from `next` with the actor's new snapshot's context: the machine may have moved on.
 */
export const voteRunEvent = (view: IntakeView, votes: readonly Vote[], start: number): { readonly event: ConsensusEvent | undefined; readonly next: number } => {
  const state = view.heightState
  const first = votes[start]!
  // step "commit" is the machine's committed and ready states: the height is decided.
  if (state === undefined || view.step === "commit" || state.height !== first.height) return { event: { type: "vote.received", vote: first }, next: start + 1 }
  const before = state.thresholds
  const { result, next } = state.addVotes(votes, start)
  if (result?.kind === "conflict" && result.first) return { event: { type: "votes.counted", height: first.height, evidence: result.evidence }, next }
  return { event: state.thresholds !== before ? { type: "votes.counted", height: first.height } : undefined, next }
}
