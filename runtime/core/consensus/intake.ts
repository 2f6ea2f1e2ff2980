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
export const voteEvent = (view: IntakeView, vote: Vote): ConsensusEvent | undefined => {
  const state = view.heightState
  // step "commit" is the machine's committed and ready states: the height is decided.
  if (state === undefined || view.step === "commit" || state.height !== vote.height) return { type: "vote.received", vote }
  const before = state.thresholds
  const r = state.addVote(vote)
  if (r.kind === "conflict" && r.first) return { type: "votes.counted", height: vote.height, evidence: r.evidence }
  return state.thresholds !== before ? { type: "votes.counted", height: vote.height } : undefined
}
