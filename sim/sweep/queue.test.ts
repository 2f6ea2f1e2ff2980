/**
 * A sweep distributed over a Redis queue on loopback: the test starts its own redis-server (Debian's,
 * installed by .ci/run) on a free port of 127.0.0.1 and two `dai sim worker` processes, runs a sweep of
 * 40 runs through the queue, SIGKILLs one worker in the middle of a run, and checks that every run is
 * recorded exactly once with the same result lines (trace hashes included) as the same sweep run on
 * local threads; then a resumed sweep queues nothing, a worker holding another version of a scenario
 * file refuses its runs by name, and an unreachable Redis is one line and exit 2 before any run.
 * Everything started here is stopped here.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { freePort } from "../../runtime/node/free-port.ts"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCommand } from "../../cli/command.ts"
import { sweepCommand } from "../../cli/sweep.ts"
import { runSwarm } from "../swarm/run.ts"
import { loadSweep, totalRuns } from "./file.ts"
import { checkRedis, sha256 } from "./queue.ts"
import type { PoolHandle } from "./pool.ts"
import { startQueueWorker } from "./queue-worker.ts"
import { runSweep } from "./run.ts"
import type { ResultLine } from "./task.ts"

const BIN = new URL("../../bin/dai.ts", import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), "dai-queue-"))
const children: ChildProcess[] = []

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> => {
  const end = performance.now() + ms
  while (!(await ok())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once("exit", (code) => r(code)))

/** A `dai sim worker` process whose stderr is kept (with --verbose: `start <job>` / `done <job>` lines). */
const startWorker = (url: string) => {
  const child = spawn(process.execPath, [BIN, "sim", "worker", "--queue", url, "--workers", "1", "--stall-after", "2s", "--verbose"], { stdio: ["ignore", "ignore", "pipe"] })
  children.push(child)
  const log = { text: "" }
  child.stderr!.setEncoding("utf8").on("data", (t: string) => void (log.text += t))
  return { child, log }
}

/** The scheduler state of a process (Linux, /proc/<pid>/stat): "T" once it is stopped. */
const processState = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").match(/^\d+ \(.*\) (\S)/s)?.[1]
  } catch {
    return undefined
  }
}

/**
 * SIGKILL the worker if it is inside a run; true when it did. Its log as read so far can lag what it
 * wrote (a `done` still in the pipe: a loaded machine showed a last `start` of a run already done), so
 * the worker is first stopped (SIGSTOP, and seen stopped), the pipe is drained (a poll phase of the
 * event loop reads whatever it holds), and the worker is judged on everything it wrote: inside a run
 * when its last line is a `start`. Else it goes on (SIGCONT), and false.
 */
const killInsideRun = async (w: { child: ChildProcess; log: { text: string } }): Promise<boolean> => {
  const pid = w.child.pid!
  w.child.kill("SIGSTOP")
  await until("the worker to stop", () => processState(pid) === "T", 10_000)
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 0))
    await new Promise((r) => setImmediate(r))
  }
  const last = w.log.text.trim().split("\n").at(-1) ?? ""
  if (!last.startsWith("start ")) {
    w.child.kill("SIGCONT")
    return false
  }
  w.child.kill("SIGKILL")
  return true
}

const lines = (out: string) => readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as ResultLine)
const byRun = (ls: readonly ResultLine[]) => [...ls].sort((a, b) => a.run - b.run)

let redis: ChildProcess
let url: URL

beforeAll(async () => {
  const which = spawnSync("redis-server", ["--version"])
  if (which.error !== undefined) throw new Error("redis-server is not installed: apt-get install -y redis-server (.ci/run installs it)")
  const port = await freePort()
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" })
  children.push(redis)
  url = new URL(`redis://127.0.0.1:${port}`)
  await until("redis-server to answer", () => checkRedis(url, 1_000).then(() => true, () => false))
})

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
  await Promise.all(children.map(exited))
})

// A small, fast scenario: 4 validators to height 3 (epochs of 2 blocks, so the emission is paid), v0 double-signs.
writeFileSync(join(dir, "micro.yaml"), `name: micro
seed: 11
network: { validators: 4, stake: 1000000 }
params: { consensus.epochLength: 2 }
until: { height: 3, maxTime: 10m }
events:
  - at: { height: 1 }
    byzantine: { nodes: [v0], behavior: equivocate }
`)
const sweepText = `name: distributed
scenario: micro.yaml
seeds: 4
grid: { slashing.doubleSignFraction: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] }
metrics: [attackerRoi, honestApr, supply]
`
writeFileSync(join(dir, "distributed.yaml"), sweepText)
const sweep = loadSweep(sweepText, join(dir, "distributed.yaml"))

describe("dai sim sweep --queue", () => {
  it("distributes 40 runs over two worker processes, survives one SIGKILLed mid-run, and records each run once, as the local pool does", { timeout: 180_000 }, async () => {
    expect(totalRuns(sweep)).toBe(40)
    const a = startWorker(url.href)
    const b = startWorker(url.href)
    try {
      await until("both workers to connect", () => a.log.text.includes("taking runs") && b.log.text.includes("taking runs"))

      let recorded = 0
      let killed = false
      let judging = false
      const out = join(dir, "queued")
      const queued = await runSweep(sweep, {
        workers: 1, out, queue: url, pollMs: 20,
        progress: () => ({
          tick: () => {
            recorded++
            // Once a quarter is in, kill worker A while it is inside a run; tried again at each recorded run until it is.
            if (killed || judging || recorded < 10) return
            judging = true
            void killInsideRun(a).then((k) => {
              killed = k
              judging = false
            })
          },
          end: () => {},
        }),
      })
      expect(killed).toBe(true)
      await exited(a.child)
      expect(a.child.signalCode).toBe("SIGKILL")
      expect(queued.failed).toEqual([])
      expect(queued.ran).toBe(40)
      // The run A died in (started, never done) was taken over by B once A's lock expired (BullMQ's stalled-job check).
      const started = (log: string, what: string) => new Set([...log.matchAll(new RegExp(`^${what} (\\S+)$`, "gm"))].map((m) => m[1]!))
      const done = started(a.log.text, "done")
      const cut = [...started(a.log.text, "start")].filter((id) => !done.has(id))
      expect(cut).toHaveLength(1)
      expect(started(b.log.text, "done").has(cut[0]!)).toBe(true)

      const got = lines(out)
      expect(got).toHaveLength(40) // recorded exactly once
      expect(byRun(got).map((l) => l.run)).toEqual([...Array(40).keys()])
      expect(got.every((l) => typeof l.traceHash === "string" && l.traceHash.length === 64)).toBe(true)

      // The same sweep on local threads: the same lines, trace hashes included.
      const local = await runSweep(sweep, { workers: 2, out: join(dir, "local") })
      expect(local.ran).toBe(40)
      expect(JSON.stringify(byRun(got))).toBe(JSON.stringify(byRun(lines(join(dir, "local")))))
      // results.csv follows results.jsonl (completion order): the same rows.
      const rows = (d: string) => readFileSync(join(d, "results.csv"), "utf8").trim().split("\n").sort()
      expect(rows(out)).toEqual(rows(join(dir, "local")))

      // Resumed: everything is recorded, so nothing is queued or run again.
      const before = b.log.text.split("\nstart ").length
      const again = await runSweep(sweep, { workers: 1, out, queue: url, pollMs: 20 })
      expect(again.ran).toBe(0)
      expect(again.resumed).toBe(40)
      expect(b.log.text.split("\nstart ").length).toBe(before)
      expect(lines(out)).toHaveLength(40)

      // A worker stops gracefully on SIGTERM.
      b.child.kill("SIGTERM")
      expect(await exited(b.child)).toBe(0)
      expect(b.log.text).toMatch(/stopped after \d+ runs/)
    } finally {
      // Whatever failed above, no worker of this test takes the next test's runs.
      for (const w of [a, b]) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL")
      await Promise.all([exited(a.child), exited(b.child)])
    }
  })

  it("a worker whose copy of the scenario file is another version refuses the runs by name; they are not recorded, and a rerun with a good worker resumes them; a stopped submitter resumes collecting what finished meanwhile (and a swarm's shard runs)", { timeout: 120_000 }, async () => {
    // The scenario inside the checkout travels as a path relative to it; the stale worker's root has another version there.
    const scenario = join(import.meta.dirname, "testdata", "tiny.yaml")
    const rel = relative(process.cwd(), scenario)
    const staleRoot = join(dir, "stale")
    mkdirSync(join(staleRoot, rel, ".."), { recursive: true })
    writeFileSync(join(staleRoot, rel), readFileSync(scenario, "utf8").replace("height: 4", "height: 5"))
    const text = `name: refused\nscenario: ${scenario}\nseeds: 2\ngrid: { slashing.doubleSignFraction: [0.1] }\nmetrics: [attackerRoi]\n`
    const small = loadSweep(text, join(dir, "refused.yaml"))
    const logs: string[] = []
    const stale = startQueueWorker({ url, threads: 1, stallMs: 2_000, root: staleRoot, log: (l) => void logs.push(l) })
    const out = join(dir, "refused")
    let first
    try {
      first = await runSweep(small, { workers: 1, out, queue: url, pollMs: 20 })
    } finally {
      await stale.close()
    }
    expect(first.ran).toBe(0)
    expect(first.failed.map((f) => f.run)).toEqual([0, 1])
    const here = sha256(readFileSync(join(staleRoot, rel), "utf8")).slice(0, 12)
    for (const f of first.failed) {
      expect(f.reason).toContain(`scenario ${scenario} here`)
      expect(f.reason).toContain("another version")
      expect(f.reason).toContain(here)
    }
    expect(logs.some((l) => l.includes("another version"))).toBe(true)
    expect(existsSync(join(out, "results.jsonl")) ? readFileSync(join(out, "results.jsonl"), "utf8") : "").toBe("")

    let runsDone = 0
    const good = startQueueWorker({ url, threads: 1, stallMs: 2_000, onRun: () => void runsDone++ })
    try {
      const second = await runSweep(small, { workers: 1, out, queue: url, pollMs: 20 })
      expect(second.failed).toEqual([])
      expect(second.ran).toBe(2)
      // A swarm's shard on the queue: seeds 101, 103, 105, 107 of 100..107, each counted once, all passing.
      const seeds: number[] = []
      const swarm = await runSwarm({ seeds: 8, from: 100, size: "small", workers: 1, out: join(dir, "swarm"), queue: url, shard: { index: 1, count: 2 }, onResult: (r) => void seeds.push(r.seed) })
      expect(seeds.sort()).toEqual([101, 103, 105, 107])
      expect(swarm.outcomes.passed).toBe(4)
      expect(swarm.unrun).toEqual([])

      // A submitter stopped at its first result while the worker goes on: the resumed sweep collects
      // what finished meanwhile, records it once, and nothing runs twice.
      const four = loadSweep(`name: interrupted\nscenario: ${scenario}\nseeds: 2\ngrid: { slashing.doubleSignFraction: [0.1, 0.3] }\nmetrics: [attackerRoi]\n`, join(dir, "interrupted.yaml"))
      const base = runsDone
      let handle: PoolHandle | undefined
      const outI = join(dir, "interrupted")
      const cut = await runSweep(four, {
        workers: 1, out: outI, queue: url, pollMs: 20, onStart: (h) => void (handle = h),
        progress: () => ({ tick: () => void handle?.stop(), end: () => {} }),
      })
      expect(cut.ran).toBe(1)
      await until("the worker to finish the other runs", () => runsDone >= base + 4)
      const resumed = await runSweep(four, { workers: 1, out: outI, queue: url, pollMs: 20 })
      expect(resumed.resumed).toBe(1)
      expect(resumed.ran).toBe(3)
      expect(runsDone).toBe(base + 4)
      expect(lines(outI).map((l) => l.run).sort()).toEqual([0, 1, 2, 3])
    } finally {
      await good.close()
    }
    expect(lines(out).map((l) => l.run).sort()).toEqual([0, 1])
  })

  it("an unreachable Redis is one line and exit 2, before any run", async () => {
    const port = await freePort() // free: nothing listens there
    const err: string[] = []
    const out = join(dir, "unreachable")
    const code = await runCommand("dai sim", sweepCommand, [join(dir, "distributed.yaml"), "--queue", `redis://127.0.0.1:${port}`, "--out", out], { out: () => {}, err: (t) => void err.push(t) })
    expect(code).toBe(2)
    expect(err).toEqual([`dai sim sweep: cannot reach Redis at redis://127.0.0.1:${port}: ECONNREFUSED`])
    expect(existsSync(out)).toBe(false)
  })
})
