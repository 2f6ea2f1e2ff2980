/**
 * What a checker yields: an expectation of the scenario, whether it held, why, and which kind of
 * property it is. The kind decides the run's verdict (verdict.ts): a broken correctness property is
 * a bug whatever else happened; a missing liveness property only says the run did not get far enough.
 */
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import type { SybilSplitResult } from "../faults/governance.ts"

/** `correctness`: safety, slashing, supply, accuracy, economics. `liveness`: the progress expected. */
export type ExpectationKind = "correctness" | "liveness"

export interface Expectation {
  readonly name: string
  readonly kind: ExpectationKind
  readonly passed: boolean
  readonly detail: string
}

/** What the runner knows once the run has stopped, for the checkers that judge at the end. */
export interface RunEnd {
  /** Virtual time the run stopped at (ms). */
  readonly time: number
  /** Training rounds committed. */
  readonly rounds: number
  /** Final global test accuracy, when training ran. */
  readonly accuracy: number | undefined
  /** What a `sybil-split` measured, when one happened. */
  readonly sybil: SybilGain | undefined
}

/** The fields of a sybil-split measurement (sim/faults/governance.ts) the economics checker reads. */
export type SybilGain = Pick<SybilSplitResult, "stake" | "identities" | "identitiesRequested" | "minIdentityBond" | "sybilGain" | "quadratic" | "theoreticalGain" | "outcomeFlipped">

/**
 * One property of a run. `observe` sees every telemetry event as it is emitted and only keeps books
 * (it never acts on the world, so checking changes no trace); `expectations` judges at the end and
 * yields nothing for what the scenario does not expect.
 */
export interface Checker {
  readonly observe?: (e: TelemetryEvent) => void
  readonly expectations: (end: RunEnd) => readonly Expectation[]
}

/** A `block.committed` event's height and hash, or undefined for any other event. */
export const committedBlock = (e: TelemetryEvent): { readonly height: number; readonly hash: string; readonly slashed: readonly string[] } | undefined =>
  e.kind === "block.committed"
    ? { height: e.data.height as number, hash: e.data.hash as string, slashed: (e.data.slashed as readonly string[] | undefined) ?? [] }
    : undefined
