/**
 * What moving `dai` onto `effect/cli` and its API onto `effect/http-api` would cost or gain (issue 16;
 * the decision is in docs/decisions.md, the figures in bench/RESULTS.md). One run measures both stacks
 * side by side, interleaved, and prints ratios:
 *
 *  1. CLI cold start: wall time of a fresh `node` process for `--version` and for `params --json`
 *     (the same command, flags and output) through
 *       - today's `dai` (bin/dai.ts: the whole command tree is imported);
 *       - our framework alone (cli/command.ts + the params command, nothing else);
 *       - a minimal `effect/cli` program with the same command and flags, over the smallest
 *         Environment effect/cli asks for (no `@effect/platform-node` here: Path.layer, a no-op
 *         FileSystem, a Terminal and Stdio of our own);
 *     and `node -e 0` as the floor. It also prints what effect/cli gives for free (its --help, a
 *     usage error, `--completions bash`) so the decision can compare them.
 *  2. API: requests/s and p50/p99 latency of `GET /status` (the same fixed Status value) on our
 *     server (runtime/api/server.ts with every guard) and on an `effect/http-api` server (the
 *     Status schema as the endpoint's success, HttpRouter.toWebHandler bridged to node:http, since
 *     `@effect/platform-node` is not a dependency). Each server runs in its own child process; the
 *     load generator (keep-alive, fixed concurrency) runs here, against each in turn.
 *
 * Run: `node bench/cli-frameworks.ts` (env BENCH_STARTS=15, BENCH_API_SECONDS=4, BENCH_API_ROUNDS=3,
 * BENCH_CONCURRENCY=16). Timings move with the machine's load: compare ratios of one run.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { Agent, createServer, request, type IncomingHttpHeaders } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { performance } from "node:perf_hooks"

const SELF = fileURLToPath(import.meta.url)
const ROOT = join(SELF, "..", "..")
const NODE = process.execPath

// ---------------------------------------------------------------- children

/** `dai params` / `--version` over our command framework alone. */
const oursParams = async (argv: string[]): Promise<number> => {
  const { processIo, runCommand } = await import("../cli/command.ts")
  const { paramsCommand } = await import("../cli/params.ts")
  if (argv[0] === "--version") {
    processIo.out("dai 0.1.0")
    return 0
  }
  return runCommand("dai", paramsCommand, argv.slice(1), processIo)
}

/** The same `dai params [--json] [--prefix P]` and `--version` on effect/cli. */
const effectParams = async (argv: string[]): Promise<number> => {
  const { Effect, Exit, FileSystem, Layer, Option, Path, Stdio, Terminal, Sink, Stream } = await import("effect")
  const { Command, Flag } = await import("effect/cli")
  const { ChildProcessSpawner } = await import("effect/process")
  const { PARAM_NAMES, REGISTRY, describeBounds, formatParamValue } = await import("../runtime/core/params.ts")
  const { table } = await import("../cli/format.ts")
  const params = Command.make("params", {
    json: Flag.Boolean("json").pipe(Flag.withDescription("print a JSON array instead of a table")),
    prefix: Flag.String("prefix").pipe(Flag.withDescription("only parameters whose name starts with P (e.g. staking.)"), Flag.optional),
  }, ({ json, prefix }) => Effect.sync(() => {
    const names = PARAM_NAMES.filter((n) => Option.isNone(prefix) || n.startsWith(prefix.value))
    const rows = names.map((name) => {
      const def = REGISTRY[name]
      return { name, kind: def.kind, default: def.default, display: formatParamValue(def, def.default), unit: def.unit, bounds: describeBounds(def), description: def.description }
    })
    if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    else process.stdout.write(`${table(["name", "default", "unit", "bounds", "meaning"], rows.map((r) => [r.name, r.display, r.unit, r.bounds, r.description]))}\n`)
  })).pipe(Command.withDescription("List every parameter of the registry: name, default, unit and the constitution's bounds."))
  const dai = Command.make("dai").pipe(Command.withSubcommands([params]))
  const write = (stream: NodeJS.WriteStream) => Sink.forEach((chunk: string | Uint8Array) => Effect.sync(() => void stream.write(chunk)))
  const environment = Layer.mergeAll(
    FileSystem.layerNoop({}),
    Path.layer,
    Layer.succeed(Stdio.Stdio, Stdio.make({ args: Effect.succeed(argv), stdout: () => write(process.stdout), stderr: () => write(process.stderr), stdin: Stream.empty })),
    Layer.succeed(Terminal.Terminal, Terminal.make({
      columns: Effect.sync(() => process.stdout.columns ?? 80), rows: Effect.sync(() => process.stdout.rows ?? 24), size: Effect.die("unused"),
      readInput: Effect.die("unused"), readLine: Effect.die("unused"), display: (text) => Effect.sync(() => void process.stdout.write(text)),
    })),
    Layer.succeed(ChildProcessSpawner.ChildProcessSpawner, ChildProcessSpawner.make(() => Effect.die("unused"))),
  )
  const exit = await Effect.runPromiseExit(Command.runWith(dai, { version: "0.1.0" })(argv).pipe(Effect.provide(environment)))
  return Exit.isSuccess(exit) ? 0 : 2
}

/** A fixed NodeApi for our server: `status()` answers the recorded Status; nothing else is asked. */
const serveOurs = async (statusFile: string): Promise<void> => {
  const { startApiServer } = await import("../runtime/api/server.ts")
  const status = JSON.parse(readFileSync(statusFile, "utf8")) as unknown
  // It subscribes to telemetry (for its metrics) at start; nothing is ever published here.
  const api = new Proxy({}, { get: (_t, name) => (name === "status" ? () => status : name === "subscribe" ? () => () => {} : undefined) })
  const server = await startApiServer({ api: api as never, token: "bench-token-0123456789", onError: (e, where) => console.error(where, e) })
  process.stdout.write(`${server.url}\n`)
}

/** The same GET /status as an effect/http-api endpoint (success: our Status schema), served on node:http. */
const serveEffect = async (statusFile: string, kind: "http-api" | "router"): Promise<void> => {
  const { Effect, Layer, Schema } = await import("effect")
  const { HttpRouter, HttpServer, HttpServerResponse } = await import("effect/http")
  const { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } = await import("effect/http-api")
  const { Status } = await import("../runtime/api/schemas.ts")
  const encoded = JSON.parse(readFileSync(statusFile, "utf8")) as unknown
  let app: unknown
  if (kind === "http-api") {
    const status = Schema.decodeUnknownSync(Status)(encoded)
    const Api = HttpApi.make("dai").add(HttpApiGroup.make("node").add(HttpApiEndpoint.get("status", "/status", { success: Status })))
    const NodeGroup = HttpApiBuilder.group(Api, "node", (handlers) => handlers.handle("status", () => Effect.succeed(status)))
    app = HttpApiBuilder.layer(Api).pipe(Layer.provide(NodeGroup), Layer.provide(HttpServer.layerServices))
  } else {
    const body = JSON.stringify(encoded)
    app = HttpRouter.add("GET", "/status", Effect.succeed(HttpServerResponse.text(body, { contentType: "application/json; charset=utf-8" }))).pipe(Layer.provide(HttpServer.layerServices))
  }
  const { handler } = HttpRouter.toWebHandler(app as never, { disableLogger: true }) as unknown as { handler: (r: Request) => Promise<Response> }
  const server = createServer((req, res) => {
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v)
    handler(new Request(`http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`, { method: req.method ?? "GET", headers }))
      .then(async (response) => {
        const out: Record<string, string> = {}
        response.headers.forEach((v, k) => void (out[k] = v))
        const bytes = Buffer.from(await response.arrayBuffer())
        res.writeHead(response.status, { ...out, "content-length": String(bytes.length) })
        res.end(bytes)
      })
      .catch((e: unknown) => {
        res.writeHead(500)
        res.end(String(e))
      })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  process.stdout.write(`http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}\n`)
}

// ---------------------------------------------------------------- measuring

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const fmt = (n: number, digits = 1) => n.toFixed(digits)

/** Wall ms of `node args…` from spawn to exit, checking it exits 0 and prints what it should. */
const coldStart = (args: readonly string[], expect: RegExp): number => {
  const t0 = performance.now()
  const r = spawnSync(NODE, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 24 })
  const ms = performance.now() - t0
  if (r.status !== 0 || !expect.test(r.stdout)) throw new Error(`node ${args.join(" ")}: exit ${r.status}, ${r.stderr.slice(0, 500)}`)
  return ms
}

const cliBench = (starts: number) => {
  const daiBin = join(ROOT, "bin", "dai.ts")
  const cases: ReadonlyArray<readonly [string, readonly string[], RegExp]> = [
    ["node -e 0 (floor)", ["-e", "0"], /^$/],
    ["dai --version (today, whole tree)", [daiBin, "--version"], /^dai /],
    ["ours: --version (framework + params only)", [SELF, "--child", "ours-cli", "--version"], /^dai /],
    ["effect/cli: --version", [SELF, "--child", "effect-cli", "--version"], /0\.1\.0/],
    ["dai params --json (today, whole tree)", [daiBin, "params", "--json"], /"name"/],
    ["ours: params --json (framework + params only)", [SELF, "--child", "ours-cli", "params", "--json"], /"name"/],
    ["effect/cli: params --json", [SELF, "--child", "effect-cli", "params", "--json"], /"name"/],
  ]
  const times = cases.map(() => [] as number[])
  // One warm-up of each (the compile cache, the page cache), then interleaved rounds.
  for (const [, args, expect] of cases) coldStart(args, expect)
  for (let i = 0; i < starts; i++) cases.forEach(([, args, expect], c) => times[c]!.push(coldStart(args, expect)))
  return cases.map(([name], c) => ({ name, p50: quantile(times[c]!, 0.5), p90: quantile(times[c]!, 0.9) }))
}

/** What effect/cli prints for help, a usage error and completion (first lines), and its exit codes here. */
const effectCliOutputs = () => {
  const run = (...args: string[]) => spawnSync(NODE, [SELF, "--child", "effect-cli", ...args], { cwd: ROOT, encoding: "utf8" })
  const help = run("params", "--help")
  const bad = run("params", "--jsno")
  const completion = run("--completions", "bash")
  return { help, bad, completion }
}

interface LoadResult {
  readonly requests: number
  readonly seconds: number
  readonly latencies: number[]
}

/** Keep-alive GETs of `url` from `concurrency` loops for `seconds`. */
const load = async (url: string, seconds: number, concurrency: number): Promise<LoadResult> => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const { hostname, port } = new URL(url)
  const latencies: number[] = []
  const end = performance.now() + seconds * 1_000
  const once = () => new Promise<void>((resolve, reject) => {
    const t0 = performance.now()
    const req = request({ host: hostname, port, path: "/status", agent, headers: { host: `${hostname}:${port}` } }, (res) => {
      res.resume()
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`GET /status: ${res.statusCode}`))
        latencies.push(performance.now() - t0)
        resolve()
      })
    })
    req.on("error", reject)
    req.end()
  })
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) await once()
  }))
  const elapsed = (performance.now() - t0) / 1_000
  agent.destroy()
  return { requests: latencies.length, seconds: elapsed, latencies }
}

/** One GET of `url`/status: its headers and body, to check both servers answer alike. */
const getOnce = (url: string) => new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
  const { hostname, port } = new URL(url)
  request({ host: hostname, port, path: "/status" }, (res) => {
    let body = ""
    res.setEncoding("utf8")
    res.on("data", (c: string) => void (body += c))
    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
  }).on("error", reject).end()
})

const startServer = (mode: string, statusFile: string) => new Promise<{ url: string; stop: () => void }>((resolve, reject) => {
  const child = spawn(NODE, [SELF, "--child", mode, statusFile], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] })
  let out = ""
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (c: string) => {
    out += c
    const line = out.split("\n")[0]
    if (out.includes("\n") && line !== undefined) resolve({ url: line.trim(), stop: () => void child.kill() })
  })
  child.on("exit", (code) => reject(new Error(`${mode} exited ${code} before listening`)))
})

/** A real node's /status (the test node of runtime/api), recorded once so both servers answer the same. */
const recordStatus = async (file: string) => {
  const { startTestNode } = await import("../runtime/api/test-node.ts")
  const t = await startTestNode()
  try {
    const r = await getOnce(t.server.url)
    writeFileSync(file, r.body)
  } finally {
    await t.close()
  }
}

const apiBench = async (seconds: number, rounds: number, concurrency: number) => {
  const dir = mkdtempSync(join(tmpdir(), "dai-bench-api-"))
  const statusFile = join(dir, "status.json")
  try {
    await recordStatus(statusFile)
    const modes = [["ours (runtime/api/server.ts)", "serve-ours"], ["effect/http-api (Status schema)", "serve-effect-api"], ["effect/http router (no schema)", "serve-effect-router"]] as const
    const servers: Array<{ url: string; stop: () => void }> = []
    try {
      for (const [, mode] of modes) servers.push(await startServer(mode, statusFile))
      const answers = await Promise.all(servers.map((s) => getOnce(s.url)))
      const same = answers.map((a) => a.status === 200 && JSON.stringify(JSON.parse(a.body)) === JSON.stringify(JSON.parse(answers[0]!.body)))
      const all = modes.map(() => ({ requests: 0, seconds: 0, latencies: [] as number[] }))
      for (const s of servers) await load(s.url, 0.5, concurrency) // warm-up (JIT)
      for (let r = 0; r < rounds; r++) {
        for (const [i, s] of servers.entries()) {
          const res = await load(s.url, seconds, concurrency)
          all[i]!.requests += res.requests
          all[i]!.seconds += res.seconds
          all[i]!.latencies.push(...res.latencies)
        }
      }
      return modes.map(([name], i) => ({
        name, sameBody: same[i]!, bytes: answers[i]!.body.length, contentType: answers[i]!.headers["content-type"],
        rps: all[i]!.requests / all[i]!.seconds, p50: quantile(all[i]!.latencies, 0.5), p99: quantile(all[i]!.latencies, 0.99),
      }))
    } finally {
      for (const s of servers) s.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- main

const [flag, mode, ...rest] = process.argv.slice(2)
if (flag === "--child") {
  if (mode === "ours-cli") process.exitCode = await oursParams(rest)
  else if (mode === "effect-cli") process.exitCode = await effectParams(rest)
  else if (mode === "serve-ours") await serveOurs(rest[0]!)
  else if (mode === "serve-effect-api") await serveEffect(rest[0]!, "http-api")
  else if (mode === "serve-effect-router") await serveEffect(rest[0]!, "router")
  else throw new Error(`unknown child ${mode}`)
} else {
  const starts = Number(process.env.BENCH_STARTS ?? 15)
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 4)
  const rounds = Number(process.env.BENCH_API_ROUNDS ?? 3)
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16)
  console.log(`CLI cold start, ms (${starts} interleaved starts each, after one warm-up; Node ${process.version}):`)
  const cli = cliBench(starts)
  const floor = cli[0]!.p50
  for (const r of cli) console.log(`  ${r.name.padEnd(48)} p50 ${fmt(r.p50).padStart(7)}  p90 ${fmt(r.p90).padStart(7)}  above floor ${fmt(r.p50 - floor).padStart(7)}`)
  const byName = (prefix: string) => cli.find((r) => r.name.startsWith(prefix))!
  for (const what of ["--version", "params --json"]) {
    const ours = byName(`ours: ${what}`)
    const eff = byName(`effect/cli: ${what}`)
    console.log(`  ratio effect/cli ÷ ours, ${what}: p50 ${fmt(eff.p50 / ours.p50, 2)}×, above the floor ${fmt((eff.p50 - floor) / (ours.p50 - floor), 2)}×`)
  }
  const outputs = effectCliOutputs()
  console.log(`\neffect/cli params --help (exit ${outputs.help.status}):\n${outputs.help.stdout.trimEnd().split("\n").slice(0, 14).map((l) => `  | ${l}`).join("\n")}`)
  console.log(`effect/cli params --jsno (exit ${outputs.bad.status}): stderr:\n${outputs.bad.stderr.trimEnd().split("\n").slice(0, 6).map((l) => `  | ${l}`).join("\n")}`)
  console.log(`effect/cli --completions bash (exit ${outputs.completion.status}): ${outputs.completion.stdout.split("\n").length} lines, names --prefix: ${outputs.completion.stdout.includes("--prefix")}`)

  console.log(`\nAPI GET /status: ${rounds} rounds × ${seconds} s per server, ${concurrency} concurrent keep-alive clients in this process, each server in its own:`)
  const api = await apiBench(seconds, rounds, concurrency)
  for (const r of api) console.log(`  ${r.name.padEnd(34)} ${fmt(r.rps, 0).padStart(7)} req/s  p50 ${fmt(r.p50, 2).padStart(6)} ms  p99 ${fmt(r.p99, 2).padStart(6)} ms  body ${r.bytes} B  same body: ${r.sameBody}  ${r.contentType}`)
  for (const r of api.slice(1)) console.log(`  ratio ${r.name} ÷ ours: req/s ${fmt(r.rps / api[0]!.rps, 2)}×, p99 ${fmt(r.p99 / api[0]!.p99, 2)}×`)
}
