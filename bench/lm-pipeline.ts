/**
 * Pipeline inference against the whole model in one process (issue 14, item 8): time to first token
 * and tokens per second through 1, 2 and 3 stages on libp2p loopback, and failover recovery time, all
 * in one run, each pipeline figure divided by the whole model's measured just before it.
 *
 * - **whole model**: the committed checkpoint in this process (cpu backend), `generateTokens` greedy,
 *   N tokens per prompt. TTFT = call → first token (the prompt's prefill); tokens/s = (N − 1) / (first →
 *   last token).
 * - **pipelines**: stage servers are `dai lm serve` child processes (the real case: their own event loops,
 *   cpu backend) bootstrapped to a client libp2p node in this process, which runs the client of
 *   runtime/actors/lm/client.ts (`generateThroughPipeline`): 1 stage (0-3), 2 stages (0-1 | 2-3), 3 stages
 *   (0-0 | 1-2 | 3-3). Every configuration is a fresh network (a new client node, new server processes), so
 *   no stale DHT record of a stopped server is routed to. TTFT is counted from the call (DHT discovery of
 *   every range included) and from the route (open sessions + prefill through the stages). The tokens
 *   must equal the whole model's, or the bench fails.
 * - **failover**: 0-1 and two 2-3 servers; after K tokens the 2-3 server on the route is SIGKILLed (its
 *   exit awaited), then the next token is timed from the kill (detect the dead peer, find the other
 *   server in the DHT, open a session, replay every input the stage took, one request each, and the step
 *   itself). Text identical, or the bench fails.
 * - **wire codec**: encode + decode of one decode step's request and reply (64 floats), in process.
 *
 * Run: npx node bench/lm-pipeline.ts   (about 5 min on the shared machine; PROMPTS=5, N=40, KILL_AT=12, FAILOVERS=3)
 */
import { spawn, type ChildProcess } from "node:child_process"
import { loadavg } from "node:os"
import { Effect, Result } from "effect"
import { makeFiberRunner, wallClock, wallNow } from "../runtime/adapters/clock.ts"
import { startLibp2pNetworks } from "../runtime/adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../runtime/adapters/random.ts"
import { describeBackend, selectBackend } from "../runtime/adapters/tfjs/backend.ts"
import { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } from "../runtime/adapters/tfjs/lm/checkpoint.ts"
import { generateTokens, promptTokens } from "../runtime/adapters/tfjs/lm/generate.ts"
import { makeGpt } from "../runtime/adapters/tfjs/lm/gpt.ts"
import { generateThroughPipeline, type PipelineEvent } from "../runtime/actors/lm/client.ts"
import { lmContext } from "../runtime/actors/lm/context.ts"
import { decodeClientMessage, decodeServerMessage, encodeClientMessage, encodeServerMessage, LM_SERVER_TOPIC, lmBlocksKey } from "../runtime/core/lm/wire.ts"

const N = Number(process.env.N ?? 40)
const PROMPTS = ["The ", "Q: Why", "Murphy", "The meaning of life", "A man", "Love is", "%", "In the"].slice(0, Number(process.env.PROMPTS ?? 5))
const KILL_AT = Number(process.env.KILL_AT ?? 12)
const FAILOVERS = Number(process.env.FAILOVERS ?? 3)
const BIN = new URL("../bin/dai.ts", import.meta.url).pathname

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const med = (xs: readonly number[]) => quantile(xs, 0.5)
const spread = (xs: readonly number[], d = 1) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`
const f = (x: number, d = 1) => x.toFixed(d)
const now = () => performance.now()
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ")
const sameTokens = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((t, i) => t === b[i])

await selectBackend("cpu")
const { file, weights } = loadCheckpoint(DEFAULT_CHECKPOINT_DIR)
const config = file.model
const contexts = PROMPTS.map(promptTokens)
if (contexts.some((c) => c.length + N > config.contextLength)) throw new Error(`prompt + N must fit the ${config.contextLength}-token context (no window restart in this bench)`)
const whole = makeGpt(config, weights)

interface Timing { readonly ttft: number; readonly tps: number; readonly tokens: number[] }
/** One generation's timing from its token timestamps. */
const timing = (t0: number, stamps: readonly number[], tokens: number[]): Timing =>
  ({ ttft: stamps[0]! - t0, tps: (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000), tokens })

/** The whole model in this process, one generation per prompt. */
const wholeRun = (): Timing[] => contexts.map((context) => {
  const stamps: number[] = []
  const t0 = now()
  const tokens = generateTokens(whole, context, { maxTokens: N, temperature: 0, seed: 0 }, () => void stamps.push(now()))
  return timing(t0, stamps, tokens)
})
wholeRun() // warm the kernels up
const want = wholeRun().map((r) => r.tokens)

console.log(`# lm pipeline bench: backend ${describeBackend()}, ${PROMPTS.length} prompts × ${N} greedy tokens, load average ${load()} (1, 5, 15 min)`)

/** `dai lm serve --blocks B` in a child process, bootstrapped to `bootstrap`. */
const children = new Set<ChildProcess>()
process.on("exit", () => { for (const c of children) c.kill("SIGKILL") })
const serve = (blocks: string, bootstrap: string) => {
  const p = spawn(process.execPath, [BIN, "lm", "serve", "--blocks", blocks, "--bootstrap", bootstrap, "--listen", "/ip4/127.0.0.1/tcp/0"], { stdio: ["ignore", "pipe", "pipe"] })
  children.add(p)
  let text = ""
  p.stderr!.on("data", (c: Buffer) => void (text += c.toString()))
  const exit = new Promise<void>((resolve) => p.once("exit", () => { children.delete(p); resolve() }))
  const peer = new Promise<string>((resolve, reject) => {
    p.stdout!.on("data", (c: Buffer) => {
      text += c.toString()
      const m = /serving blocks \S+ of \d+ \(\S+\) as (\S+)/.exec(text)
      if (m !== null) resolve(m[1]!)
    })
    p.once("exit", (code) => reject(new Error(`dai lm serve --blocks ${blocks} exited with ${code} before serving:\n${text}`)))
  })
  return { blocks, process: p, peer, exit }
}
type Server = ReturnType<typeof serve>

/** A fresh network: a client node here and one `dai lm serve` process per range, every range found in its DHT. */
const network = async (ranges: readonly string[]) => {
  const h = await startLibp2pNetworks(1)
  const runner = makeFiberRunner()
  const ctx = lmContext({ name: "bench-client", clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network: h.networks[0]! })
  const bootstrap = (await Effect.runPromise(h.transports[0]!.multiaddrs))[0]!
  const t0 = now()
  const servers = ranges.map((b) => serve(b, bootstrap))
  const peers = await Promise.all(servers.map((s) => s.peer))
  const started = now() - t0
  for (const r of new Set(ranges)) {
    const [a, b] = r.split("-").map(Number) as [number, number]
    const expected = peers.filter((_, i) => ranges[i] === r).sort()
    for (const deadline = now() + 120_000; ;) {
      const found = await Effect.runPromise(Effect.orElseSucceed(h.networks[0]!.findProviders(lmBlocksKey(a, b)), () => []))
      if (expected.every((p) => found.some((x) => x.peer === p))) break
      if (now() > deadline) throw new Error(`blocks ${r}: not every server announced within 120 s`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  return {
    ctx, servers, peers, started,
    close: async () => {
      for (const s of servers) if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill("SIGTERM")
      await Promise.all(servers.map((s) => s.exit))
      await Effect.runPromise(runner.interruptAll)
      await h.close()
    },
  }
}

interface PipelineTiming extends Timing { readonly peers: readonly string[]; readonly routed: number; readonly recovery?: number; readonly toFailover?: number; readonly replayed?: number; readonly normalGap?: number }
/** One generation through the pipeline; `kill(route)` is called after KILL_AT tokens when given. */
const pipelineRun = async (ctx: ReturnType<typeof lmContext>, context: number[], kill?: (stages: ReadonlyArray<{ peer: string }>) => Promise<void>): Promise<PipelineTiming> => {
  const stamps: number[] = []
  const events: PipelineEvent[] = []
  let routedAt = 0
  let failoverAt = 0
  let killedAt: number | undefined
  const t0 = now()
  const got = await Effect.runPromise(generateThroughPipeline(ctx, {
    blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context, maxTokens: N, timeoutMs: 30_000,
    onEvent: (e) => {
      if (e.kind === "route") routedAt = now()
      if (e.kind === "failover") failoverAt = now()
      events.push(e)
    },
    onToken: async () => {
      stamps.push(now())
      const route = events.find((e) => e.kind === "route")
      if (kill === undefined || stamps.length !== KILL_AT || route?.kind !== "route") return
      killedAt = now()
      await kill(route.stages)
    },
  }))
  const t = timing(t0, stamps, [...got.tokens])
  const failover = events.find((e) => e.kind === "failover")
  const peers = got.route.map((s) => s.peer)
  if (kill === undefined) return { ...t, peers, routed: stamps[0]! - routedAt }
  if (killedAt === undefined || failover?.kind !== "failover" || got.failovers !== 1) throw new Error(`no failover happened (${got.failovers} failovers)`)
  // The gaps between tokens before the kill: what a step costs without a failure.
  const gaps = stamps.slice(1, KILL_AT).map((s, i) => s - stamps[i]!)
  return { ...t, peers, routed: stamps[0]! - routedAt, recovery: stamps[KILL_AT]! - killedAt, toFailover: failoverAt - killedAt, replayed: failover.replayed, normalGap: med(gaps) }
}

const rows: Array<{ name: string; whole: Timing[]; pipe: PipelineTiming[]; load: string; started: number }> = []
const check = (name: string, got: readonly Timing[]) => got.forEach((g, i) => {
  if (!sameTokens(g.tokens, want[i]!)) throw new Error(`${name}: prompt ${JSON.stringify(PROMPTS[i])} gave other tokens than the whole model`)
})

for (const [name, ranges] of [["1 stage (0-3)", ["0-3"]], ["2 stages (0-1 | 2-3)", ["0-1", "2-3"]], ["3 stages (0-0 | 1-2 | 3-3)", ["0-0", "1-2", "3-3"]]] as const) {
  const net = await network(ranges)
  try {
    await pipelineRun(net.ctx, contexts[0]!) // warm-up: the servers' kernels, the connections
    const w = wholeRun()
    const pipe: PipelineTiming[] = []
    for (const context of contexts) pipe.push(await pipelineRun(net.ctx, context))
    check(name, pipe)
    rows.push({ name, whole: w, pipe, load: load(), started: net.started })
    console.log(`${name}: done (servers up in ${f(net.started / 1000)} s, load ${load()})`)
  } finally {
    await net.close()
  }
}

// Failover: a fresh 0-1 | 2-3 network with a spare 2-3 per run.
const fo: PipelineTiming[] = []
// One DHT lookup of a range from the client (what a failover does before it can replay), per failover network.
const lookups: number[] = []
// A send to the killed server after the failover (how long the client takes to learn a peer is gone).
const deadSends: number[] = []
const foWhole: Timing[][] = []
for (let r = 0; r < FAILOVERS; r++) {
  const net = await network(["0-1", "2-3", "2-3"])
  try {
    // Warm-up until both 2-3 servers have served (the replacement is then as warm as the victim).
    const warmed = new Set<string>()
    for (let k = 0; k < 3 && !net.peers.every((p) => warmed.has(p)); k++) (await pipelineRun(net.ctx, contexts[k % contexts.length]!)).peers.forEach((p) => warmed.add(p))
    if (!net.peers.every((p) => warmed.has(p))) console.log("(the spare 2-3 server was not routed to in 3 warm-up runs (the planner picks the same one of equal servers): it replaces the victim cold)")
    foWhole.push(wholeRun())
    for (let k = 0; k < 3; k++) {
      const t1 = now()
      await Effect.runPromise(Effect.orElseSucceed(net.ctx.network.findProviders(lmBlocksKey(2, 3)), () => []))
      lookups.push(now() - t1)
    }
    const i = r % contexts.length
    let victimPeer = ""
    const got = await pipelineRun(net.ctx, contexts[i]!, async (stages) => {
      victimPeer = stages[1]!.peer
      const victim: Server = net.servers[net.peers.indexOf(victimPeer)]!
      victim.process.kill("SIGKILL")
      await victim.exit
    })
    if (!sameTokens(got.tokens, want[i]!)) throw new Error(`failover: prompt ${JSON.stringify(PROMPTS[i])} gave other tokens than the whole model`)
    fo.push(got)
    for (let k = 0; k < 2; k++) {
      const t1 = now()
      const sent = await Effect.runPromise(Effect.result(net.ctx.network.send(victimPeer, LM_SERVER_TOPIC, encodeServerMessage({ v: 1, t: "close", session: "00000000" }))))
      if (Result.isSuccess(sent)) throw new Error("a send to the killed server succeeded")
      deadSends.push(now() - t1)
    }
    console.log(`failover ${r + 1}: recovery ${f(got.recovery!)} ms, ${got.replayed} inputs replayed (load ${load()})`)
  } finally {
    await net.close()
  }
}

// The wire codec of one decode step (request of 64 activations, reply of 64 activations), in process.
const act = new Float32Array(config.dim).map((_, i) => i / 7)
const ITER = 20_000
let t = now()
for (let i = 0; i < ITER; i++) {
  const req = decodeServerMessage(encodeServerMessage({ v: 1, t: "forward", session: "0123abcd", seq: i, start: 10, length: 1, dim: config.dim, input: "activations", data: act }))
  const rep = decodeClientMessage(encodeClientMessage({ v: 1, t: "result", session: "0123abcd", seq: i, start: 10, length: 1, dim: config.dim, output: "activations", data: act }))
  if (Result.isFailure(req) || Result.isFailure(rep)) throw new Error("codec")
}
const codecUs = ((now() - t) / ITER) * 1000

console.log(`\nall pipeline texts identical to the whole model's (${PROMPTS.length} prompts × ${N} tokens, every configuration, every failover)`)
console.log(`load average at the end ${load()}`)
console.log("\nconfiguration | whole model TTFT ms p50 (min–max) | tok/s p50 (min–max) | pipeline TTFT from call ms p50 (min–max) | from route | tok/s p50 (min–max) | TTFT ÷ whole | tok/s ÷ whole | ms/token | ms/token − whole's | load after")
for (const r of rows) {
  const wt = r.whole.map((x) => x.ttft), ws = r.whole.map((x) => x.tps)
  const pt = r.pipe.map((x) => x.ttft), pr = r.pipe.map((x) => x.routed), ps = r.pipe.map((x) => x.tps)
  console.log(`${r.name} | ${f(med(wt))} (${spread(wt)}) | ${f(med(ws))} (${spread(ws)}) | ${f(med(pt))} (${spread(pt, 0)}) | ${f(med(pr))} (${spread(pr, 0)}) | ${f(med(ps))} (${spread(ps)}) | ${f(med(pt) / med(wt), 1)}× | ${f(med(ps) / med(ws), 3)}× | ${f(1000 / med(ps))} | ${f(1000 / med(ps) - 1000 / med(ws))} | ${r.load}`)
}
const wf = foWhole.flat().map((x) => 1000 / x.tps)
console.log("\nfailover run | recovery ms (kill → next token) | of which kill → replay done | a normal step ms (p50 of the steps before) | replayed inputs | recovery ÷ normal step | whole model ms/token (same net)")
fo.forEach((x, i) => console.log(`${i + 1} | ${f(x.recovery!)} | ${f(x.toFailover!)} | ${f(x.normalGap!)} | ${x.replayed} | ${f(x.recovery! / x.normalGap!)}× | ${f(med(foWhole[i]!.map((y) => 1000 / y.tps)))}`))
console.log(`median | ${f(med(fo.map((x) => x.recovery!)))} (${spread(fo.map((x) => x.recovery!), 0)}) | ${f(med(fo.map((x) => x.toFailover!)))} | ${f(med(fo.map((x) => x.normalGap!)))} | ${med(fo.map((x) => x.replayed!))} | ${f(med(fo.map((x) => x.recovery! / x.normalGap!)))}× | ${f(med(wf))}`)
console.log(`\nDHT lookup of one range (findProviders lm/blocks/2-3 from the client), ms: p50 ${f(med(lookups))} (${spread(lookups, 0)}), ${lookups.length} lookups`)
console.log(`a send to the killed server fails after, ms: p50 ${f(med(deadSends))} (${spread(deadSends, 0)}), ${deadSends.length} sends`)
console.log(`wire codec, one decode step (request + reply of ${config.dim} floats, encode + decode): ${f(codecUs, 2)} µs`)
console.log(`json ${JSON.stringify({ rows: rows.map((r) => ({ name: r.name, whole: r.whole.map(({ ttft, tps }) => ({ ttft, tps })), pipe: r.pipe.map(({ ttft, tps, routed }) => ({ ttft, tps, routed })), load: r.load })), lookups, deadSends, failover: fo.map(({ recovery, toFailover, replayed, normalGap, ttft, tps }) => ({ recovery, toFailover, replayed, normalGap, ttft, tps })), codecUs })}`)
whole.dispose()
process.exit(0)
