import { describe, expect, it } from "vitest"
import type { RunEnd, SybilGain } from "./expectation.ts"
import { economicsChecker } from "./economics.ts"

const split = (sybilGain: number, quadratic = true): SybilGain => ({
  stake: 4000, identities: 4, identitiesRequested: 4, minIdentityBond: 1000, sybilGain, quadratic, theoreticalGain: quadratic ? 2 : 1, outcomeFlipped: sybilGain > 1.5,
})
const end = (sybil: SybilGain | undefined): RunEnd => ({ time: 60_000, rounds: 0, accuracy: undefined, sybil })

describe("economics checker", () => {
  it("holds maxSybilGain when splitting stake gains at most the bound", () => {
    expect(economicsChecker({ maxSybilGain: 1 }).expectations(end(split(1, false)))).toEqual([{
      name: "maxSybilGain", kind: "correctness", passed: true,
      detail: "splitting 4000 tokens over 4 identities (4 asked, minimum bond 1000) gave 1.000× the votes (linear votes: 1), at most 1 expected",
    }])
  })

  it("fails as correctness when the split multiplies the attacker's votes beyond the bound", () => {
    const [x] = economicsChecker({ maxSybilGain: 1.2 }).expectations(end(split(2)))
    expect(x).toMatchObject({ name: "maxSybilGain", kind: "correctness", passed: false })
    expect(x!.detail).toBe("splitting 4000 tokens over 4 identities (4 asked, minimum bond 1000) gave 2.000× the votes (quadratic: √N = 2.000), at most 1.2 expected; it turned the vote")
  })

  it("fails as liveness when no sybil-split happened, and judges nothing without the expectation", () => {
    expect(economicsChecker({ maxSybilGain: 1 }).expectations(end(undefined))).toEqual([{ name: "maxSybilGain", kind: "liveness", passed: false, detail: "no sybil-split happened" }])
    expect(economicsChecker({}).expectations(end(split(3)))).toEqual([])
  })
})
