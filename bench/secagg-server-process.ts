/**
 * The secure-aggregation server alone in a process of its own, as a real aggregator runs: it holds
 * only the messages of one round (read from the file named on the command line, written by
 * bench/secagg.bench.ts) and the survivors' plain vectors for the baseline. It replays the round into
 * a fresh server and sums the plain vectors two ways (the simple loop and the chunked pass without
 * masks), alternating, 8 times each; the first 3 of each are the JIT's and the allocator's warm-up and
 * are left out. Prints `{ server, plain, chunked, correct }` (process CPU ms, medians of the last 5)
 * as JSON on stdout.
 */
import { readFileSync } from "node:fs"
import { deserialize } from "node:v8"
import type { SecAggConfig } from "../runtime/core/training/secagg/index.ts"
import { timeReplay, type ServerStep } from "./secagg-replay.ts"

const file = process.argv[2]
if (file === undefined) throw new Error("usage: node bench/secagg-server-process.ts <recorded round file>")
const { config, steps, survivors, expected } = deserialize(readFileSync(file)) as {
  config: SecAggConfig
  steps: ServerStep[]
  survivors: Uint32Array[]
  expected: Uint32Array
}
// 8 replays, the first 3 the JIT's and the allocator's warm-up.
process.stdout.write(JSON.stringify(timeReplay(config, steps, survivors, expected, 8, 3)))
