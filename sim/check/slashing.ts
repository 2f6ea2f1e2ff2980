/**
 * Slashing: the nodes the scenario names were slashed (`expect.slashed`), and no node that never
 * misbehaved lost stake (`expect.honestNotSlashed`). Slashes are read from the ledger (its
 * `stake.slashed` events): a validator the committee convicted counts once the ledger has taken its
 * stake — at once for a double sign, when the epoch's report is settled for downtime.
 */
import type { Checker } from "./expectation.ts"

export interface SlashingChecker extends Checker {
  /** The pools slashed so far, sorted. */
  readonly slashed: () => readonly string[]
}

/** The slashing checker; `byzantine` holds the nodes that misbehaved at some point (the runner adds to it). */
export const slashingChecker = (
  expected: { readonly slashed?: readonly string[] | undefined; readonly honestNotSlashed?: boolean | undefined },
  byzantine: ReadonlySet<string>,
): SlashingChecker => {
  const pools = new Set<string>()
  const slashed = () => [...pools].sort()
  return {
    observe: (e) => {
      if (e.kind === "stake.slashed") pools.add(e.data.pool as string)
    },
    slashed,
    expectations: () => {
      const ids = slashed()
      const list = ids.join(", ") || "none"
      const out = []
      if (expected.slashed !== undefined) {
        const missing = expected.slashed.filter((id) => !pools.has(id))
        out.push({
          name: "slashed", kind: "correctness" as const, passed: missing.length === 0,
          detail: missing.length === 0 ? `slashed: ${list}` : `not slashed: ${missing.join(", ")} (slashed: ${list})`,
        })
      }
      if (expected.honestNotSlashed !== undefined) {
        const honest = ids.filter((id) => !byzantine.has(id))
        out.push({
          name: "honestNotSlashed", kind: "correctness" as const, passed: (honest.length === 0) === expected.honestNotSlashed,
          detail: honest.length === 0 ? "no honest validator lost stake" : `honest validators slashed: ${honest.join(", ")}`,
        })
      }
      return out
    },
  }
}
