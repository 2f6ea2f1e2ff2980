/**
 * Secure aggregation cost: one round of the Bonawitz et al. protocol (runtime/core/training/secagg)
 * for 10, 50 and 100 clients with 200,000-parameter updates, without dropout and with ~10% of the
 * clients dropping after sharing their keys (their pairwise masks must then be rebuilt), against the
 * plain summation of the same quantized vectors in the same process.
 *
 * Client work (all clients together, and per client) and server work are timed separately: the
 * pairwise masks are O(n·d) per client, O(n²·d) in all, while the server's extra work is the self
 * masks (n PRG expansions), the dropped clients' pairwise masks and n Shamir reconstructions.
 * Threshold t = floor(n/2) + 1. Every figure is CPU time of this process (the machine is shared),
 * except the last two server columns: the same round replayed in a fresh process of its own
 * (bench/secagg-server-process.ts), which holds only the messages the server got, as a real
 * aggregator does, with two plain sums timed beside it there (OWN_PROCESS=0 leaves them out): the
 * simple loop used everywhere else in this bench, and the server's own chunked pass without masks,
 * about 3× faster — the ratio against it is the masking's whole cost.
 * Each round runs with the full graph (Bonawitz et al.) and with SecAgg+'s sparse graph (Bell et al.
 * 2020: k − 1 = O(log n) neighbours per client), so their client costs stand side by side.
 *
 * Run:  npx node bench/secagg.bench.ts            (about 2 min on 2 vCPU)
 *       SIZES=100 GRAPHS=full npx node bench/secagg.bench.ts
 */
import { spawnSync } from "node:child_process"
import { createCipheriv } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { serialize } from "node:v8"
import { chacha20 } from "@noble/ciphers/chacha.js"
import { accumulate, agree, expandMask, keyPairFromSeed, shamirCombine, shamirSplit } from "../runtime/core/training/secagg/primitives.ts"
import { neighbourhoods, quantize, SecAggClient, SecAggServer, seededRandomBytes, type SecAggConfig, type SecAggGraph } from "../runtime/core/training/secagg/index.ts"
import { chunkedPlainSum, cpu, median, plainSum as plainSumOf, timeReplay, type ReplayTimes, type ServerStep } from "./secagg-replay.ts"

const D = 200_000
const SIZES = (process.env.SIZES ?? "10,50,100").split(",").map(Number)
const GRAPHS = (process.env.GRAPHS ?? "full,sparse").split(",") as SecAggGraph[]
const CLIP = 0.05

/**
 * CPU ms of the main thread alone, without V8's background GC threads: finish() allocates a fresh
 * keystream Buffer per `cipher.update` (80 MB per 100 masks), and the collections that this external
 * memory starts run partly on those threads, which process CPU counts and this does not.
 */
const threadCpu = (): number => {
  const u = process.threadCpuUsage()
  return (u.user + u.system) / 1000
}

/** CPU milliseconds spent in f, added to `acc[key]`. */
const timed = <T>(acc: Record<string, number>, key: string, f: () => T): T => {
  const t0 = cpu()
  const r = f()
  acc[key] = (acc[key] ?? 0) + cpu() - t0
  return r
}

const makeInputs = (n: number): Map<string, Uint32Array> => {
  const rnd = seededRandomBytes(`bench-inputs-${n}`)
  const inputs = new Map<string, Uint32Array>()
  for (let k = 0; k < n; k++) {
    const raw = new Uint32Array(rnd(4 * D).buffer)
    const delta = Float32Array.from(raw, (x) => ((x / 2 ** 32) * 2 - 1) * CLIP * 1.2) // some values beyond the clip
    inputs.set(`c${String(k).padStart(3, "0")}`, quantize(delta, CLIP, n))
  }
  return inputs
}

const plainSum = (vectors: readonly Uint32Array[]): Uint32Array => plainSumOf(vectors, D)

/** Whether the protocol rows also time the server in a process of its own (OWN_PROCESS=0 skips it). */
const ownProcess = process.env.OWN_PROCESS !== "0"

/**
 * The server's recorded round replayed in a fresh Node process that holds nothing else
 * (bench/secagg-server-process.ts), with the plain sum timed beside it in that process.
 */
const serverInOwnProcess = (config: SecAggConfig, steps: readonly ServerStep[], survivors: readonly Uint32Array[], expected: Uint32Array): ReplayTimes => {
  const dir = mkdtempSync(join(tmpdir(), "dai-secagg-"))
  try {
    const file = join(dir, "round.v8")
    writeFileSync(file, serialize({ config, steps, survivors, expected }))
    const child = spawnSync(process.execPath, [new URL("./secagg-server-process.ts", import.meta.url).pathname, file], { encoding: "utf8", maxBuffer: 1 << 20 })
    if (child.status !== 0) throw new Error(`the server's own process failed (status ${child.status}): ${child.stderr}`)
    return JSON.parse(child.stdout) as ReplayTimes
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Row {
  n: number
  graph: SecAggGraph
  /** Neighbourhood size k (n under the full graph). */
  k: number
  dropped: number
  plain: number
  /** The plain sum on the main thread alone. */
  plainMain: number
  clients: number
  perClient: number
  server: number
  /** Of which finish(): rebuilding the secrets, removing the masks, summing. */
  finish: number
  /** finish() on the main thread alone. */
  finishMain: number
  /** The server's whole work replayed alone from its recorded messages (median of 5), and the plain sum beside it. */
  replayed: number
  replayPlain: number
  /** The same, in a process of its own (median of 5 after a warm-up) and the plain sum beside it there; undefined when not run. */
  own: number | undefined
  ownPlain: number | undefined
  /** The chunked plain sum (the server's pass without masks) in that process. */
  ownChunked: number | undefined
  correct: boolean
}

const round = (n: number, inputs: Map<string, Uint32Array>, dropFraction: number, graph: SecAggGraph): Row => {
  const config: SecAggConfig = { round: `bench-${n}-${dropFraction}`, threshold: Math.floor(n / 2) + 1, length: D, graph }
  const ids = [...inputs.keys()]
  const dropCount = Math.round(n * dropFraction)
  // Every tenth client drops after sharing its keys (before sending its masked input).
  const dropping = new Set(ids.filter((_, i) => i % Math.max(1, Math.floor(n / Math.max(1, dropCount))) === 0).slice(0, dropCount))
  const t: Record<string, number> = {}
  const server = new SecAggServer(config)
  const clients = ids.map((id) => new SecAggClient({ id, config, randomBytes: seededRandomBytes(`bench/${n}/${id}`) }))
  // Every call the server gets, in order (plain data), so that its work can be replayed alone afterwards.
  const steps: ServerStep[] = []
  const serve = <M extends ServerStep[0]>(method: M, arg?: unknown): ReturnType<SecAggServer[M]> => {
    steps.push([method, arg])
    return timed(t, "server", () => (server[method] as (a?: unknown) => ReturnType<SecAggServer[M]>).call(server, arg))
  }
  for (const c of clients) {
    const a = timed(t, "clients", () => c.advertise())
    serve("receiveAdvert", a)
  }
  const adverts = serve("closeAdvertise")
  for (const c of clients) {
    const m = timed(t, "clients", () => c.shareKeys(adverts))
    serve("receiveShares", m)
  }
  const routed = serve("closeShareKeys")
  const live = clients.filter((c) => !dropping.has(c.id))
  for (const c of live) {
    const m = timed(t, "clients", () => {
      c.receiveShares(routed.get(c.id)!)
      return c.maskedInput(inputs.get(c.id)!)
    })
    serve("receiveMaskedInput", m)
  }
  const request = serve("closeMaskedInput")
  for (const c of live) {
    const r = timed(t, "clients", () => c.unmaskResponse(request.survivors, request.dropped))
    serve("receiveUnmaskResponse", r)
  }
  const main0 = threadCpu()
  const sum = timed(t, "server", () => timed(t, "finish", () => server.finish()))
  t.finishMain = threadCpu() - main0
  const survivors = live.map((c) => inputs.get(c.id)!)
  // The plain baseline is short and noisy: take the median of 5 runs.
  let expected: Uint32Array = new Uint32Array(0)
  const plainRuns = Array.from({ length: 5 }, () => {
    const r: Record<string, number> = {}
    const main0 = threadCpu()
    expected = timed(r, "plain", () => plainSum(survivors))
    return [r.plain!, threadCpu() - main0] as const
  })
  t.plain = median(plainRuns.map((r) => r[0]))
  t.plainMain = median(plainRuns.map((r) => r[1]))
  // The server's work again, replayed from the messages it got into a fresh server and timed with
  // nothing of the clients' in between (a process that only aggregates, as a real aggregator is),
  // alternating with the plain sums: median of 5 each.
  const again = timeReplay(config, steps, survivors, expected, 5, 0)
  // And in a process of its own, as a real aggregator runs: only the messages it got and the survivors' vectors for the plain sum.
  const own = ownProcess ? serverInOwnProcess(config, steps, survivors, expected) : undefined
  const correct = sum.every((x, i) => x === expected[i]) && again.correct && (own === undefined || own.correct)
  return {
    n,
    graph,
    k: neighbourhoods(ids, config).size,
    dropped: dropping.size,
    plain: t.plain!,
    plainMain: t.plainMain!,
    clients: t.clients!,
    perClient: t.clients! / n,
    server: t.server!,
    finish: t.finish!,
    finishMain: t.finishMain!,
    replayed: again.server,
    replayPlain: again.plain,
    own: own?.server,
    ownPlain: own?.plain,
    ownChunked: own?.chunked,
    correct,
  }
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1))
const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}×`

const rows: Row[] = []
const rnd0 = seededRandomBytes("pass")
// finish()'s pass alone, first, in a process that has done little else: n inputs, each next to its
// self mask (what finish() hands `accumulate` without dropouts), against the plain sum of the same n
// vectors, median of 10 each, alternating. The protocol rows time finish() once, in a process that
// has just run n clients.
const passAlone: string[] = []
for (const n of SIZES) {
  const vectors = Array.from({ length: n }, (_, i) => new Uint32Array(rnd0(4 * D).buffer, 0, D).map((x) => x + i))
  const terms = vectors.flatMap((x) => [x, { seed: rnd0(32), sign: -1 as const }])
  const pass: number[] = []
  const plain: number[] = []
  const chunked: number[] = []
  // 16 alternating runs, the first 6 left out: the JIT and the allocator settle over the first few.
  for (let r = 0; r < 16; r++) {
    let t0 = cpu()
    accumulate(new Uint32Array(D), terms)
    if (r >= 6) pass.push(cpu() - t0)
    t0 = cpu()
    plainSum(vectors)
    if (r >= 6) plain.push(cpu() - t0)
    t0 = cpu()
    chunkedPlainSum(vectors, D)
    if (r >= 6) chunked.push(cpu() - t0)
  }
  const [p, q, c] = [median(pass), median(plain), median(chunked)]
  passAlone.push(`| finish()'s pass alone, run before the protocol: ${n} inputs + ${n} self masks (plain sum of the ${n}: ${q.toFixed(1)} ms as one loop per vector, i.e. ${(p / q).toFixed(2)}×; ${c.toFixed(1)} ms by the same pass without masks, i.e. ${(p / c).toFixed(2)}×) | ${p.toFixed(3)} |`)
}
console.error(`secure aggregation bench: d = ${D}, sizes ${SIZES.join(", ")}, graphs ${GRAPHS.join(", ")}`)
// An untimed round first, so that the JIT's warm-up is charged to no row.
round(4, makeInputs(4), 0.25, "full")
for (const n of SIZES) {
  const inputs = makeInputs(n)
  plainSum([...inputs.values()]) // warm-up of the plain loop
  for (const graph of GRAPHS) {
    for (const drop of [0, 0.1]) {
      const row = round(n, inputs, drop, graph)
      rows.push(row)
      console.error(`  n=${n} ${graph} (k=${row.k}) dropped=${row.dropped}: clients ${fmt(row.clients)} ms, server ${fmt(row.server)} ms (finish ${fmt(row.finish)}, main thread ${fmt(row.finishMain)}), plain ${fmt(row.plain)} ms (main thread ${fmt(row.plainMain)}); replayed alone ${fmt(row.replayed)} ms, plain beside it ${fmt(row.replayPlain)} ms${row.own === undefined ? "" : `; own process ${fmt(row.own)} ms, plain there ${fmt(row.ownPlain!)} ms (chunked ${fmt(row.ownChunked!)} ms)`}${row.correct ? "" : "  SUM MISMATCH"}`)
    }
  }
}

console.log(`\n### Secure aggregation (d = ${D.toLocaleString("en")}, t = ⌊n/2⌋ + 1, CPU ms)\n`)
console.log("| clients | graph (k) | dropped | plain sum | server | server / plain | of which finish() | finish() main thread ÷ plain main thread | server replayed alone ÷ plain beside it | server in its own process ÷ plain there | the same ÷ the chunked plain sum there | all clients | per client | (clients + server) / plain | sum exact |")
console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
for (const r of rows) {
  console.log(
    `| ${r.n} | ${r.graph} (${r.k}) | ${r.dropped} | ${fmt(r.plain)} | ${fmt(r.server)} | ${ratio(r.server, r.plain)} | ${fmt(r.finish)} | ${ratio(r.finishMain, r.plainMain)} | ${ratio(r.replayed, r.replayPlain)} (${fmt(r.replayed)} ÷ ${fmt(r.replayPlain)}) | ${r.own === undefined ? "—" : `${ratio(r.own, r.ownPlain!)} (${fmt(r.own)} ÷ ${fmt(r.ownPlain!)})`} | ${r.own === undefined ? "—" : `${ratio(r.own, r.ownChunked!)} (÷ ${fmt(r.ownChunked!)})`} | ${fmt(r.clients)} | ${fmt(r.perClient)} | ${ratio(r.clients + r.server, r.plain)} | ${r.correct ? "yes" : "NO"} |`,
  )
}
if (rows.some((r) => !r.correct)) process.exitCode = 1

/** Unit costs that explain the table: how long one of each operation takes here. */
const unit = (label: string, reps: number, f: () => void): string => {
  f()
  const t0 = cpu()
  for (let i = 0; i < reps; i++) f()
  return `| ${label} | ${((cpu() - t0) / reps).toFixed(3)} |`
}
const rnd = seededRandomBytes("units")
const a = keyPairFromSeed(rnd(32))
const b = keyPairFromSeed(rnd(32))
const v = new Uint32Array(D)
const w = new Uint32Array(rnd(4 * D).buffer)
console.log("\n| operation | CPU ms |\n|---|---:|")
console.log(unit(`add one ${D}-word vector mod 2^32`, 20, () => {
  for (let i = 0; i < D; i++) v[i] = (v[i]! + w[i]!) >>> 0
}))
console.log(unit(`PRG: expand one ${D}-word mask (AES-256-CTR, node:crypto; the one used)`, 20, () => void expandMask(rnd(32), D)))
const zeros = new Uint8Array(4 * D)
const stream = new Uint8Array(4 * D)
console.log(unit(`PRG alternative: ChaCha20, node:crypto (OpenSSL)`, 20, () => void createCipheriv("chacha20", rnd(32), new Uint8Array(16)).update(zeros)))
console.log(unit(`PRG alternative: ChaCha20, @noble/ciphers (JavaScript)`, 20, () => void chacha20(rnd(32), new Uint8Array(12), zeros, stream)))
for (const line of passAlone) console.log(line)
console.log(unit("X25519 agreement + HKDF", 200, () => void agree(a.privateKey, b.publicKey, "r", "p")))
for (const n of SIZES) {
  const t = Math.floor(n / 2) + 1
  const shares = shamirSplit(rnd(32), n, t, rnd)
  console.log(unit(`Shamir split of 32 bytes into ${n} shares, t = ${t}`, 5, () => void shamirSplit(rnd(32), n, t, rnd)))
  console.log(unit(`Shamir combine of ${t} shares`, 5, () => void shamirCombine(shares.slice(0, t))))
}
