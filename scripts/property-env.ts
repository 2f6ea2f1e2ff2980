/**
 * How many runs a property or fuzz test makes, from which seed, and how long vitest lets it take:
 * read from the environment in this one place, so that `npm test` (the CI counts) and `npm run soak`
 * (scripts/soak.ts, the soak counts) run the very same tests and a larger count never meets a
 * hard-coded timeout. For a test named NAME:
 *
 *   DAI_<NAME>_RUNS  how many runs (else the test's CI default, which DAI_PROPERTY_RUNS scales as before)
 *   DAI_<NAME>_SEED  the fast-check seed (else DAI_PROPERTY_SEED, else the clock); printed as `SEED=…`
 *                    before the first run, so that even a run that hangs can be replayed
 *   DAI_<NAME>_PATH  the fast-check path a failure printed: with its seed, replays just that case
 *                    (in a file with several properties, pick the failing one with `vitest -t`)
 *
 * A failing property prints `{ seed: …, path: … }` (fast-check's own report) with the shrunk case.
 */

/** The run count, seed and replay path of one property test, and its timeout. */
export interface PropertyEnv {
  readonly name: string
  /** Runs asked for by DAI_<NAME>_RUNS, else the CI default given. */
  readonly runs: number
  readonly seed: number
  readonly path: string | undefined
  /** fast-check parameters: numRuns, seed and, when replaying, path. */
  readonly params: { readonly numRuns: number; readonly seed: number; readonly path?: string }
  /** For a file whose properties have different CI sizes: DAI_<NAME>_RUNS if set, else `ciRuns`. */
  readonly runsOr: (ciRuns: number) => number
  /** A vitest timeout for `runs` runs (default: this test's) of at most `msPerRun` each, plus `fixedMs`. */
  readonly timeout: (msPerRun: number, fixedMs?: number, runs?: number) => number
  /** Call once per run: every tenth of the runs (at most every 1,000) it prints how many ran and for how long, so a soak shows progress. */
  readonly tick: () => void
  /**
   * `params` for a property whose test has `timeoutMs`: fast-check stops `reportMs` before it (runs or
   * shrinking) and counts the stop as a failure. A test that would have timed out still fails, but a
   * counterexample found late is printed (seed, path, the case shrunk so far) instead of being lost
   * in vitest's timeout — a shrink through a chain takes minutes.
   */
  readonly within: (timeoutMs: number, reportMs?: number) => { readonly numRuns: number; readonly seed: number; readonly path?: string; readonly interruptAfterTimeLimit: number; readonly markInterruptAsFailure: true }
}

const positiveInt = (variable: string, raw: string | undefined): number | undefined => {
  if (raw === undefined || raw === "") return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${variable}=${raw}: expected a whole number ≥ 0`)
  return n
}

/** Read DAI_<name>_RUNS / _SEED / _PATH (see the file's doc), print the seed line, and return them. */
export const propertyEnv = (name: string, ciRuns: number, env: NodeJS.ProcessEnv = process.env): PropertyEnv => {
  const override = positiveInt(`DAI_${name}_RUNS`, env[`DAI_${name}_RUNS`])
  const runs = override ?? Math.max(1, Math.round(ciRuns))
  const seed = positiveInt(`DAI_${name}_SEED`, env[`DAI_${name}_SEED`]) ?? positiveInt("DAI_PROPERTY_SEED", env["DAI_PROPERTY_SEED"]) ?? Date.now() % 2 ** 31
  const rawPath = env[`DAI_${name}_PATH`] ?? env["DAI_PROPERTY_PATH"]
  const path = rawPath === undefined || rawPath === "" ? undefined : rawPath
  console.info(`${name}: SEED=${seed} runs=${runs} (replay: DAI_${name}_SEED=${seed} DAI_${name}_RUNS=${runs}${path === undefined ? " [DAI_" + name + "_PATH=<path of a failure>]" : ` DAI_${name}_PATH=${path}`})`)
  const every = Math.max(1, Math.min(1_000, Math.ceil(runs / 10)))
  const started = performance.now()
  let ran = 0
  return {
    name, runs, seed, path,
    tick: () => {
      if (++ran % every === 0) console.info(`${name}: ${ran} runs of ${runs} in ${Math.round((performance.now() - started) / 1000)} s`)
    },
    params: { numRuns: runs, seed, ...(path === undefined ? {} : { path }) },
    within: (timeoutMs, reportMs = 20_000) => ({
      numRuns: runs, seed, ...(path === undefined ? {} : { path }),
      interruptAfterTimeLimit: Math.max(1_000, timeoutMs - reportMs), markInterruptAsFailure: true,
    }),
    runsOr: (ci) => override ?? ci,
    timeout: (msPerRun, fixedMs = 60_000, n = runs) => Math.ceil(fixedMs + n * msPerRun),
  }
}
