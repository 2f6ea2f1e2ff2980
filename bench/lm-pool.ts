/**
 * The language model's fine-tuning off the event loop (bench/RESULTS.md, "Language model: fine-tuning in
 * the worker pool"): one trainer's local update of a round — the frozen prefix over its round's windows,
 * then SGD of the last block and the head — on the calling thread (lm/finetune.ts) against in a worker of
 * the pool (runtime/adapters/tfjs/pool.ts `lmTrainer`), on the committed checkpoint and a devnet's shard of
 * held-out fortunes (4 validators). Per cell: CPU ms of the thread that trains (process.threadCpuUsage, so
 * the machine's other load does not count) and wall ms, median over ROUNDS rounds after one warm-up; every
 * update's bytes are checked equal between the two paths. Last, two shards' updates at once in two workers.
 *
 * Then (REPLAY=1) FedAvg of 4 trainers in one process, without the network, for REPLAY_ROUNDS rounds at
 * each of PER windows per trainer and round: the validation loss after each round on the devnet's
 * evaluation set (its first 100 windows), as a devnet would commit it with every update in.
 *
 * Run: npx node bench/lm-pool.ts     env: ROUNDS=5  PER=64  REPLAY=1  REPLAY_ROUNDS=6  (DAI_TF_BACKEND picks the backend)
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import { loadFortunes } from "../runtime/adapters/data/fortunes.ts"
import { makeTrainerPool, selectBackend, type TfBackend } from "../runtime/adapters/tfjs/index.ts"
import { LM_WINDOWS_PER_ROUND, prepareLmFinetune } from "../runtime/adapters/tfjs/lm/finetune.ts"
import type { LocalUpdate } from "../runtime/services/trainer.ts"

const ROUNDS = Number(process.env["ROUNDS"] ?? 5)
const PERS = (process.env["PER"] ?? String(LM_WINDOWS_PER_ROUND)).split(",").map(Number)
const CLIENTS = 4
const spec = (round: number) => ({ round, localEpochs: 1, batchSize: 16, learningRate: 0.1 })
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const hash = (a: Float32Array) => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex")

const backend = (await selectBackend(undefined)) as TfBackend
const f = prepareLmFinetune({ validation: loadFortunes().validation, clients: CLIENTS, evalWindows: 100 })
const pool = makeTrainerPool({ backend, threads: 2 })
const w = f.base.initialTail
console.log(`backend ${backend}; ${CLIENTS} shards of ${f.shards.map((s) => s.count).join(", ")} windows; batch 16; median of ${ROUNDS} rounds after a warm-up`)
console.log("| windows per round | where | CPU ms per update | wall ms per update |")
console.log("|---:|---|---:|---:|")
for (const perRound of PERS) {
  const o = (i: number) => ({ seed: `bench/${i}`, perRound })
  const inThread = f.trainer(0, { ...o(0), backend })
  const pooled = [0, 1].map((i) => pool.lmTrainer({ ...o(i), base: f.base, data: f.shards[i]!, test: f.evaluation }))
  const own: number[] = [], ownWall: number[] = [], worker: number[] = [], workerWall: number[] = [], both: number[] = [], bothWall: number[] = []
  const inThreadUpdates: LocalUpdate[] = []
  for (let r = 0; r <= ROUNDS; r++) {
    const c0 = process.threadCpuUsage()
    const t0 = performance.now()
    const a = Effect.runSync(inThread.train(w, spec(r)))
    const c = process.threadCpuUsage(c0)
    if (r > 0) own.push((c.user + c.system) / 1000), ownWall.push(performance.now() - t0)
    inThreadUpdates.push(a)
  }
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = performance.now()
    const b = await Effect.runPromise(pooled[0]!.trainTimed(w, spec(r)))
    if (hash(b.delta) !== hash(inThreadUpdates[r]!.delta) || b.loss !== inThreadUpdates[r]!.loss) throw new Error(`round ${r}: the worker's update differs from the in-thread one`)
    if (r > 0) worker.push(b.cpuMicros / 1000), workerWall.push(performance.now() - t0)
  }
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = performance.now()
    const us = await Promise.all(pooled.map((t) => Effect.runPromise(t.trainTimed(w, spec(r)))))
    if (r > 0) both.push(...us.map((u) => u.cpuMicros / 1000)), bothWall.push(performance.now() - t0)
  }
  console.log(`| ${perRound} | in-thread | ${median(own).toFixed(0)} | ${median(ownWall).toFixed(0)} |`)
  console.log(`| ${perRound} | 1 worker (same bytes) | ${median(worker).toFixed(0)} | ${median(workerWall).toFixed(0)} |`)
  console.log(`| ${perRound} | 2 workers at once, per update of either (wall: both) | ${median(both).toFixed(0)} | ${median(bothWall).toFixed(0)} |`)
}
await pool.close()

if (process.env["REPLAY"] === "1") {
  const rounds = Number(process.env["REPLAY_ROUNDS"] ?? 6)
  for (const perRound of PERS) {
    const trainers = Array.from({ length: CLIENTS }, (_, i) => f.trainer(i, { seed: `replay/${i}`, perRound, backend }))
    let g = f.base.initialTail.slice()
    const losses = [f.evaluate(g).loss]
    for (let r = 1; r <= rounds; r++) {
      const us = trainers.map((t) => Effect.runSync(t.train(g, spec(r))))
      const n = us.reduce((a, u) => a + u.samples, 0)
      g = g.map((v, k) => v + us.reduce((a, u) => a + u.delta[k]! * u.samples, 0) / n)
      losses.push(f.evaluate(g).loss)
    }
    console.log(`FedAvg of ${CLIENTS}, ${perRound} windows per trainer and round: ${losses.map((l) => l.toFixed(4)).join(" → ")}`)
  }
}
