/**
 * Run seeds: every simulation derives from one seed, a non-negative safe integer, and prints it
 * first as `SEED=<seed>` so any run (a failing property test, a CI log) can be replayed exactly.
 */
import { Schema } from "effect"

/** A seed that is not a non-negative safe integer. */
export class SeedError extends Schema.TaggedError<SeedError>()("SeedError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

/** The first line of every run, exactly `SEED=<seed>`. */
export function seedBanner(seed: number): string {
  return `SEED=${checkSeed(seed)}`
}

/**
 * Parses a seed from a flag or a file: decimal digits only (no sign, exponent, hex or spaces),
 * at most 2^53 - 1. `where` names the source in the error, e.g. `--seed` or `scenarios/x.yaml: seed`.
 */
export function parseSeed(input: string | number, where = "--seed"): number {
  if (typeof input === "number") return checkSeed(input, where)
  if (!/^\d+$/.test(input)) throw seedError(where, JSON.stringify(input))
  const n = Number(input)
  if (!Number.isSafeInteger(n)) throw seedError(where, input)
  return n
}

function checkSeed(seed: number, where = "seed"): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw seedError(where, String(seed))
  return seed
}

const seedError = (where: string, got: string): SeedError =>
  new SeedError({ reason: `${where}: a seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${got}` })
