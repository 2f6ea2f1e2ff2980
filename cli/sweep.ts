/** `dai sim sweep` and `dai sim swarm`: the commands over the sweep runner and the swarm. */
import { readFileSync } from "node:fs"
import { defineCommand, InputError, intFlag, UsageError, type Io } from "./command.ts"
import { FileError } from "../sim/scenario/decode-file.ts"
import { runSwarm } from "../sim/swarm/run.ts"
import { formatOutcomes } from "../sim/check/verdict.ts"
import { loadSweep, totalRuns, type Sweep } from "../sim/sweep/file.ts"
import { defaultWorkers, type PoolHandle } from "../sim/sweep/pool.ts"
import { Progress } from "../sim/sweep/progress.ts"
import { runSweep } from "../sim/sweep/run.ts"
import { formatSummary, summaryJson } from "../sim/sweep/summary.ts"

/** Wall-clock milliseconds for progress and rates only (never inside a run). */
const wallNow = (): number => performance.now()

/** Stop the pool on Ctrl-C (what finished is already in results.jsonl), and restore the default after. */
const onInterrupt = (io: Io, what: string) => {
  let handle: PoolHandle | undefined
  const listener = () => {
    io.err(`\ninterrupted: ${what}`)
    void handle?.stop().then(() => process.exit(130))
  }
  process.once("SIGINT", listener)
  return { set: (h: PoolHandle) => void (handle = h), done: () => void process.off("SIGINT", listener) }
}

const workersFlag = (value: string | undefined): number => intFlag("workers", value, defaultWorkers(), 1, 256)

export const sweepCommand = defineCommand({
  name: "sweep",
  args: "FILE",
  summary: "Run a sweep file: scenarios over a grid or a Latin hypercube of parameters × seeds, on all cores; writes results.jsonl (resumable), results.csv and report.html.",
  options: {
    workers: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean" },
  },
  help: {
    "--workers N": "worker threads (default: all cores)",
    "--out DIR": "results directory (default: sweeps/<name of the sweep>); an interrupted sweep resumes from it",
    "--json": "print the summary as one JSON object on stdout",
  },
  examples: ["dai sim sweep scenarios/sweeps/equivocation.yaml", "dai sim sweep scenarios/sweeps/downtime.yaml --workers 2 --out /tmp/downtime --json"],
  run: async (values, positionals, io) => {
    if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "missing the sweep FILE" : `unexpected argument "${positionals[1]}"` })
    const file = positionals[0]!
    const workers = workersFlag(values.workers)
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch (e) {
      throw new InputError({ reason: `cannot read sweep ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` })
    }
    let sweep: Sweep
    try {
      sweep = loadSweep(text, file)
    } catch (e) {
      if (e instanceof FileError) {
        io.err(e.message)
        return 2
      }
      throw e
    }
    const out = values.out ?? `sweeps/${sweep.name.replace(/[^A-Za-z0-9._-]+/g, "-")}`
    const interrupt = onInterrupt(io, `results so far are in ${out}/results.jsonl; run the same command again to resume`)
    io.err(`${sweep.name}: ${totalRuns(sweep)} runs (${totalRuns(sweep) / sweep.seeds} points × ${sweep.seeds} seeds) on ${workers} worker${workers > 1 ? "s" : ""} → ${out}`)
    let outcome
    try {
      outcome = await runSweep(sweep, {
        workers,
        out,
        onStart: interrupt.set,
        progress: (total, already) => {
          if (already > 0) io.err(`resuming: ${already} of ${total} runs already in ${out}/results.jsonl`)
          return new Progress({ total, already, label: "sweep", tty: process.stderr.isTTY === true, write: (t) => void process.stderr.write(t), now: wallNow })
        },
      })
    } catch (e) {
      if (e instanceof FileError) {
        io.err(e.message)
        return 2
      }
      throw e
    } finally {
      interrupt.done()
    }
    io.out(values.json === true ? JSON.stringify(summaryJson(sweep, outcome.aggregate, outcome.files), null, 2) : formatSummary(sweep, outcome.aggregate, outcome.files))
    return 0
  },
})

export const swarmCommand = defineCommand({
  name: "swarm",
  summary: "Swarm testing: each seed draws a network, stakes, latency, loss, faults and byzantine behaviours within the fault model and runs the checkers; counts each verdict (passed, correctness, liveness, crash) and writes every seed that did not pass as a scenario file. Exit 1 if any seed did not pass.",
  options: {
    seeds: { type: "string" },
    from: { type: "string" },
    workers: { type: "string" },
    out: { type: "string" },
    large: { type: "boolean" },
    json: { type: "boolean" },
  },
  help: {
    "--seeds N": "how many seeds (default 200)",
    "--from S": "first seed (default 0)",
    "--workers N": "worker threads (default: all cores)",
    "--out DIR": "where failing scenarios are written (default swarm-failures)",
    "--large": "larger networks (up to 10 validators) and longer runs (up to height 30)",
    "--json": "print the summary as one JSON object on stdout",
  },
  examples: ["dai sim swarm --seeds 200", "dai sim swarm --seeds 5000 --from 10000 --large"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const seeds = intFlag("seeds", values.seeds, 200, 1, 10_000_000)
    const from = intFlag("from", values.from, 0, 0, Number.MAX_SAFE_INTEGER - seeds)
    const workers = workersFlag(values.workers)
    const out = values.out ?? "swarm-failures"
    const progress = new Progress({ total: seeds, already: 0, label: "swarm", tty: process.stderr.isTTY === true, write: (t) => void process.stderr.write(t), now: wallNow })
    const interrupt = onInterrupt(io, "stopping the swarm")
    let summary
    try {
      summary = await runSwarm({
        seeds, from, workers, out, size: values.large === true ? "large" : "small", onStart: interrupt.set,
        onResult: (_r, failure) => {
          if (failure !== undefined) io.err(`\nFAIL seed ${failure.seed} (${failure.outcome}): ${failure.problems[0] ?? ""}\n  replay: dai sim run ${failure.path} --seed ${failure.seed}`)
          progress.tick()
        },
      })
    } finally {
      progress.end()
      interrupt.done()
    }
    if (values.json === true) io.out(JSON.stringify(summary, null, 2))
    else {
      io.out(`swarm: ${summary.outcomes.passed} of ${seeds} seeds passed (seeds ${from}..${from + seeds - 1}): ${formatOutcomes(summary.outcomes)}`)
      for (const f of summary.failures) io.out(`  seed ${f.seed}: ${f.outcome}: ${f.problems.join("; ")}\n    ${f.path}`)
    }
    return summary.failures.length === 0 ? 0 : 1
  },
})
