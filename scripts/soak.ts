/**
 * `npm run soak`: the project's own property, fuzz and swarm checks at soak counts — far more runs
 * than `npm test` makes — one target after another. For each target it prints `SEED=…` before it
 * starts and a summary line (runs, failures, time) when it ends, keeps the target's whole output in
 * a log file, and exits 1 if any target failed. Not part of `npm test`.
 *
 *   npm run soak                                   every target at its soak count
 *   npm run soak -- --only diff,econ               some targets
 *   npm run soak -- --diff 20000 --seed 42         another count, a fixed seed (the same for every target)
 *   DAI_DIFF_RUNS=20000 DAI_DIFF_SEED=42 npm run soak -- --only diff    the same through the environment
 *   (the swarm: DAI_SWARM_SEEDS and DAI_SWARM_FROM; gossip's --gossip counts messages, DAI_GOSSIP_RUNS batches)
 *
 * The vitest targets read DAI_<NAME>_RUNS and DAI_<NAME>_SEED (scripts/property-env.ts), so a
 * failing target is replayed with the line it prints; the swarm runs `dai sim swarm` over seeds
 * SEED .. SEED + N − 1 on the local worker pool and writes each failing seed as a scenario file.
 */
import { spawn } from "node:child_process"
import { createWriteStream, mkdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"

const ROOT = join(import.meta.dirname, "..")
const VITEST = join(ROOT, "node_modules", "vitest", "vitest.mjs")
const DAI = join(ROOT, "bin", "dai.ts")

/** One soak target: what it runs, its soak count, and how a count becomes the test's environment. */
interface Target {
  readonly name: string
  /** What one counted unit is ("sequences", "seeds", …). */
  readonly unit: string
  readonly count: number
  readonly describe: string
  /** A vitest file run with DAI_<env>_RUNS / _SEED, or the swarm. */
  readonly kind: { readonly vitest: string; readonly env: string; readonly perRun?: number; readonly vars?: Readonly<Record<string, string>> } | { readonly swarm: true }
}

/** The soak counts (issue 16): each at least what the issue asks for. */
const TARGETS: readonly Target[] = [
  { name: "diff", unit: "sequences", count: 10_000, describe: "TypeScript economy ≡ Staking contract, random op sequences", kind: { vitest: "contracts/test/Staking.differential.test.ts", env: "DIFF" } },
  { name: "power", unit: "candidate lists", count: 20_000, describe: "VotingPower.sol ≡ power.ts votingPowers, random candidate lists and parameters", kind: { vitest: "contracts/test/VotingPower.differential.test.ts", env: "POWER" } },
  { name: "evidence", unit: "runs", count: 2_000, describe: "evidence reporters over random deliveries and chain outages: each equivocator slashed exactly once on the ledger", kind: { vitest: "runtime/actors/evidence/evidence-reporter.property.test.ts", env: "EVIDENCE_REPORTER" } },
  { name: "committee", unit: "sequences", count: 5_000, describe: "ledger committee: snapshots, fee deposits, epoch reports and conflicting reports over random op sequences (supply to the wei, every refusal changes nothing)", kind: { vitest: "runtime/core/econ/committee.properties.test.ts", env: "COMMITTEE" } },
  { name: "market", unit: "sequences", count: 5_000, describe: "compute market on the ledger over random op sequences (budgets whole to the wei, only delivered units paid once, only refuted providers slashed, refusals change nothing)", kind: { vitest: "runtime/core/econ/market.properties.test.ts", env: "MARKET" } },
  { name: "econ", unit: "sequences", count: 10_000, describe: "economy properties over random op sequences (two properties, each this many)", kind: { vitest: "runtime/core/econ/properties.test.ts", env: "ECON" } },
  { name: "consensus", unit: "fault schedules", count: 2_000, describe: "consensus machines under random fault schedules (safety, liveness, accountability)", kind: { vitest: "runtime/machines/consensus.property.test.ts", env: "CONSENSUS" } },
  { name: "aggregation", unit: "fault schedules", count: 1_000, describe: "consensus with aggregated votes under random fault schedules, silent, withholding and byzantine aggregators included (safety, liveness, accountability)", kind: { vitest: "runtime/machines/consensus.aggregation.test.ts", env: "AGGREGATION" } },
  { name: "schedules", unit: "fault schedules", count: 2_000, describe: "scenario runner under random fault schedules (byzantine, partition, crash-restart)", kind: { vitest: "sim/scenario/properties.test.ts", env: "SCHEDULE" } },
  { name: "kill", unit: "kill-point runs", count: 100_000, describe: "slashing protection with the store crashed at random operations: nothing conflicting is signed", kind: { vitest: "runtime/actors/protection/slashing-protection.test.ts", env: "KILL" } },
  { name: "swarm", unit: "seeds", count: 10_000, describe: "dai sim swarm: random networks, faults and byzantine behaviours within the fault model", kind: { swarm: true } },
  // A batch holds 1–12 messages (6.2 on average in a 308-batch run): the count is in messages, the test's in batches of 6, so at least the count is sent.
  { name: "gossip", unit: "messages", count: 100_000, describe: "fuzzed gossip against a running node over libp2p", kind: { vitest: "runtime/node/gossip-fuzz.test.ts", env: "GOSSIP", perRun: 6 } },
  { name: "api", unit: "requests", count: 100_000, describe: "fuzzed HTTP requests against a running validator's API", kind: { vitest: "runtime/api/fuzz.test.ts", env: "API" } },
  { name: "libp2p", unit: "runs per property", count: 1_000, describe: "hostile bytes, frames and gossip on a libp2p node (four properties)", kind: { vitest: "runtime/adapters/libp2p/fuzz.test.ts", env: "LIBP2P" } },
  // The scenario files marked slow (real TensorFlow.js training, the LM at scale): npm test skips them, and runs a fast file with each one's guarantee.
  { name: "scenarios", unit: "runs of every scenario", count: 1, describe: "every scenario file in scenarios/, those marked slow: true included (DAI_SLOW_SCENARIOS=1)", kind: { vitest: "scenarios/scenarios.test.ts", env: "SLOW_SCENARIOS", vars: { DAI_SLOW_SCENARIOS: "1" } } },
]

interface Outcome {
  readonly target: string
  readonly runs: number
  readonly unit: string
  readonly failures: number
  readonly seconds: number
  readonly seed: number
  readonly log: string
}

const usage = `usage: npm run soak -- [--only a,b] [--skip a,b] [--<target> N] [--seed S] [--workers N] [--out DIR] [--list]
targets: ${TARGETS.map((t) => t.name).join(", ")}`

/** Run a command with its output in `log`; resolves with the exit code, its stdout and all its output. */
const runLogged = (args: readonly string[], env: NodeJS.ProcessEnv, log: string): Promise<{ code: number; stdout: string; output: string }> =>
  new Promise((resolve) => {
    const file = createWriteStream(log)
    file.write(`$ ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join("")}node ${args.join(" ")}\n`)
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, FORCE_COLOR: "0", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })
    const out: Buffer[] = []
    const all: Buffer[] = []
    child.stdout.on("data", (b: Buffer) => (out.push(b), all.push(b), file.write(b)))
    child.stderr.on("data", (b: Buffer) => (all.push(b), file.write(b)))
    child.on("close", (code, signal) => file.end(() => resolve({ code: code ?? (signal === null ? 1 : 128), stdout: Buffer.concat(out).toString("utf8"), output: Buffer.concat(all).toString("utf8") })))
  })

/** Run one target; `count` is the --<target> flag if given (else DAI_<NAME>_RUNS, else the soak count). */
const runTarget = async (t: Target, flagCount: number | undefined, givenSeed: number, workers: number | undefined, dir: string): Promise<Outcome> => {
  const log = join(dir, `${t.name}.log`)
  let seed = givenSeed
  const started = performance.now()
  const seconds = () => Math.round((performance.now() - started) / 100) / 10
  if ("swarm" in t.kind) {
    const envSeeds = process.env["DAI_SWARM_SEEDS"]
    const count = flagCount ?? (envSeeds !== undefined && envSeeds !== "" ? Number(envSeeds) : t.count)
    const envFrom = process.env["DAI_SWARM_FROM"]
    if (envFrom !== undefined && envFrom !== "") seed = Number(envFrom)
    const out = join(dir, "swarm-failures")
    const args = [DAI, "sim", "swarm", "--seeds", String(count), "--from", String(seed), "--out", out, "--json", ...(workers === undefined ? [] : ["--workers", String(workers)])]
    console.log(`soak ${t.name}: SEED=${seed} (seeds ${seed}..${seed + count - 1}; replay one: dai sim run ${out}/<file> --seed <seed>; all: node bin/dai.ts sim swarm --seeds ${count} --from ${seed})`)
    const { code, stdout } = await runLogged(args, {}, log)
    let failures = count
    try {
      const summary = JSON.parse(stdout) as { failures: readonly { seed: number; outcome: string; problems: readonly string[]; path: string }[] }
      failures = summary.failures.length
      for (const f of summary.failures) console.log(`  FAIL seed ${f.seed} (${f.outcome}): ${f.problems[0] ?? ""}\n    replay: node bin/dai.ts sim run ${f.path} --seed ${f.seed}`)
    } catch {
      if (code !== 0) console.log(`  the swarm did not finish (exit ${code}); see ${log}`)
    }
    return { target: t.name, runs: count, unit: t.unit, failures: code === 0 ? 0 : Math.max(1, failures), seconds: seconds(), seed, log }
  }
  const { vitest, env, perRun = 1, vars: fixed = {} } = t.kind
  const fromEnv = process.env[`DAI_${env}_RUNS`]
  const runs = flagCount !== undefined ? Math.ceil(flagCount / perRun) : fromEnv !== undefined && fromEnv !== "" ? Number(fromEnv) : Math.ceil(t.count / perRun)
  const testSeed = process.env[`DAI_${env}_SEED`] !== undefined ? Number(process.env[`DAI_${env}_SEED`]) : seed
  const vars = { ...fixed, [`DAI_${env}_RUNS`]: String(runs), [`DAI_${env}_SEED`]: String(testSeed) }
  const fixedText = Object.entries(fixed).map(([k, v]) => `${k}=${v} `).join("")
  console.log(`soak ${t.name}: SEED=${testSeed} (replay: ${fixedText}DAI_${env}_SEED=${testSeed} DAI_${env}_RUNS=${runs} npx vitest run ${vitest})`)
  const { code, output } = await runLogged([VITEST, "run", vitest], vars, log)
  if (code !== 0) {
    // fast-check's report: the seed, the path and the shrunk counterexample.
    const report = output.split("\n").filter((l) => /Property failed|seed:|Counterexample|Error:|FAIL/.test(l)).slice(0, 12)
    for (const l of report) console.log(`  ${l.trim()}`)
    console.log(`  full output: ${log}`)
  }
  const messages = /GOSSIP: (\d+) fuzzed messages/.exec(output)
  // A failing property stops at its counterexample: count the runs it made, not the runs asked for.
  const failedAfter = /Property failed after (\d+) tests/.exec(output)
  const done = failedAfter !== null ? Math.round(Number(failedAfter[1]) * perRun) : messages !== null ? Number(messages[1]) : perRun === 1 ? runs : Math.round(runs * perRun)
  return { target: t.name, runs: done, unit: t.unit, failures: code === 0 ? 0 : 1, seconds: seconds(), seed: testSeed, log }
}

const main = async (): Promise<number> => {
  const countOptions = Object.fromEntries(TARGETS.map((t) => [t.name, { type: "string" as const }]))
  let values
  try {
    values = parseArgs({
      options: { ...countOptions, only: { type: "string" }, skip: { type: "string" }, seed: { type: "string" }, workers: { type: "string" }, out: { type: "string" }, list: { type: "boolean" }, help: { type: "boolean" } },
      allowPositionals: false,
    }).values
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`)
    return 2
  }
  if (values.help === true) {
    console.log(usage)
    return 0
  }
  if (values.list === true) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(10)} ${String(t.count).padStart(7)} ${t.unit.padEnd(18)} ${t.describe}`)
    return 0
  }
  const names = (s: unknown) => (typeof s === "string" ? s.split(",").map((x) => x.trim()).filter((x) => x !== "") : [])
  const unknown = [...names(values.only), ...names(values.skip)].filter((n) => !TARGETS.some((t) => t.name === n))
  if (unknown.length > 0) {
    console.error(`unknown target ${unknown.join(", ")}\n${usage}`)
    return 2
  }
  const only = names(values.only)
  const chosen = TARGETS.filter((t) => (only.length === 0 || only.includes(t.name)) && !names(values.skip).includes(t.name))
  const whole = (flag: string, raw: unknown): number | undefined => {
    if (typeof raw !== "string") return undefined
    const n = Number(raw)
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${flag} ${raw}: expected a whole number`)
    return n
  }
  const seed = whole("seed", values.seed) ?? whole("DAI_SOAK_SEED", process.env["DAI_SOAK_SEED"]) ?? Date.now() % 2 ** 31
  const workers = whole("workers", values.workers)
  const dir = typeof values.out === "string" ? values.out : join(tmpdir(), `dai-soak-${new Date().toISOString().replace(/[:.]/g, "-")}`)
  mkdirSync(dir, { recursive: true })
  const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version
  console.log(`soak: dai ${version}, node ${process.version}, SEED=${seed}, targets ${chosen.map((t) => t.name).join(", ")}; logs in ${dir}`)
  const outcomes: Outcome[] = []
  for (const t of chosen) {
    const o = await runTarget(t, whole(t.name, (values as Record<string, unknown>)[t.name]), seed, workers, dir)
    outcomes.push(o)
    console.log(`soak ${o.target}: ${o.runs} ${o.unit}, ${o.failures} failure${o.failures === 1 ? "" : "s"}, ${o.seconds} s (SEED=${o.seed})`)
  }
  console.log("\nsoak summary:")
  for (const o of outcomes) console.log(`  ${o.target.padEnd(10)} ${String(o.runs).padStart(7)} ${o.unit.padEnd(18)} ${String(o.failures).padStart(3)} failed  ${String(o.seconds).padStart(8)} s  SEED=${o.seed}`)
  const failed = outcomes.filter((o) => o.failures > 0)
  console.log(failed.length === 0 ? "soak: every target passed" : `soak: FAILED: ${failed.map((o) => o.target).join(", ")} (logs in ${dir})`)
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(`soak: ${(e as Error).message}`)
  return 2
})
