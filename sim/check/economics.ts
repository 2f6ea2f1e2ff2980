/**
 * Economic expectations: `expect.maxSybilGain`, the most a `sybil-split` may multiply the attacker's
 * votes by (sim/faults/governance.ts measures it). A larger gain is a correctness failure of the vote
 * rule; a split that never happened leaves nothing to judge, which is missing progress (liveness).
 */
import type { Checker, Expectation, SybilGain } from "./expectation.ts"

/** `maxSybilGain` judged against a sybil-split's measurement (undefined: none happened). */
export const checkSybilGain = (bound: number, s: SybilGain | undefined): Expectation => ({
  name: "maxSybilGain",
  kind: s === undefined ? "liveness" : "correctness",
  passed: s !== undefined && s.sybilGain <= bound,
  detail: s === undefined ? "no sybil-split happened" : `splitting ${s.stake} tokens over ${s.identities} identities (${s.identitiesRequested} asked, minimum bond ${s.minIdentityBond}) gave ${s.sybilGain.toFixed(3)}× the votes (${s.quadratic ? `quadratic: √N = ${s.theoreticalGain.toFixed(3)}` : "linear votes: 1"}), at most ${bound} expected${s.outcomeFlipped ? "; it turned the vote" : ""}`,
})

/** The economics checker over the scenario's `expect.maxSybilGain`. */
export const economicsChecker = (expected: { readonly maxSybilGain?: number | undefined }): Checker => ({
  expectations: (end) => (expected.maxSybilGain === undefined ? [] : [checkSybilGain(expected.maxSybilGain, end.sybil)]),
})
