/**
 * In-process A/B of simulated consensus: `runScenario` loaded from two checkouts into one process and
 * run alternately (the order flips every round), each run's virtual time ÷ the process CPU time it
 * took. On a shared machine the spread between runs (±20–30 %) hides a few per cent; pairing each run
 * with its neighbour and counting how often B wins shows what single medians cannot. The trace
 * hashes of the two checkouts are compared on every pair (a change that alters behaviour says so).
 * Library code (xstate, effect) is shared by both: a symlinked node_modules resolves to one copy.
 *
 * Run:  npx node bench/consensus-ab.ts A_ROOT B_ROOT     (e.g. git worktree add /tmp/base <commit>,
 *                                                        with node_modules symlinked, and this checkout)
 *       N=100 H=8 ROUNDS=12 TRACED=1 …                   (validators, heights, pairs, deliveries traced;
 *                                                        default 16, 60, 8, untraced)
 */
import { loadavg } from "node:os"
import { join } from "node:path"
import { benchScenarioYaml } from "./scenario.ts"

const [rootA, rootB] = process.argv.slice(2)
if (rootA === undefined || rootB === undefined) throw new Error("usage: npx node bench/consensus-ab.ts A_ROOT B_ROOT")
const n = Number(process.env.N ?? 16)
const h = Number(process.env.H ?? 60)
const rounds = Number(process.env.ROUNDS ?? 8)
const traced = process.env.TRACED === "1"

interface Runner {
  readonly parse: (yaml: string, file: string) => unknown
  readonly run: (scenario: unknown, options: { seed: number; traceDeliveries: boolean }) => { metrics: { time: number }; traceHash: string }
}
const load = async (root: string): Promise<Runner> => ({
  parse: (await import(join(root, "sim/scenario/load.ts"))).parseScenario,
  run: (await import(join(root, "sim/scenario/run.ts"))).runScenario,
})
const A = await load(rootA)
const B = await load(rootB)
const yaml = benchScenarioYaml(n, h)

const one = (x: Runner) => {
  const c0 = process.cpuUsage()
  const r = x.run(x.parse(yaml, `bench-${n}.yaml`), { seed: 1, traceDeliveries: traced })
  const c = process.cpuUsage(c0)
  return { ratio: r.metrics.time / ((c.user + c.system) / 1000), hash: r.traceHash }
}
one(A)
one(B) // warm-up
const ra: number[] = []
const rb: number[] = []
let differ = 0
for (let i = 0; i < rounds; i++) {
  const aFirst = i % 2 === 0
  const x = one(aFirst ? A : B)
  const y = one(aFirst ? B : A)
  ra.push(aFirst ? x.ratio : y.ratio)
  rb.push(aFirst ? y.ratio : x.ratio)
  if (x.hash !== y.hash) differ++
}
const median = (a: readonly number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1]!
const list = (a: readonly number[]): string => a.map((v) => v.toFixed(0)).join(" ")
const pairs = ra.map((a, i) => rb[i]! / a)
const gm = Math.exp(pairs.reduce((s, v) => s + Math.log(v), 0) / pairs.length)
console.log(`${n} validators, ${h} heights, ${traced ? "traced" : "untraced"}, ${rounds} pairs, load ${loadavg()[0]!.toFixed(1)}${differ > 0 ? `; TRACE HASHES DIFFER in ${differ} pairs` : "; same trace hashes"}`)
console.log(`A virtual ÷ CPU: median ${median(ra).toFixed(1)}× [${list(ra)}]`)
console.log(`B virtual ÷ CPU: median ${median(rb).toFixed(1)}× [${list(rb)}]`)
console.log(`paired B ÷ A: geometric mean ${gm.toFixed(3)}, median ${median(pairs).toFixed(3)}; B faster in ${pairs.filter((v) => v > 1).length} of ${pairs.length}`)
