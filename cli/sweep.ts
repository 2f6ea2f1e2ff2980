/** `dai sim sweep`, `dai sim swarm`, `dai sim worker` and `dai sim merge`: the commands over the sweep runner, the swarm and the queue. */
import { readFileSync } from "node:fs"
import { parseDuration } from "../runtime/core/duration.ts"
import { defineCommand, InputError, intFlag, UsageError, type Io } from "./command.ts"
import { FileError } from "../sim/scenario/decode-file.ts"
import { runSwarm } from "../sim/swarm/run.ts"
import { formatOutcomes } from "../sim/check/verdict.ts"
import { loadSweep, totalRuns, type Sweep } from "../sim/sweep/file.ts"
import { defaultWorkers, type PoolHandle } from "../sim/sweep/pool.ts"
import { Progress } from "../sim/sweep/progress.ts"
import { mergeResults } from "../sim/sweep/merge.ts"
import { checkRedis, parseRedisUrl, shownUrl } from "../sim/sweep/queue.ts"
import { OwnerTaken } from "../sim/sweep/queue-submit.ts"
import { startQueueWorker } from "../sim/sweep/queue-worker.ts"
import { runSweep } from "../sim/sweep/run.ts"
import { parseShard, shardSize, type Shard } from "../sim/sweep/shard.ts"
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

/** `--queue redis://…` → its URL, once Redis has answered (an unreachable one is a one-line error, exit 2, before any run). */
const queueFlag = async (value: string | undefined): Promise<URL | undefined> => {
  if (value === undefined) return undefined
  const url = parseRedisUrl(value)
  if (typeof url === "string") throw new InputError({ reason: url })
  try {
    await checkRedis(url)
  } catch (e) {
    throw new InputError({ reason: (e as Error).message })
  }
  return url
}

const shardFlag = (value: string | undefined): Shard | undefined => {
  if (value === undefined) return undefined
  const shard = parseShard(value)
  if (typeof shard === "string") throw new InputError({ reason: shard })
  return shard
}

/** Runs a queue's workers would not do: one line each (the first few), and how to finish them. */
const reportUnrun = (io: Io, what: string, unrun: readonly { readonly reason: string }[], again: string): void => {
  for (const u of unrun.slice(0, 5)) io.err(u.reason)
  if (unrun.length > 5) io.err(`… and ${unrun.length - 5} more`)
  io.err(`${unrun.length} ${what} not done (not recorded); ${again}`)
}

export const sweepCommand = defineCommand({
  name: "sweep",
  args: "FILE",
  summary: "Run a sweep file: scenarios over a grid or a Latin hypercube of parameters × seeds, on all cores; writes results.jsonl (resumable), results.csv and report.html.",
  options: {
    workers: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean" },
    queue: { type: "string" },
    shard: { type: "string" },
  },
  help: {
    "--workers N": "worker threads (default: all cores)",
    "--out DIR": "results directory (default: sweeps/<name of the sweep>, or sweeps/<name>-shard-I-of-N); an interrupted sweep resumes from it",
    "--json": "print the summary as one JSON object on stdout",
    "--queue URL": "put every run on the Redis queue at URL (redis://HOST:PORT) for `dai sim worker`s anywhere to run, instead of local threads",
    "--shard I/N": "only shard I of N (runs whose number is I mod N; 0 ≤ I < N), for batch schedulers; join shards with `dai sim merge`",
  },
  examples: [
    "dai sim sweep scenarios/sweeps/equivocation.yaml", "dai sim sweep scenarios/sweeps/downtime.yaml --workers 2 --out /tmp/downtime --json",
    "dai sim sweep scenarios/sweeps/downtime.yaml --queue redis://10.0.0.5:6379", "dai sim sweep scenarios/sweeps/downtime.yaml --shard 3/8 --out results/shard-3",
  ],
  exits: "0 done; 2 bad input, an unreachable Redis, or runs a queue's workers refused (another version of a scenario file: fix them and run again to resume)",
  run: async (values, positionals, io) => {
    if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "missing the sweep FILE" : `unexpected argument "${positionals[1]}"` })
    const file = positionals[0]!
    const workers = workersFlag(values.workers)
    const shard = shardFlag(values.shard)
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
    const queue = await queueFlag(values.queue)
    const out = values.out ?? `sweeps/${sweep.name.replace(/[^A-Za-z0-9._-]+/g, "-")}${shard ? `-shard-${shard.index}-of-${shard.count}` : ""}`
    const interrupt = onInterrupt(io, `results so far are in ${out}/results.jsonl; run the same command again to resume`)
    const runs = shardSize(shard, totalRuns(sweep))
    const where = queue ? `the queue at ${shownUrl(queue)}` : `${workers} worker${workers > 1 ? "s" : ""}`
    io.err(`${sweep.name}: ${runs} runs (${shard ? `shard ${shard.index}/${shard.count} of ${totalRuns(sweep)}: ` : ""}${totalRuns(sweep) / sweep.seeds} points × ${sweep.seeds} seeds) on ${where} → ${out}`)
    let outcome
    try {
      outcome = await runSweep(sweep, {
        workers,
        out,
        ...(queue ? { queue } : {}),
        ...(shard ? { shard } : {}),
        notice: (line) => io.err(line),
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
      if (e instanceof OwnerTaken) throw new InputError({ reason: e.message })
      throw e
    } finally {
      interrupt.done()
    }
    io.out(values.json === true ? JSON.stringify(summaryJson(sweep, outcome.aggregate, outcome.files), null, 2) : formatSummary(sweep, outcome.aggregate, outcome.files))
    if (outcome.failed.length > 0) {
      reportUnrun(io, "runs", outcome.failed, "fix those workers and run the same command again to resume")
      return 2
    }
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
    queue: { type: "string" },
    shard: { type: "string" },
  },
  help: {
    "--seeds N": "how many seeds (default 200)",
    "--from S": "first seed (default 0)",
    "--workers N": "worker threads (default: all cores)",
    "--out DIR": "where failing scenarios are written (default swarm-failures)",
    "--large": "larger networks (up to 10 validators) and longer runs (up to height 30)",
    "--json": "print the summary as one JSON object on stdout",
    "--queue URL": "put every seed on the Redis queue at URL (redis://HOST:PORT) for `dai sim worker`s anywhere to run",
    "--shard I/N": "only shard I of N of the seeds (the i-th seed from --from where i mod N = I), for batch schedulers",
  },
  examples: ["dai sim swarm --seeds 200", "dai sim swarm --seeds 5000 --from 10000 --large", "dai sim swarm --seeds 10000 --queue redis://10.0.0.5:6379", "dai sim swarm --seeds 10000 --shard 0/16 --out failures-0"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const seeds = intFlag("seeds", values.seeds, 200, 1, 10_000_000)
    const from = intFlag("from", values.from, 0, 0, Number.MAX_SAFE_INTEGER - seeds)
    const workers = workersFlag(values.workers)
    const shard = shardFlag(values.shard)
    const queue = await queueFlag(values.queue)
    const out = values.out ?? "swarm-failures"
    const progress = new Progress({ total: shardSize(shard, seeds), already: 0, label: "swarm", tty: process.stderr.isTTY === true, write: (t) => void process.stderr.write(t), now: wallNow })
    const interrupt = onInterrupt(io, "stopping the swarm")
    let summary
    try {
      summary = await runSwarm({
        seeds, from, workers, out, size: values.large === true ? "large" : "small", onStart: interrupt.set,
        ...(queue ? { queue } : {}), ...(shard ? { shard } : {}), notice: (line) => io.err(line),
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
      io.out(`swarm: ${summary.outcomes.passed} of ${summary.seeds} seeds passed (seeds ${from}..${from + seeds - 1}${shard ? `, shard ${shard.index}/${shard.count}` : ""}): ${formatOutcomes(summary.outcomes)}`)
      for (const f of summary.failures) io.out(`  seed ${f.seed}: ${f.outcome}: ${f.problems.join("; ")}\n    ${f.path}`)
    }
    if (summary.unrun.length > 0) reportUnrun(io, "seeds", summary.unrun, "their workers died too often")
    return summary.failures.length > 0 ? 1 : summary.unrun.length > 0 ? 2 : 0
  },
})

export const workerCommand = defineCommand({
  name: "worker",
  summary: "Take sweep and swarm runs off a Redis queue (from `dai sim sweep --queue` or `dai sim swarm --queue`) and run them on worker threads, until stopped (Ctrl-C or SIGTERM: the runs in hand finish first). Any number, on any machine with this checkout.",
  options: {
    queue: { type: "string" },
    workers: { type: "string" },
    "stall-after": { type: "string" },
    root: { type: "string" },
    verbose: { type: "boolean" },
  },
  help: {
    "--queue URL": "the Redis queue (redis://HOST:PORT), required",
    "--workers N": "runs at once, one thread each (default: all cores)",
    "--stall-after D": "a run whose worker went silent this long (killed, machine lost) goes to another worker (default 30s)",
    "--root DIR": "where the scenario files named relative to the submitter's directory are (default: this directory)",
    "--verbose": "a line per run started and done",
  },
  examples: ["dai sim worker --queue redis://10.0.0.5:6379", "dai sim worker --queue redis://127.0.0.1:6379 --workers 4 --stall-after 10s"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    if (values.queue === undefined) throw new UsageError({ reason: "missing --queue redis://HOST:PORT" })
    const threads = workersFlag(values.workers)
    const stallMs = values["stall-after"] === undefined ? 30_000 : parseDuration(values["stall-after"])
    if (stallMs === undefined || stallMs < 1_000) throw new InputError({ reason: `--stall-after must be a duration of at least 1s such as 30s, got "${values["stall-after"]}"` })
    const url = (await queueFlag(values.queue))!
    let runs = 0
    const handle = startQueueWorker({
      url, threads, stallMs, ...(values.root !== undefined ? { root: values.root } : {}),
      log: (line) => io.err(line), onRun: () => void runs++,
      ...(values.verbose === true ? { trace: (line: string) => io.err(line) } : {}),
    })
    io.err(`dai sim worker: taking runs from ${shownUrl(url)} on ${threads} thread${threads > 1 ? "s" : ""} (Ctrl-C stops after the runs in hand)`)
    let signals = 0
    const stop = () => {
      if (++signals > 1) process.exit(130)
      io.err("stopping: finishing the runs in hand")
      void handle.close()
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
    try {
      await handle.closed
    } finally {
      process.off("SIGINT", stop)
      process.off("SIGTERM", stop)
    }
    io.err(`dai sim worker: stopped after ${runs} run${runs === 1 ? "" : "s"}`)
    return 0
  },
})

export const mergeCommand = defineCommand({
  name: "merge",
  args: "DIR...",
  summary: "Join the results directories of a sweep's shards (`dai sim sweep --shard I/N`) into one: every run once, then the same results.csv, report.html and summary as a whole sweep.",
  options: {
    out: { type: "string" },
    json: { type: "boolean" },
  },
  help: {
    "--out DIR": "the merged results directory (default: sweeps/<name of the sweep>)",
    "--json": "print the summary as one JSON object on stdout",
  },
  examples: ["dai sim merge results/shard-*", "dai sim merge a b c --out /tmp/merged --json"],
  exits: "0 every run of the sweep is in the merge; 1 some are missing (listed; `dai sim sweep FILE --out DIR` on the merged directory runs them); 2 bad input",
  run: async (values, positionals, io) => {
    if (positionals.length === 0) throw new UsageError({ reason: "missing the results directories DIR..." })
    let merged
    try {
      const first = JSON.parse(readFileSync(`${positionals[0]}/sweep.json`, "utf8")) as { name?: unknown }
      const out = values.out ?? `sweeps/${String(first.name ?? "merged").replace(/[^A-Za-z0-9._-]+/g, "-")}`
      merged = await mergeResults(positionals, out)
    } catch (e) {
      if (e instanceof FileError) throw new InputError({ reason: e.message })
      if (e instanceof SyntaxError || (e as NodeJS.ErrnoException).code !== undefined) {
        throw new InputError({ reason: `${positionals[0]} is not a sweep's results directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
      }
      throw e
    }
    const { sweep, aggregate, files } = merged
    io.err(`merged ${positionals.length} director${positionals.length === 1 ? "y" : "ies"} (${merged.taken.map((n, i) => `${positionals[i]}: ${n}`).join(", ")}) → ${files.jsonl}`)
    io.out(values.json === true ? JSON.stringify(summaryJson(sweep, aggregate, files), null, 2) : formatSummary(sweep, aggregate, files))
    if (merged.missing > 0) {
      io.err(`${merged.missing} of ${totalRuns(sweep)} runs are in none of them; run them with: dai sim sweep ${sweep.file} --out ${files.jsonl.replace(/\/results\.jsonl$/, "")}`)
      return 1
    }
    return 0
  },
})
