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
import { chunkedPlainSum, cpu, median, plainSum, replay, type ServerStep } from "./secagg-replay.ts"

const file = process.argv[2]
if (file === undefined) throw new Error("usage: node bench/secagg-server-process.ts <recorded round file>")
const { config, steps, survivors, expected } = deserialize(readFileSync(file)) as {
  config: SecAggConfig
  steps: ServerStep[]
  survivors: Uint32Array[]
  expected: Uint32Array
}
const server: number[] = []
const plain: number[] = []
const chunked: number[] = []
let correct = true
for (let r = 0; r < 8; r++) {
  let t0 = cpu()
  const out = replay(config, steps)
  const ts = cpu() - t0
  t0 = cpu()
  const sum = plainSum(survivors, config.length)
  const tp = cpu() - t0
  t0 = cpu()
  const fast = chunkedPlainSum(survivors, config.length)
  const tc = cpu() - t0
  if (r >= 3) {
    server.push(ts)
    plain.push(tp)
    chunked.push(tc)
  }
  correct &&= out.length === expected.length && [out, sum, fast].every((v) => v.every((x, i) => x === expected[i]))
}
process.stdout.write(JSON.stringify({ server: median(server), plain: median(plain), chunked: median(chunked), correct }))
