/**
 * Safety: no two different blocks are committed at one height. Every replica's commits count: a
 * byzantine behaviour in this simulator corrupts only what a node sends, its replica still runs the
 * protocol, so a fork anywhere is a broken protocol rule.
 */
import { committedBlock, type Checker } from "./expectation.ts"

export interface SafetyChecker extends Checker {
  /** Each height where two different blocks were committed, as `height h: node committed x…, another node y…`. */
  readonly conflicts: () => readonly string[]
}

/** The safety checker; `expected` is the scenario's `expect.safety` (nothing is judged when absent). */
export const safetyChecker = (expected: boolean | undefined): SafetyChecker => {
  const committed = new Map<number, string>()
  const conflicts: string[] = []
  return {
    observe: (e) => {
      const block = committedBlock(e)
      if (block === undefined) return
      const prior = committed.get(block.height)
      if (prior === undefined) committed.set(block.height, block.hash)
      else if (prior !== block.hash) conflicts.push(`height ${block.height}: ${e.node} committed ${block.hash.slice(0, 10)}…, another node ${prior.slice(0, 10)}…`)
    },
    conflicts: () => conflicts,
    expectations: () => expected === undefined ? [] : [{
      name: "safety",
      kind: "correctness",
      passed: (conflicts.length === 0) === expected,
      detail: conflicts.length === 0 ? "no two different blocks committed at one height" : conflicts.slice(0, 3).join("; "),
    }],
  }
}
