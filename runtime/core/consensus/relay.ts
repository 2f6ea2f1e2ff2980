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
 *
 * Cheaper still: a validator heard from in a later round of the height is alive, and a live node
 * re-sends every message it signed at the height itself. So most re-sends relay only the votes of
 * signers silent since the polka (`all: false`: with 16 validators and one silent, one vote instead
 * of fifteen), and every few re-sends the whole quorum (`all: true`), so that a byzantine validator
 * that keeps voting but never repeats the vote it gave some nodes cannot stall the others either.
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

/** How often (in re-sends) a node relays a whole polka rather than the votes of its silent signers only. */
export const FULL_RELAY_EVERY = 4

/**
 * The prevotes of others this node relays on its periodic re-send (none while no earlier polka is
 * held): the whole polkas behind its lock and valid value with `all`, else only the votes in them of
 * validators not heard from in a later round.
 */
export const votesToRelay = (state: HeightState | undefined, view: RelayView, self: Address, all = true): Vote[] => {
  if (state === undefined) return []
  const out: Vote[] = []
  const polka = (round: number, hash: Hash | null) => {
    if (round < 0 || round >= view.round || hash === null) return
    const prevotes = state.votes.prevotes(round)
    if (prevotes === undefined || !prevotes.quorumFor(hash)) return
    const alive = all ? undefined : state.votes.activeAbove(round)
    for (const v of prevotes.votesFor(hash)) if (v.validator !== self && alive?.has(v.validator) !== true) out.push(v)
  }
  polka(view.validRound, view.validHash)
  if (view.lockedRound !== view.validRound) polka(view.lockedRound, view.lockedHash)
  return out
}
