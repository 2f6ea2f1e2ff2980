/**
 * Sweep throughput and memory.
 *  1. Runs per second of the same sweep (the tiny equivocation scenario, RUNS runs) on 1 and on 2
 *     worker threads, measured in the same process one after the other, and the speed-up.
 *  2. Peak memory of a 1,000-run sweep against a 100-run sweep, each in a fresh child process:
 *     peak RSS of the whole process (parent + worker threads) and the parent's peak heap, sampled.
 *     Results stream to results.jsonl and the CSV/report pass keeps per-point aggregates only, so
 *     both should be about the same.
 *
 * Run: npx node bench/sweep.bench.ts            (RUNS=600 by default: a worker thread takes about a second to start, which a short sweep would mostly measure; BIG=1000 SMALL=100)
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadSweep } from "../sim/sweep/file.ts"
import { runSweep } from "../sim/sweep/run.ts"

const RUNS = Number(process.env.RUNS ?? 600)
const BIG = Number(process.env.BIG ?? 1000)
const SMALL = Number(process.env.SMALL ?? 100)
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
  // The ceiling: RUNS/2 runs of the same scenario in this process, no pool (two of these at once
  // show what two cores give this allocation-heavy workload on this machine).
  const { readFileSync } = await import("node:fs")
  const { parseScenario } = await import("../sim/scenario/load.ts")
  const { runScenario } = await import("../sim/scenario/run.ts")
  const scenario = parseScenario(readFileSync(TINY, "utf8"), TINY)
  const n = Number(process.argv[3])
  for (let i = 0; i < 10; i++) runScenario(scenario, { seed: i }) // warm up
  const t = performance.now()
  for (let i = 0; i < n; i++) runScenario(scenario, { seed: i })
  console.log(JSON.stringify({ ms: performance.now() - t }))
  process.exit(0)
}

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

const timed = async (workers: number) => {
  const { dir, sweep } = prepare(RUNS)
  const t = performance.now()
  const r = await runSweep(sweep, { workers, out: join(dir, "out") })
  const s = (performance.now() - t) / 1000
  return { runs: r.aggregate.runs, seconds: s, perSecond: r.aggregate.runs / s }
}

console.log(`sweep throughput: ${RUNS} runs of sim/sweep/testdata/tiny.yaml (4 validators, height 4), same process`)
await timed(1) // warm the file cache and the module graph once
const one = await timed(1)
const two = await timed(2)
console.log(`| workers | runs | seconds | runs/s |\n|---|---|---|---|`)
console.log(`| 1 | ${one.runs} | ${one.seconds.toFixed(2)} | ${one.perSecond.toFixed(2)} |`)
console.log(`| 2 | ${two.runs} | ${two.seconds.toFixed(2)} | ${two.perSecond.toFixed(2)} |`)
console.log(`speed-up 2 vs 1 worker: ${(two.perSecond / one.perSecond).toFixed(2)}x (target >= 1.8x on 2 idle cores)`)

// Baseline in the same run: the same runs in plain processes, one alone and then two at once. Their
// ratio is what two cores give this workload on this machine, whatever the pool does.
const { execFile } = await import("node:child_process")
const direct = (n: number) => new Promise<number>((resolve, reject) =>
  execFile(process.execPath, [import.meta.filename, "--direct", String(n)], (e, out) => (e ? reject(e) : resolve((JSON.parse(out.trim().split("\n").at(-1)!) as { ms: number }).ms))))
const half = Math.ceil(RUNS / 2)
const alone = await direct(half)
const pair = await Promise.all([direct(half), direct(half)])
const ceiling = (2 * half) / (Math.max(...pair) / 1000) / (half / (alone / 1000))
console.log(`ceiling: ${half} runs in one plain process ${(alone / 1000).toFixed(2)} s; two such processes at once ${(Math.max(...pair) / 1000).toFixed(2)} s: ${ceiling.toFixed(2)}x`)
console.log(`the pool reaches ${((two.perSecond / one.perSecond) / ceiling * 100).toFixed(0)} % of that ceiling`)

const child = (runs: number) => JSON.parse(execFileSync(process.execPath, [import.meta.filename, "--child", String(runs)], { encoding: "utf8" }).trim().split("\n").at(-1)!) as { runs: number; maxRssMb: number; peakHeapMb: number }
const small = child(SMALL)
const big = child(BIG)
console.log(`\npeak memory, 2 workers, fresh process each:\n| runs | peak RSS (MB, parent + workers) | parent peak heap (MB) |\n|---|---|---|`)
for (const m of [small, big]) console.log(`| ${m.runs} | ${m.maxRssMb.toFixed(0)} | ${m.peakHeapMb.toFixed(1)} |`)
console.log(`ratio ${BIG} vs ${SMALL} runs: RSS ${(big.maxRssMb / small.maxRssMb).toFixed(2)}x, heap ${(big.peakHeapMb / small.peakHeapMb).toFixed(2)}x (target: about 1x)`)
