/** `dai sim …`: the simulator's commands, registered with the `dai` command by its composition root (dai.ts). */
import { createWriteStream, openSync, readFileSync } from "node:fs"
import { finished } from "node:stream/promises"
import { createInterface } from "node:readline/promises"
import { parseDuration } from "../runtime/core/duration.ts"
import { FileError } from "../sim/scenario/decode-file.ts"
import { parseScenario } from "../sim/scenario/load.ts"
import { formatSummary, matches, readTrace, renderEvent } from "../sim/scenario/replay.ts"
import { formatScenarioReport, reportJson as scenarioJson, runScenario } from "../sim/scenario/run.ts"
import { prepareTraining } from "../sim/scenario/training-setup.ts"
import { Result } from "effect"
import { economyConfig, ECONOMY_DEFAULTS } from "../sim/economy/config.ts"
import { formatReport, reportJson } from "./economy-report.ts"
import { runEconomy } from "../sim/economy/run.ts"
import { parseSeed, seedBanner } from "../sim/kernel/seed.ts"
import { mergeCommand, swarmCommand, sweepCommand, workerCommand } from "./sweep.ts"
import { BAD_INPUT_EXIT, EXIT_CODES, EXIT_CODES_TEXT } from "../sim/check/verdict.ts"
import { defineCommand, InputError, intFlag, isClosedPipe, UsageError, type Command, type CommandGroup, type Io } from "./command.ts"

/** `--param name=value` flags → raw overrides (checked by the registry). */
export const paramFlags = (flags: readonly string[] | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const flag of flags ?? []) {
    const eq = flag.indexOf("=")
    if (eq <= 0) throw new UsageError({ reason: `--param expects name=value, got "${flag}"` })
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
    throw new InputError({ reason: (e as Error).message })
  }
}

const readText = (file: string, what: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch (e) {
    throw new InputError({ reason: `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` })
  }
}

const errorCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message

/**
 * Write trace lines to a file as they come; `close` flushes. The file is opened at once, so a path
 * that cannot be written is refused before the run. A write that fails later (a full disk; EPIPE
 * when the file is `/dev/stdout` piped into `head`) stops the writing, and `close` throws it: EPIPE
 * as itself (the command then ends quietly), anything else as an InputError naming the file.
 */
const traceFile = (path: string | undefined) => {
  if (path === undefined) return { sink: undefined, close: async () => {} }
  let fd: number
  try {
    fd = openSync(path, "w")
  } catch (e) {
    throw new InputError({ reason: `cannot write the trace ${path}: ${errorCode(e)}` })
  }
  const file = createWriteStream(path, { fd })
  let failed: unknown
  file.on("error", (e) => void (failed ??= e))
  return {
    sink: (line: string) => void (failed === undefined && !file.destroyed && file.write(`${line}\n`)),
    close: async () => {
      file.end()
      await finished(file).catch((e: unknown) => void (failed ??= e))
      if (failed === undefined) return
      if (isClosedPipe(failed)) throw failed
      throw new InputError({ reason: `cannot write the trace ${path}: ${errorCode(failed)}` })
    },
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
    "--seed N": "seed of the run (default: random, printed as SEED=N first; on stderr with --json)",
    "--days N": `virtual days to simulate (default ${ECONOMY_DEFAULTS.days})`,
    "--validators N": `validators, v0..v(N-1) (default ${ECONOMY_DEFAULTS.validators})`,
    "--delegators N": `delegators (default ${ECONOMY_DEFAULTS.delegators})`,
    "--contributors N": `contributors bonding their own pools (default ${ECONOMY_DEFAULTS.contributors})`,
    "--param NAME=VALUE": "override a parameter (repeatable; see `dai params`)",
    "--json": "print the report as one JSON object on stdout (amounts in base units; SEED=… then goes to stderr)",
    "--trace FILE": "write every event as a line of JSON to FILE",
  },
  examples: ["dai sim economy", "dai sim economy --seed 7 --days 365", "dai sim economy --param fees.burnFraction=0.5 --json"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
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
    if (Result.isFailure(config)) throw new InputError({ reason: config.failure.message })
    // With --json, stdout carries the JSON object only (`| jq`): the seed goes to stderr, as in `sim run`.
    const trace = traceFile(values.trace)
    ;(values.json === true ? io.err : io.out)(seedBanner(seed))
    const report = runEconomy(config.success, trace.sink)
    await trace.close()
    io.out(values.json === true ? reportJson(report) : formatReport(report))
    return report.supplyConserved ? 0 : 1
  },
})

/** The simulator threw before a report could be made: say where, exit as a crash. */
const crashed = (io: Io, file: string, e: unknown): number => {
  io.err(`dai sim run: ${file}: the simulator crashed: ${(e as Error).stack ?? String(e)}`)
  return EXIT_CODES.crash
}

const runCommand = defineCommand({
  name: "run",
  args: "FILE",
  summary: `Run a scenario file in the simulator; ${EXIT_CODES_TEXT}.`,
  options: {
    seed: { type: "string" },
    json: { type: "boolean" },
    trace: { type: "string" },
    signatures: { type: "string" },
  },
  help: {
    "--seed N": "seed of the run (default: the file's seed)",
    "--json": "print the report as one JSON object on stdout (SEED=… then goes to stderr); its \"outcome\" is passed, correctness, liveness or crash (exit 0, 1, 3, 4)",
    "--trace FILE": "write every delivered event as a line of JSON (replay it with `dai sim replay FILE`)",
    "--signatures S": "simulated (default: fast, checked by the run's oracle) or secp256k1 (real ECDSA)",
  },
  examples: ["dai sim run scenarios/equivocation.yaml", "dai sim run scenarios/partition-heal.yaml --seed 7 --json", "dai sim run scenarios/honest-4.yaml --trace out.jsonl"],
  run: async (values, positionals, io) => {
    if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "missing the scenario FILE" : `unexpected argument "${positionals[1]}"` })
    const file = positionals[0]!
    if (values.signatures !== undefined && values.signatures !== "simulated" && values.signatures !== "secp256k1") {
      throw new InputError({ reason: `--signatures must be simulated or secp256k1, got "${values.signatures}"` })
    }
    let scenario
    try {
      scenario = parseScenario(readText(file, "scenario"), file)
    } catch (e) {
      if (e instanceof FileError) {
        io.err(e.message)
        return BAD_INPUT_EXIT
      }
      throw e
    }
    const seed = values.seed === undefined ? scenario.seed : seedFlag(values.seed, () => scenario.seed)
    const trace = traceFile(values.trace)
    ;(values.json === true ? io.err : io.out)(seedBanner(seed))
    // Trainers on real data need TensorFlow.js started (asynchronous) before the synchronous run.
    let training: Awaited<ReturnType<typeof prepareTraining>>
    try {
      training = await prepareTraining(scenario, seed)
    } catch (e) {
      // A backend that cannot start or a data set that is not installed: the run cannot begin (exit 2).
      const tag = (e as { _tag?: unknown })._tag
      await trace.close()
      if (tag !== "TrainerError" && tag !== "DatasetError") return crashed(io, file, e)
      io.err(`dai sim run: ${file}: ${(e as Error).message}`)
      return BAD_INPUT_EXIT
    }
    let report
    try {
      report = runScenario(scenario, {
        seed, ...(trace.sink ? { sink: trace.sink } : {}), ...(values.signatures ? { signatures: values.signatures as "simulated" | "secp256k1" } : {}),
        ...(training ? { training } : {}),
      })
    } catch (e) {
      // The world itself could not be built (a throw inside the run is already in the report as a crash).
      await trace.close()
      return crashed(io, file, e)
    }
    await trace.close()
    io.out(values.json === true ? scenarioJson(report) : formatScenarioReport(report))
    return EXIT_CODES[report.outcome]
  },
})

const replayCommand = defineCommand({
  name: "replay",
  args: "TRACE",
  summary: "Step through a trace written by `dai sim run --trace` (or `dai sim economy --trace`).",
  options: {
    kind: { type: "string", multiple: true },
    node: { type: "string", multiple: true },
    from: { type: "string" },
    to: { type: "string" },
    step: { type: "boolean" },
    summary: { type: "boolean" },
    tui: { type: "boolean" },
  },
  help: {
    "--kind K": "only events of kind K or K.* (repeatable), e.g. block, net.drop, stake.slashed",
    "--node N": "only events of node N (repeatable)",
    "--from T / --to T": "only events in this virtual-time window (durations: 30s, 2m)",
    "--step": "one event per Enter (q then Enter quits)",
    "--summary": "print only the summary (events, time span, kinds, trace hash)",
    "--tui": "step through it in the node's TUI (space play/pause, ←/→ step, +/- speed, q quit); --node picks whose view, --from where to start",
  },
  examples: ["dai sim replay out.jsonl --kind block.committed", "dai sim replay out.jsonl --node v0 --from 30s --to 2m --step", "dai sim replay out.jsonl --tui --node v1"],
  run: async (values, positionals, io) => {
    if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "missing the TRACE file" : `unexpected argument "${positionals[1]}"` })
    const file = positionals[0]!
    const window = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined
      const ms = parseDuration(v)
      if (ms === undefined) throw new InputError({ reason: `--${flag} must be a duration such as 30s or 2m, got "${v}"` })
      return ms
    }
    const filter = {
      ...(values.kind ? { kinds: values.kind } : {}),
      ...(values.node ? { nodes: values.node } : {}),
      ...(values.from ? { from: window("from", values.from) } : {}),
      ...(values.to ? { to: window("to", values.to) } : {}),
    }
    let parsed
    try {
      parsed = readTrace(readText(file, "trace"), file)
    } catch (e) {
      if (e instanceof InputError) throw e
      io.err((e as Error).message)
      return 2
    }
    if (values.tui === true) {
      const clash = (["kind", "to", "step", "summary"] as const).find((f) => values[f] !== undefined)
      if (clash !== undefined) throw new UsageError({ reason: `--${clash} cannot be combined with --tui (the TUI needs every event; use --node and --from)` })
      if ((values.node?.length ?? 0) > 1) throw new UsageError({ reason: "--tui shows one node's view: give --node once" })
      const self = values.node?.[0]
      if (self !== undefined && !parsed.events.some((e) => e.node === self)) throw new InputError({ reason: `--node ${self}: ${file} has no event of that node` })
      if (process.stdout.isTTY !== true || process.stdin.isTTY !== true) throw new InputError({ reason: "--tui needs an interactive terminal" })
      const { replayTui } = await import("../tui/replay.ts")
      await replayTui(parsed.events, { ...(self !== undefined ? { self } : {}), ...(filter.from !== undefined ? { from: filter.from } : {}) })
      return 0
    }
    io.out(formatSummary(file, parsed.summary))
    if (values.summary === true) return 0
    const shown = parsed.events.filter((e) => matches(e, filter))
    if (values.step !== true) {
      for (const e of shown) io.out(renderEvent(e))
      return 0
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout })
    try {
      for (const [i, e] of shown.entries()) {
        io.out(`${String(i + 1).padStart(6)}/${shown.length} ${renderEvent(e)}`)
        if ((await rl.question("")).trim() === "q") break
      }
    } finally {
      rl.close()
    }
    return 0
  },
})

export const simCommands: readonly Command[] = [runCommand, replayCommand, economyCommand, sweepCommand, swarmCommand, workerCommand, mergeCommand]

export const simGroup: CommandGroup = { name: "sim", summary: "deterministic simulator: economy runs, scenarios, replays, parameter sweeps, swarm testing (local, on a Redis queue, or in shards)", commands: simCommands }
