/**
 * Sweeps on the Redis queue against the local pool, in the same run: runs per second of one sweep
 * (RUNS runs of a small scenario: 4 validators to height 3, one double-signer) on the local pool with
 * 1 and 2 threads, then on the queue with 1, 2 and 4 `dai sim worker` processes (one thread each)
 * on this machine; and the queue's overhead per run, measured alone: NOOP jobs through the same
 * submitter (queue-submit.ts) to one in-process BullMQ worker whose processor does nothing, one at a time.
 * The bench starts its own redis-server on a free loopback port and stops it and the workers at the
 * end. Workers are started and connected before the clock starts (their start-up is not counted);
 * the pool's thread start-up is counted, as a sweep pays it.
 *
 * Run: npx node bench/queue.bench.ts            (RUNS=100 by default)
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadSweep } from "../sim/sweep/file.ts"
import { Worker } from "bullmq"
import { checkRedis, connect, RUNS_QUEUE, type QueuedSwarmRun } from "../sim/sweep/queue.ts"
import { submitRuns } from "../sim/sweep/queue-submit.ts"
import { runSweep, type SweepRunOptions } from "../sim/sweep/run.ts"

const RUNS = Number(process.env.RUNS ?? 100)
const NOOP = Number(process.env.NOOP ?? 1000)
const BIN = join(import.meta.dirname, "..", "bin", "dai.ts")
const dir = mkdtempSync(join(tmpdir(), "dai-queue-bench-"))
writeFileSync(join(dir, "micro.yaml"), "name: micro\nseed: 11\nnetwork: { validators: 4, stake: 1000000 }\nparams: { consensus.epochLength: 2 }\nuntil: { height: 3, maxTime: 10m }\nevents:\n  - at: { height: 1 }\n    byzantine: { nodes: [v0], behavior: equivocate }\n")
const text = `name: queue-bench\nscenario: micro.yaml\nseeds: 2\nrandom: { samples: ${Math.ceil(RUNS / 2)}, seed: 1, ranges: { slashing.doubleSignFraction: [0.01, 0.5] } }\nmetrics: [attackerRoi, honestApr]\n`
writeFileSync(join(dir, "sweep.yaml"), text)
const sweep = loadSweep(text, join(dir, "sweep.yaml"))

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once("exit", () => r())))

const port = await freePort()
const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" })
const url = new URL(`redis://127.0.0.1:${port}`)
for (let i = 0; ; i++) {
  try {
    await checkRedis(url, 1_000)
    break
  } catch (e) {
    if (i > 100) throw e
    await new Promise((r) => setTimeout(r, 100))
  }
}

let n = 0
const time = async (label: string, options: Omit<SweepRunOptions, "out">) => {
  const t = performance.now()
  const r = await runSweep(sweep, { ...options, out: join(dir, `out-${n++}`) })
  const s = (performance.now() - t) / 1000
  if (r.ran !== RUNS) throw new Error(`${label}: ran ${r.ran} of ${RUNS}`)
  const row = { label, seconds: s, runsPerSecond: RUNS / s }
  console.log(`${label.padEnd(26)} ${s.toFixed(1).padStart(6)} s  ${row.runsPerSecond.toFixed(2).padStart(7)} runs/s`)
  return row
}

const workers: ChildProcess[] = []
try {
  console.log(`${RUNS} runs of a 4-validator scenario to height 3; redis-server on 127.0.0.1:${port}`)
  await runSweep(sweep, { workers: 2, out: join(dir, "warm-up"), limit: 10 }) // JIT and caches, not counted
  const pool1 = await time("local pool, 1 thread", { workers: 1 })
  const pool2 = await time("local pool, 2 threads", { workers: 2 })
  const rows = [pool1, pool2]
  // The queue's own cost: jobs that do nothing, before any `dai sim worker` is there to take them.
  const connection = connect(url)
  const noop = new Worker(RUNS_QUEUE, async () => ({}), { connection, concurrency: 1 })
  function* noopJobs() {
    for (let i = 0; i < NOOP; i++) yield { id: `noop-${i}`, data: { kind: "swarm", owner: "bench:noop", task: { kind: "swarm", seed: i, size: "small" } } satisfies QueuedSwarmRun }
  }
  const t0 = performance.now()
  const got = await submitRuns({ url, owner: "bench:noop", jobs: noopJobs(), onResult: () => {}, onFailed: () => {}, pollMs: 10 })
  const noopMs = (performance.now() - t0) / NOOP
  await noop.close()
  connection.disconnect()
  if (got.results !== NOOP) throw new Error(`noop: ${got.results} of ${NOOP}`)
  console.log(`queue overhead alone: ${NOOP} no-op jobs, one at a time: ${noopMs.toFixed(2)} ms per run`)
  let queue1 = pool1
  for (const count of [1, 2, 4]) {
    while (workers.length < count) {
      const w = spawn(process.execPath, [BIN, "sim", "worker", "--queue", url.href, "--workers", "1"], { stdio: ["ignore", "ignore", "pipe"] })
      let log = ""
      w.stderr!.setEncoding("utf8").on("data", (t: string) => void (log += t))
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (log.includes("taking runs")) (clearInterval(check), resolve())
          if (w.exitCode !== null) (clearInterval(check), reject(new Error(`worker exited: ${log}`)))
        }, 50)
      })
      workers.push(w)
    }
    const row = await time(`queue, ${count} worker${count > 1 ? "s" : ""}`, { workers: 1, queue: url, pollMs: 10 })
    if (count === 1) queue1 = row
    rows.push(row)
  }
  console.log(`queue with 1 worker against the pool with 1 thread: ${(((queue1.seconds - pool1.seconds) / RUNS) * 1000).toFixed(1)} ms per run`)
  console.log(JSON.stringify({ runs: RUNS, rows, noopMsPerRun: noopMs, diffMsPerRun: ((queue1.seconds - pool1.seconds) / RUNS) * 1000 }))
} finally {
  for (const w of workers) w.kill("SIGTERM")
  await Promise.all(workers.map(exited))
  redis.kill("SIGTERM")
  await exited(redis)
}
