/**
 * Byzantine training behaviours (scenarios/README.md), as what a trainer sends in place of its honest update:
 *  - `signflip`: the negated update, scaled by SIGNFLIP_SCALE (pulls the model away from the optimum);
 *  - `labelflip`: trains honestly, but on labels permuted (l → 9 − l): the world gives the trainer
 *    a poisoned copy of its data, so the update looks like a real one;
 *  - `noise`: Gaussian noise of the same L2 norm as its honest update (a plausible-looking update
 *    that carries no information);
 *  - `freeride`: a stale update — the last committed round's change of the global model, which it
 *    can read without training — or zeros before any, while claiming its samples: credit without work;
 *  - `dropout`: leaves mid-round: it takes the model (and, with secure aggregation, takes part in the
 *    key steps, so its masks are in the others' inputs) and then sends nothing more.
 * The randomness of `noise` comes from the trainer's own seeded stream.
 * A validator coordinating a round has behaviours of its own (`COORDINATOR_BEHAVIORS`, below).
 */
/**
 * Coordinator behaviours (a validator, as the coordinator of a round; scenarios/README.md):
 *  - `forge-round`: commits its round's result with an inflated accuracy and with participants that
 *    did not train — itself and the trainers outside the cohort — whose signatures it cannot make:
 *    it replays an honest participant's. Provably false: every replica refuses it and slashes it;
 *  - `inflate-accuracy`: commits the honest participants and their signatures with an inflated
 *    accuracy: only a measurement refutes it, so the validators refuse the block that carries it.
 */
export const COORDINATOR_BEHAVIORS = ["forge-round", "inflate-accuracy"] as const
export type CoordinatorBehavior = (typeof COORDINATOR_BEHAVIORS)[number]

/** The accuracy a byzantine coordinator claims (millionths): the 0.999999. */
export const FORGED_ACCURACY = 999_999

/** What a byzantine coordinator changes in its round result. */
export interface RoundResultClaim {
  readonly accuracy: number
  readonly participants: readonly string[]
  readonly attestations?: ReadonlyArray<{ readonly updateHash: string; readonly signature: string }> | undefined
}

/** The claim a coordinator behaving as `behavior` commits instead of `honest`; `self` is its id and `trainers` every trainer. */
export const forgeClaim = <C extends RoundResultClaim>(behavior: CoordinatorBehavior, honest: C, self: string, trainers: readonly string[]): C => {
  if (behavior === "inflate-accuracy") return { ...honest, accuracy: FORGED_ACCURACY }
  const idle = [self, ...trainers.filter((t) => !honest.participants.includes(t))]
  const replayed = honest.attestations?.[0] ?? { updateHash: `0x${"00".repeat(32)}`, signature: `0x${"00".repeat(65)}` }
  return {
    ...honest, accuracy: FORGED_ACCURACY,
    participants: [...honest.participants, ...idle],
    attestations: [...(honest.attestations ?? []), ...idle.map(() => replayed)],
  }
}

/** The training behaviours a scenario may name (`byzantine.behavior`): this file is their one source. */
export const TRAINING_BEHAVIORS = ["signflip", "labelflip", "noise", "freeride", "dropout"] as const
export type TrainingBehavior = (typeof TRAINING_BEHAVIORS)[number]

export const SIGNFLIP_SCALE = 4

/** The label a `labelflip` trainer trains on instead of `label` (a fixed permutation of 0..9). */
export const flipLabel = (label: number): number => 9 - label

export interface TrainingFault {
  readonly behavior: TrainingBehavior
  /** A poisoned copy of the trainer's data is trained on. */
  readonly flipsLabels: boolean
  /** After the model arrives (and secure aggregation's key steps), it sends nothing. */
  readonly leavesMidRound: boolean
  /** What the trainer sends given its honest update and the last committed change of the global model. */
  corrupt(honest: Float32Array, previous: Float32Array | undefined, normal: () => number): Float32Array
}

const norm = (v: Float32Array): number => {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!
  return Math.sqrt(s)
}

/** The fault of a trainer behaving as `behavior`. */
export const trainingFault = (behavior: TrainingBehavior): TrainingFault => {
  const base = { behavior, flipsLabels: behavior === "labelflip", leavesMidRound: behavior === "dropout" }
  switch (behavior) {
    case "signflip":
      return { ...base, corrupt: (u) => u.map((x) => -SIGNFLIP_SCALE * x) }
    case "noise":
      return {
        ...base,
        corrupt: (u, _previous, normal) => {
          const z = new Float32Array(u.length)
          for (let i = 0; i < z.length; i++) z[i] = normal()
          const scale = norm(u) / (norm(z) || 1)
          return z.map((x) => x * scale)
        },
      }
    case "freeride":
      return { ...base, corrupt: (u, previous) => previous !== undefined && previous.length === u.length ? previous.slice() : new Float32Array(u.length) }
    case "labelflip":
    case "dropout":
      return { ...base, corrupt: (u) => u }
  }
}
