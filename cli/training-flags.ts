/**
 * The training flags `dai node start` and `dai devnet` share — `--backend`, `--train-samples`,
 * `--no-training` — declared and checked in one place (a bad value is an input error: one line, exit 2).
 * The backend module is imported only when `--backend` is given, so `--help` stays instant.
 */
import type { NodeTrainingOptions } from "../runtime/node/training/start.ts"
import { InputError, intFlag } from "./command.ts"

/** The options to spread into a command's `options`. */
export const TRAINING_FLAGS = {
  backend: { type: "string" },
  "train-samples": { type: "string" },
  "no-training": { type: "boolean" },
} as const

/** How the flags' values read once parsed (node:util parseArgs). */
export interface TrainingFlagValues {
  readonly backend?: string | undefined
  readonly "train-samples"?: string | undefined
  readonly "no-training"?: boolean | undefined
}

/** The node's training options from the flags; throws InputError naming the bad flag. */
export const parseTrainingFlags = async (values: TrainingFlagValues): Promise<NodeTrainingOptions> => {
  const samples = values["train-samples"] === undefined ? undefined : intFlag("train-samples", values["train-samples"], 600, 1, 60_000)
  if (values.backend !== undefined) {
    const { parseBackend } = await import("../runtime/adapters/tfjs/backend.ts")
    try {
      parseBackend(values.backend, "--backend")
    } catch (e) {
      throw new InputError({ reason: (e as { reason?: string }).reason ?? String(e) })
    }
  }
  if (values["no-training"] === true) return { enabled: false }
  return { ...(values.backend === undefined ? {} : { backend: values.backend }), ...(samples === undefined ? {} : { samples }) }
}
