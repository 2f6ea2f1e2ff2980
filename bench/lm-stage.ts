/**
 * Per-stage time of the committed language-model checkpoint: the figures the simulator's statistical
 * inference backend uses (sim/world/lm-model.ts, `LM_STAGE_BENCH`).
 *
 * Part A, in process: for every block range a server may hold (all 10 ranges of the 4 blocks), what a
 * stage server computes per request (runtime/actors/lm/stage-server.ts `forward`): embed (first stage),
 * the session's blocks with their caches, the head's last row (last stage). One session = a prefill of
 * PROMPT positions in one request, then one request per generated token up to the 64-position context.
 * Medians over SESSIONS sessions: prefill ms, decode ms per token (p50, p90).
 *
 * Part B, on loopback: real stage servers (startStageServer over libp2p on 127.0.0.1, the wire format of
 * runtime/core/lm/wire.ts) for the 2-stage split 0-1 | 2-3; a hand client opens a session with each and
 * sends every decode step to each stage in turn, timing each request from send to reply. Round trip −
 * compute (part A, same run) is what the wire codec and the libp2p stack add per hop on loopback.
 *
 * Run: npx node bench/lm-stage.ts   (about a minute; BACKEND=cpu (default, what `dai lm serve` uses) or wasm, SESSIONS=5)
 */
import { Effect, Result } from "effect"
import { makeFiberRunner, wallClock, wallNow } from "../runtime/adapters/clock.ts"
import { startLibp2pNetworks } from "../runtime/adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../runtime/adapters/random.ts"
import { describeBackend, selectBackend } from "../runtime/adapters/tfjs/backend.ts"
import { DEFAULT_CHECKPOINT_DIR } from "../runtime/adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../runtime/adapters/tfjs/lm/generate.ts"
import { loadPipelineStage } from "../runtime/adapters/tfjs/lm/pipeline-stage.ts"
import { lmContext } from "../runtime/actors/lm/context.ts"
import { startStageServer } from "../runtime/actors/lm/stage-server.ts"
import { blockRanges, type Activations, type PipelineStage } from "../runtime/core/lm/pipeline.ts"
import { type ClientMessage, decodeClientMessage, encodeServerMessage, LM_CLIENT_TOPIC, LM_SERVER_TOPIC, MAX_LM_MESSAGE_BYTES } from "../runtime/core/lm/wire.ts"

const BACKEND = process.env.BACKEND ?? "cpu"
const SESSIONS = Number(process.env.SESSIONS ?? 5)
const PROMPT = 16

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const f2 = (x: number) => x.toFixed(2)

/** What the stage server does for one request: embed, blocks, head's last row. */
const serve = (stage: PipelineStage, session: ReturnType<PipelineStage["openSession"]>, input: number[] | Activations, start: number): Activations => {
  const x = Array.isArray(input) ? stage.embed(input, start) : input
  const y = session.forward(x)
  if (stage.heads) stage.head(y)
  return y
}

await selectBackend(BACKEND)
const prompt = promptTokens("The meaning of life is").slice(-PROMPT)
while (prompt.length < PROMPT) prompt.unshift(37)
const activationsOf = (dim: number, start: number, length: number): Activations => ({ start, length, dim, data: new Float32Array(length * dim).fill(0.01) })

console.log(`# lm stage bench: backend ${describeBackend()}, ${SESSIONS} sessions per range, prefill ${PROMPT} positions, then one request per token to position 63`)
console.log("range | prefill ms (16 pos) p50 | mean | decode ms/token p50 | p90 | mean")
const table: Record<string, { prefillMs: number; prefillMean: number; decodeMs: number; decodeP90: number; decodeMean: number }> = {}
for (const [from, to] of blockRanges(4)) {
  const stage = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
  const prefill: number[] = []
  const decode: number[] = []
  for (let s = 0; s < SESSIONS + 1; s++) {
    const session = stage.openSession()
    let t0 = process.hrtime.bigint()
    serve(stage, session, stage.embeds ? prompt : activationsOf(stage.dim, 0, PROMPT), 0)
    if (s > 0) prefill.push(ms(t0)) // the first session warms the kernels up
    for (let p = PROMPT; p < stage.contextLength; p++) {
      t0 = process.hrtime.bigint()
      serve(stage, session, stage.embeds ? [42] : activationsOf(stage.dim, p, 1), p)
      if (s > 0) decode.push(ms(t0))
    }
    session.close()
  }
  stage.dispose()
  table[`${from}-${to}`] = { prefillMs: quantile(prefill, 0.5), prefillMean: mean(prefill), decodeMs: quantile(decode, 0.5), decodeP90: quantile(decode, 0.9), decodeMean: mean(decode) }
  console.log(`${from}-${to} | ${f2(quantile(prefill, 0.5))} | ${f2(mean(prefill))} | ${f2(quantile(decode, 0.5))} | ${f2(quantile(decode, 0.9))} | ${f2(mean(decode))}`)
}
console.log(`json ${JSON.stringify(table)}`)

// Part B: the 2-stage split over real stage servers on loopback.
const h = await startLibp2pNetworks(3)
const runner = makeFiberRunner()
const ctxOf = (name: string, i: number) => lmContext({ name, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network: h.networks[i]! })
const split = [[0, 1], [2, 3]] as const
const stages = split.map(([a, b]) => loadPipelineStage(DEFAULT_CHECKPOINT_DIR, a, b))
const servers = stages.map((stage, i) => startStageServer(ctxOf(`s${i}`, i + 1), { stage }))
const client = h.networks[0]!
const waiting = new Map<string, (m: ClientMessage) => void>()
await Effect.runPromise(client.subscribe(LM_CLIENT_TOPIC, (env) => {
  const d = decodeClientMessage(env.data)
  if (Result.isSuccess(d)) waiting.get(`${env.from}/${d.success.session}`)?.(d.success)
}, { maxBytes: MAX_LM_MESSAGE_BYTES }))
await h.settle()
const ask = (peer: string, session: string, bytes: Uint8Array): Promise<ClientMessage> => new Promise((resolve, reject) => {
  waiting.set(`${peer}/${session}`, (m) => (m.t === "error" ? reject(new Error(m.message)) : resolve(m)))
  void Effect.runPromise(client.send(peer, LM_SERVER_TOPIC, bytes)).catch(reject)
})
const rtt: number[][] = split.map(() => [])
for (let s = 0; s < SESSIONS + 1; s++) {
  const ids = split.map((_, i) => `${(s * 16 + i).toString(16).padStart(8, "0")}`)
  for (const [i, [from, to]] of split.entries()) await ask(h.networks[i + 1]!.self, ids[i]!, encodeServerMessage({ v: 1, t: "open", session: ids[i]!, from, to }))
  let x: { start: number; length: number; dim: number; input: "tokens" | "activations"; data: Int32Array | Float32Array } = { start: 0, length: PROMPT, dim: 1, input: "tokens", data: Int32Array.from(prompt) }
  for (let p = PROMPT; p <= 63; p++) {
    for (const [i] of split.entries()) {
      const t0 = process.hrtime.bigint()
      const r = await ask(h.networks[i + 1]!.self, ids[i]!, encodeServerMessage({ v: 1, t: "forward", session: ids[i]!, seq: p, ...x }))
      if (s > 0 && p > PROMPT) rtt[i]!.push(ms(t0))
      if (r.t !== "result") throw new Error(`stage ${i} answered ${r.t}`)
      x = i === 0 ? { start: r.start, length: r.length, dim: r.dim, input: "activations", data: r.data } : x
    }
    x = { start: p, length: 1, dim: 1, input: "tokens", data: Int32Array.from([42]) }
  }
  for (const [i] of split.entries()) await Effect.runPromise(client.send(h.networks[i + 1]!.self, LM_SERVER_TOPIC, encodeServerMessage({ v: 1, t: "close", session: ids[i]! })))
}
console.log("loopback (libp2p 127.0.0.1, real stage servers), per decode request: stage | round trip p50 | p90 | mean | compute p50 (part A) | overhead p50")
for (const [i, [from, to]] of split.entries()) {
  const key = `${from}-${to}`
  console.log(`${key} | ${f2(quantile(rtt[i]!, 0.5))} | ${f2(quantile(rtt[i]!, 0.9))} | ${f2(mean(rtt[i]!))} | ${f2(table[key]!.decodeMs)} | ${f2(quantile(rtt[i]!, 0.5) - table[key]!.decodeMs)}`)
}
servers.forEach((s) => s.stop())
stages.forEach((s) => s.dispose())
await Effect.runPromise(runner.interruptAll)
await h.close()
process.exit(0)
