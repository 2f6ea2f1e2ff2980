/**
 * The trace hash of every scenario in scenarios/ (those marked `slow: true` only with SLOW=1) and of
 * the consensus bench's scenario at 16 and 100 validators, traced and untraced: what a change that
 * must not alter behaviour is checked with (run it on the tree before and after, then diff).
 *
 * Run:  npx node scripts/trace-hashes.ts [ROOT]        (ROOT: another checkout to load the code from;
 *                                                       default this one; about 1 min)
 *       ONLY_FILES=honest-4.yaml,downtime.yaml …      (some scenarios only)   BENCH=0 (no bench scenarios)
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { benchScenarioYaml } from "../bench/scenario.ts"

const root = resolve(process.argv[2] ?? join(import.meta.dirname, ".."))
const { parseScenario } = await import(join(root, "sim/scenario/load.ts"))
const { runScenario } = await import(join(root, "sim/scenario/run.ts"))
const { prepareTraining } = await import(join(root, "sim/scenario/training-setup.ts"))
const dir = join(root, "scenarios")
const only = process.env.ONLY_FILES?.split(",")
for (const f of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
  if (only && !only.includes(f)) continue
  const s = parseScenario(readFileSync(join(dir, f), "utf8"), `scenarios/${f}`)
  if (s.slow && process.env.SLOW !== "1") {
    console.log(`${f} skipped (slow: SLOW=1 runs it)`)
    continue
  }
  const training = await prepareTraining(s, s.seed)
  const r = runScenario(s, training === undefined ? {} : { training })
  console.log(`${f} ${r.outcome} ${r.traceHash}`)
}
if (process.env.BENCH !== "0") {
  for (const [n, h, traced] of [[16, 20, true], [16, 20, false], [100, 8, true], [100, 8, false]] as const) {
    const yaml = benchScenarioYaml(n, h)
    const r = runScenario(parseScenario(yaml, `bench-${n}.yaml`), { seed: 1, traceDeliveries: traced })
    console.log(`bench-${n}-${h}-${traced ? "traced" : "untraced"} ${r.outcome} ${r.traceHash}`)
  }
}
