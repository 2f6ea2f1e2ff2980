/**
 * A run's verdict, in the spirit of TigerBeetle's VOPR (crash / liveness / correctness, each its own
 * exit code): scenarios/README.md's table, 0 passed, 1 correctness, 3 liveness, 4 crash (2 is a bad file or
 * bad arguments, which never gets as far as a run).
 */
import type { Expectation } from "./expectation.ts"

export const OUTCOMES = ["passed", "correctness", "liveness", "crash"] as const
export type Outcome = (typeof OUTCOMES)[number]

/** Exit code of `dai sim run` for each outcome. */
export const EXIT_CODES: Readonly<Record<Outcome, number>> = { passed: 0, correctness: 1, liveness: 3, crash: 4 }

/** Exit code for a file or arguments the runner refuses before anything runs. */
export const BAD_INPUT_EXIT = 2

/** The exit-code table as one sentence, for `--help` and summaries. */
export const EXIT_CODES_TEXT = "exit 0 when every expectation holds, 1 on a correctness failure (safety, slashing, supply, accuracy or economics), 2 on a bad file or arguments, 3 on a liveness failure (the progress expected was not reached while every correctness expectation holds), 4 when a node or the simulator threw"

/**
 * The outcome of a run: a crash first (what follows a throw proves nothing), then any broken
 * correctness expectation, then any missing progress.
 */
export const verdictOf = (expectations: readonly Expectation[], crashed: boolean): Outcome =>
  crashed ? "crash"
  : expectations.some((x) => !x.passed && x.kind === "correctness") ? "correctness"
  : expectations.some((x) => !x.passed) ? "liveness"
  : "passed"

/** A count of each outcome, all four present. */
export const countOutcomes = (outcomes: Iterable<Outcome>): Record<Outcome, number> => {
  const counts: Record<Outcome, number> = { passed: 0, correctness: 0, liveness: 0, crash: 0 }
  for (const o of outcomes) counts[o]++
  return counts
}

/** `3 passed, 1 liveness` (the kinds that occurred, in table order; `none` for no runs). */
export const formatOutcomes = (counts: Readonly<Record<string, number>>): string =>
  Object.entries(counts).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o}`).join(", ") || "none"
