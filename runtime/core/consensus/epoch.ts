/**
 * Epochs: the validator set changes only at heights h with (h − 1) % epochLength == 0, i.e. at
 * heights 1, 1 + E, 1 + 2E, ... The set of the epoch that starts at height s is computed from the
 * application state after block s − 1 (the genesis state for s = 1), so every node knows the next
 * set as soon as it has committed the block before the boundary, and a set is fixed for the whole
 * epoch whatever happens to stakes or scores in between (changes take effect at the next epoch).
 */
import { type Candidate, type PowerParams, validatorSetFromCandidates } from "./power.ts"
import type { ValidatorSet } from "./validator-set.ts"

const check = (height: number, epochLength: number): void => {
  if (!Number.isSafeInteger(height) || height < 1) throw new RangeError(`height must be a positive integer, got ${height}`)
  if (!Number.isSafeInteger(epochLength) || epochLength < 1) throw new RangeError(`epochLength must be a positive integer, got ${epochLength}`)
}

/** True when the validator set may change at `height`. */
export const isEpochStart = (height: number, epochLength: number): boolean => {
  check(height, epochLength)
  return (height - 1) % epochLength === 0
}

/** The first height of the epoch `height` belongs to. */
export const epochStart = (height: number, epochLength: number): number => {
  check(height, epochLength)
  return height - ((height - 1) % epochLength)
}

/**
 * The validator set that signs `height`: computed from `candidatesAfter(s − 1)`, the candidates in
 * the application state after block s − 1 (0 = genesis), where s is the start of the epoch.
 */
export const validatorSetForHeight = (
  height: number,
  params: PowerParams & { readonly epochLength: number },
  candidatesAfter: (height: number) => readonly Candidate[],
): ValidatorSet => {
  const start = epochStart(height, params.epochLength)
  return validatorSetFromCandidates(candidatesAfter(start - 1), params, start)
}
