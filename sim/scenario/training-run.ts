/**
 * The training side of a scenario run: builds the TrainingWorld beside the consensus world, fires
 * `at: { round }` triggers as rounds open, and turns the rounds into metrics (the accuracy
 * expectations are judged by sim/check/accuracy.ts). Kept apart from run.ts so the runner only
 * calls in at a few points.
 */
import type { Scenario } from "./load.ts"
import { syntheticSetup, type TrainingSetup } from "./training-setup.ts"
import { TrainingWorld } from "../world/training-world.ts"
import type { ConsensusWorld } from "../world/world.ts"

/** When the first round opens: after the chain has had time to start. */
export const FIRST_ROUND_AT = 2_000

export interface TrainingMetrics {
  /** Final global test accuracy (of the last committed round's model; the initial model's without one). */
  readonly accuracy: number
  readonly training: {
    readonly backend: string
    readonly dataset: string
    readonly aggregator: string
    readonly initialAccuracy: number
    readonly roundsAborted: number
    /** Why rounds were aborted, first few. */
    readonly abortReasons: readonly string[]
    readonly modelHash: string
    readonly invalidMessages: number
    /** Accuracy after each committed round. */
    readonly curve: readonly number[]
  }
  /** Total differential-privacy epsilon at δ = 1e-5 (only when noise was added). */
  readonly epsilon?: number
}

export interface TrainingRun {
  readonly world: TrainingWorld
  /** Fire `fire` when round `round` is about to open (at once for round 0 or a past round). */
  onRound(round: number, fire: () => void): void
}

/** Build and start training for a scenario with trainers; undefined without. */
export const startTraining = (world: ConsensusWorld, scenario: Scenario, seed: number, setup: TrainingSetup | undefined): TrainingRun | undefined => {
  if (scenario.trainers.length === 0) return undefined
  if (setup === undefined && scenario.params["training.dataset"] !== "synthetic") {
    throw new Error(`${scenario.file}: training.dataset ${scenario.params["training.dataset"]} trains with TensorFlow.js, which starts asynchronously: await prepareTraining(scenario, seed) and pass it as the run's \`training\` option`)
  }
  const waiting: Array<{ round: number; fire: () => void }> = []
  let opened = 0
  const tw = new TrainingWorld({
    world, scenario, seed, setup: setup ?? syntheticSetup(scenario, seed),
    beforeRound: (round) => {
      opened = round
      for (let i = 0; i < waiting.length; i++) {
        if (waiting[i]!.round <= round) {
          waiting.splice(i--, 1)[0]!.fire()
        }
      }
    },
  })
  tw.start(FIRST_ROUND_AT)
  return {
    world: tw,
    onRound: (round, fire) => {
      if (round <= opened) world.scheduler.at(world.scheduler.now, fire)
      else waiting.push({ round, fire })
    },
  }
}

export const trainingMetrics = (run: TrainingRun, scenario: Scenario): TrainingMetrics => {
  const tw = run.world
  const aborted = tw.outcomes.filter((o) => o.status === "aborted")
  const epsilon = tw.epsilon
  return {
    accuracy: tw.accuracy ?? tw.initialAccuracy,
    training: {
      backend: run.world.backend,
      dataset: scenario.params["training.dataset"],
      aggregator: scenario.params["training.aggregator"],
      initialAccuracy: tw.initialAccuracy,
      roundsAborted: aborted.length,
      abortReasons: aborted.slice(0, 5).map((o) => `round ${o.round}: ${o.reason ?? "?"}`),
      modelHash: tw.globalHash,
      invalidMessages: tw.invalid,
      curve: tw.outcomes.filter((o) => o.status === "done").map((o) => o.accuracy!),
    },
    ...(epsilon === undefined ? {} : { epsilon }),
  }
}
