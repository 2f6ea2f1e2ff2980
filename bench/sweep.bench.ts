/**
 * Sweep throughput and memory.
 *  1. Speed-up of the worker-thread pool: the same sweep (the tiny equivocation scenario, RUNS runs)
 *     on 1 and on 2 worker threads, against the two-process ceiling measured beside it: the same
 *     RUNS runs (the sweep's own tasks, run by runSweepTask as a worker does) in one plain process,
 *     and split between two plain processes at once (even and odd runs, as the pool first hands them
 *     out). Both sides are timed the same way: cold, from starting the threads or processes (module
 *     loading and JIT warm-up included, no warm-up runs) to the last run done; the pool's side stops
 *     before the sweep's report pass (results.csv, report.html), which is not the pool. The plain
 *     processes get the pool's worker heap limits (WORKER_LIMITS) as V8 flags, so both run the same
 *     workload with the same heap. ROUNDS rounds, each in the order pool 1, process 1, pool 2,
 *     processes 2, so that the two sides of each ratio are measured next to each other.
 *  2. Peak memory of a 1,000-run sweep against a 100-run sweep, each in a fresh child process:
 *     peak RSS of the whole process (parent + worker threads) and the parent's peak heap, sampled.
 *     Results stream to results.jsonl and the CSV/report pass keeps per-point aggregates only, so
 *     both should be about the same.
 *
 * Run: npx node bench/sweep.bench.ts            (RUNS=600 ROUNDS=3 BIG=1000 SMALL=100 by default; about 3 min;
 *                                               PLAIN=1: the ceiling's processes without the workers' heap limits)
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
// The simulator's modules are imported below, per mode: a --direct process loads what a worker thread
// loads (sim/sweep/worker.ts's imports), no more, since its start-up is timed like the pool's.
const { loadSweep, totalRuns } = await import("../sim/sweep/file.ts")

const RUNS = Number(process.env.RUNS ?? 600)
const BIG = Number(process.env.BIG ?? 1000)
const SMALL = Number(process.env.SMALL ?? 100)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const TINY = join(import.meta.dirname, "..", "sim", "sweep", "testdata", "tiny.yaml")

/** A sweep of `runs` runs: a Latin hypercube over two parameters, 2 seeds per point. */
const sweepText = (runs: number) =>
  `name: bench-${runs}\nscenario: tiny.yaml\nseeds: 2\nrandom: { samples: ${Math.ceil(runs / 2)}, seed: 1, ranges: { slashing.doubleSignFraction: [0.01, 0.5], rewards.annualEmission: [0, 100000000] } }\nmetrics: [attackerRoi, honestApr, stakeGini, supply]\nconstraints: { attackerRoi: "< 0" }\n`

const prepare = (runs: number) => {
  const dir = mkdtempSync(join(tmpdir(), "dai-sweep-bench-"))
  copyFileSync(TINY, join(dir, "tiny.yaml"))
  const file = join(dir, "sweep.yaml")
  writeFileSync(file, sweepText(runs))
  return { dir, sweep: loadSweep(sweepText(runs), file) }
}

if (process.argv[2] === "--direct") {
  // One side of the ceiling: the sweep's runs number `part` mod `parts`, in run order, in this plain
  // process (no pool, no threads, no parent); prints "done" after the last so the parent can time it.
  const { runSweepTask, tasksOf } = await import("../sim/sweep/task.ts")
  await import("../sim/swarm/seed.ts")
  const [runs, part, parts] = process.argv.slice(3).map(Number) as [number, number, number]
  const { sweep } = prepare(runs)
  let i = 0
  for (const task of tasksOf(sweep, new Uint8Array(totalRuns(sweep)), Infinity, undefined)) if (i++ % parts === part) runSweepTask(task)
  console.log("done")
  process.exit(0)
}

const { WORKER_LIMITS } = await import("../sim/sweep/pool.ts")
const { runSweep } = await import("../sim/sweep/run.ts")

if (process.argv[2] === "--child") {
  // One sweep in this process; print peak RSS (process-wide, includes worker threads) and the parent's peak heap.
  const { dir, sweep } = prepare(Number(process.argv[3]))
  let peakHeap = 0
  const sample = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 25)
  const r = await runSweep(sweep, { workers: 2, out: join(dir, "out") })
  clearInterval(sample)
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  console.log(JSON.stringify({ runs: r.aggregate.runs, maxRssMb: process.resourceUsage().maxRSS / 1024, peakHeapMb: peakHeap / 2 ** 20 }))
  process.exit(0)
}

/** Seconds from starting the pool to its last result (the report pass after it is not timed). */
const timed = async (workers: number, runs: number): Promise<number> => {
  const { dir, sweep } = prepare(runs)
  let end = 0
  const t = performance.now()
  await runSweep(sweep, { workers, out: join(dir, "out"), progress: () => ({ tick() {}, end: () => void (end = performance.now()) }) })
  return (end - t) / 1000
}

/** Seconds from spawning `parts` plain processes (the runs split among them) to the last one's "done". */
const { spawn } = await import("node:child_process")
// maxYoungGenerationSizeMb 32 gives a worker the same new space as --max-semi-space-size=16 gives a process
// (32 MB, v8.getHeapSpaceStatistics()). PLAIN=1: the processes run with V8's default heap instead.
const heapFlags = process.env.PLAIN === "1" ? [] : [`--max-old-space-size=${WORKER_LIMITS.maxOldGenerationSizeMb}`, `--max-semi-space-size=${WORKER_LIMITS.maxYoungGenerationSizeMb / 2}`]
const direct = async (parts: number): Promise<number> => {
  const t = performance.now()
  const ends = await Promise.all(Array.from({ length: parts }, (_, part) => new Promise<number>((resolve, reject) => {
    const p = spawn(process.execPath, [...heapFlags, import.meta.filename, "--direct", String(RUNS), String(part), String(parts)], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    let end = 0
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString()
      if (end === 0 && out.includes("done")) end = performance.now()
    })
    p.on("error", reject)
    p.on("exit", (code) => (code === 0 && end > 0 ? resolve(end) : reject(new Error(`--direct exited with ${code}`))))
  })))
  return (Math.max(...ends) - t) / 1000
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`sweep throughput: ${RUNS} runs of sim/sweep/testdata/tiny.yaml (4 validators, height 4), ${ROUNDS} rounds; pool = worker threads, ceiling = plain processes (heap flags: ${heapFlags.join(" ") || "none, PLAIN=1"})`)
await timed(1, 20) // warm the file cache and this process's module graph once
console.log(`| round | load (1 min) | pool 1 (s) | pool 2 (s) | pool speed-up | process 1 (s) | processes 2 (s) | ceiling | pool ÷ ceiling |\n|---|---|---|---|---|---|---|---|---|`)
const shares: number[] = []
const ups: number[] = []
const ceilings: number[] = []
const rates1: number[] = []
const rates2: number[] = []
for (let r = 1; r <= ROUNDS; r++) {
  const load = loadavg()[0]!
  const pool1 = await timed(1, RUNS)
  const proc1 = await direct(1)
  const pool2 = await timed(2, RUNS)
  const proc2 = await direct(2)
  const up = pool1 / pool2
  const ceiling = proc1 / proc2
  ups.push(up)
  rates1.push(RUNS / pool1)
  rates2.push(RUNS / pool2)
  ceilings.push(ceiling)
  shares.push(up / ceiling)
  console.log(`| ${r} | ${load.toFixed(1)} | ${pool1.toFixed(2)} | ${pool2.toFixed(2)} | ${up.toFixed(2)}x | ${proc1.toFixed(2)} | ${proc2.toFixed(2)} | ${ceiling.toFixed(2)}x | ${(up / ceiling * 100).toFixed(0)} % |`)
}
console.log(`pool speed-up 2 vs 1 worker: median ${median(ups).toFixed(2)}x (target >= 1.8x on 2 idle cores; runs/s median: 1 worker ${median(rates1).toFixed(1)}, 2 workers ${median(rates2).toFixed(1)}); two-process ceiling median ${median(ceilings).toFixed(2)}x`)
console.log(`the pool reaches ${(median(shares) * 100).toFixed(0)} % of the ceiling (median of ${ROUNDS}; range ${(Math.min(...shares) * 100).toFixed(0)}–${(Math.max(...shares) * 100).toFixed(0)} %; target >= 95 %); load average now ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)

const child = (runs: number) => JSON.parse(execFileSync(process.execPath, [import.meta.filename, "--child", String(runs)], { encoding: "utf8" }).trim().split("\n").at(-1)!) as { runs: number; maxRssMb: number; peakHeapMb: number }
const small = child(SMALL)
const big = child(BIG)
console.log(`\npeak memory, 2 workers, fresh process each:\n| runs | peak RSS (MB, parent + workers) | parent peak heap (MB) |\n|---|---|---|`)
for (const m of [small, big]) console.log(`| ${m.runs} | ${m.maxRssMb.toFixed(0)} | ${m.peakHeapMb.toFixed(1)} |`)
console.log(`ratio ${BIG} vs ${SMALL} runs: RSS ${(big.maxRssMb / small.maxRssMb).toFixed(2)}x, heap ${(big.peakHeapMb / small.peakHeapMb).toFixed(2)}x (target: about 1x)`)
