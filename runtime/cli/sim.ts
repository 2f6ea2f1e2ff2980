/** `dai sim …` commands. */
import { createWriteStream } from "node:fs"
import { Result } from "effect"
import { economyConfig, ECONOMY_DEFAULTS } from "../../sim/economy/config.ts"
import { formatReport, reportJson } from "../../sim/economy/report.ts"
import { runEconomy } from "../../sim/economy/run.ts"
import { parseSeed, seedBanner } from "../../sim/kernel/seed.ts"
import { defineCommand, intFlag, UsageError, type Command } from "./command.ts"

/** `--param name=value` flags → raw overrides (checked by the registry). */
export const paramFlags = (flags: readonly string[] | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const flag of flags ?? []) {
    const eq = flag.indexOf("=")
    if (eq <= 0) throw new UsageError(`--param expects name=value, got "${flag}"`)
    out[flag.slice(0, eq).trim()] = flag.slice(eq + 1).trim()
  }
  return out
}

/** A seed from a flag, or one drawn from the host's randomness when none is given (then printed). */
export const seedFlag = (value: string | undefined, fallback: () => number): number => {
  if (value === undefined) return fallback()
  try {
    return parseSeed(value)
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
}

const economyCommand = defineCommand({
  name: "economy",
  summary: "Simulate validators, delegators, contributors and fee payers on the ledger over virtual time; print a summary.",
  options: {
    seed: { type: "string" },
    days: { type: "string" },
    validators: { type: "string" },
    delegators: { type: "string" },
    contributors: { type: "string" },
    param: { type: "string", multiple: true },
    json: { type: "boolean" },
    trace: { type: "string" },
  },
  help: {
    "--seed N": "seed of the run (default: random, printed as SEED=N first)",
    "--days N": `virtual days to simulate (default ${ECONOMY_DEFAULTS.days})`,
    "--validators N": `validators, v0..v(N-1) (default ${ECONOMY_DEFAULTS.validators})`,
    "--delegators N": `delegators (default ${ECONOMY_DEFAULTS.delegators})`,
    "--contributors N": `contributors bonding their own pools (default ${ECONOMY_DEFAULTS.contributors})`,
    "--param NAME=VALUE": "override a parameter (repeatable; see `dai params`)",
    "--json": "print the report as one JSON object (amounts in base units)",
    "--trace FILE": "write every event as a line of JSON to FILE",
  },
  examples: ["dai sim economy", "dai sim economy --seed 7 --days 365", "dai sim economy --param fees.burnFraction=0.5 --json"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    const seed = seedFlag(values.seed, () => Math.floor(Math.random() * 2 ** 31))
    const config = economyConfig(
      {
        seed,
        days: intFlag("days", values.days, ECONOMY_DEFAULTS.days, 1, 3_650),
        validators: intFlag("validators", values.validators, ECONOMY_DEFAULTS.validators, 2, 1_000),
        delegators: intFlag("delegators", values.delegators, ECONOMY_DEFAULTS.delegators, 0, 100_000),
        contributors: intFlag("contributors", values.contributors, ECONOMY_DEFAULTS.contributors, 0, 100_000),
      },
      paramFlags(values.param),
    )
    if (Result.isFailure(config)) throw new UsageError(config.failure.message)
    io.out(seedBanner(seed))
    const file = values.trace === undefined ? undefined : createWriteStream(values.trace)
    const report = runEconomy(config.success, file === undefined ? undefined : (line) => void file.write(`${line}\n`))
    if (file !== undefined) await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())))
    io.out(values.json === true ? reportJson(report) : formatReport(report))
    return report.supplyConserved ? 0 : 1
  },
})

export const simCommands: readonly Command[] = [economyCommand]
