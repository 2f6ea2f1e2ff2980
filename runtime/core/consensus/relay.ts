/**
 * Which votes of others a node relays: Tendermint's liveness rests on gossip ("a message a correct
 * process receives is eventually received by every correct process"), and a node that only re-sends
 * its own messages breaks it. A validator that went silent after voting leaves its votes only where
 * they happened to arrive; if they completed a prevote quorum at some nodes (which locked on the
 * block) and were lost on the way to the others, the others can never accept the locked nodes'
 * re-proposal (its proof-of-lock round lacks a quorum for them), and every quorum left needs all the
 * honest power: with one more vote lost for good, the height stalls.
 *
 * So a node relays the prevote quorums behind its lock and its valid value — the prevotes for
 * `lockedHash` in `lockedRound` and for `validHash` in `validRound`, signed by others — once the
 * height has moved past those rounds without a decision (only then may a peer lack them: within the
 * round each voter re-sends its own vote). That is at most two rounds' prevotes, one per validator
 * each, per re-send; nothing in a height decided in the round of its polka. Receivers verify every
 * signature as for any vote, so relaying forges nothing.
 */
import type { HeightState } from "./height-state.ts"
import type { Address, Hash, Vote } from "./types.ts"

/** What the relay needs of a consensus machine's context (Algorithm 1's lock and valid value). */
export interface RelayView {
  readonly round: number
  readonly lockedRound: number
  readonly lockedHash: Hash | null
  readonly validRound: number
  readonly validHash: Hash | null
}

/** The prevotes of others this node relays on its periodic re-send (none while no earlier polka is held). */
export const votesToRelay = (state: HeightState | undefined, view: RelayView, self: Address): Vote[] => {
  if (state === undefined) return []
  const out: Vote[] = []
  const polka = (round: number, hash: Hash | null) => {
    if (round < 0 || round >= view.round || hash === null) return
    const prevotes = state.votes.prevotes(round)
    if (prevotes === undefined || !prevotes.quorumFor(hash)) return
    for (const v of prevotes.votesFor(hash)) if (v.validator !== self) out.push(v)
  }
  polka(view.validRound, view.validHash)
  if (view.lockedRound !== view.validRound) polka(view.lockedRound, view.lockedHash)
  return out
}
