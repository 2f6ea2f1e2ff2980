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

/** What a devnet trains (`dai devnet --task`): MNIST's classifier, or a fine-tuning of the language model. */
export const TASKS = ["mnist", "lm"] as const
export type Task = (typeof TASKS)[number]

/**
 * The genesis parameters of `--task lm` (before any --param): the committed GPT's last block and head
 * fine-tuned on each node's shard of the corpus's held-out text (docs/lm.md, "Federated fine-tuning"),
 * small enough that a round takes seconds on a 2-core machine: 64 windows of 32 bytes per node a round
 * (`--train-samples`), batches of 16, an evaluation set of 100 windows.
 */
export const LM_TASK_PARAMS: Readonly<Record<string, string>> = {
  "training.dataset": "fortunes",
  "training.model": "gpt",
  "training.learningRate": "0.1",
  "training.batchSize": "16",
  "training.localEpochs": "1",
  "training.evalSamples": "100",
  // A devnet's nodes fine-tune in one worker pool (one thread per core): a worker's first update also
  // starts its backend and reads the checkpoint (7–10 s for four nodes' first updates on 2 loaded cores),
  // and a loaded machine slows every round; the devnet's 20 s would abort rounds a slow update misses.
  "training.roundDeadline": "60s",
}

/** `--task`'s value; InputError for anything else. */
export const parseTask = (value: string | undefined): Task => {
  if (value === undefined) return "mnist"
  if ((TASKS as readonly string[]).includes(value)) return value as Task
  throw new InputError({ reason: `--task must be one of ${TASKS.join(", ")}, got "${value}"` })
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
