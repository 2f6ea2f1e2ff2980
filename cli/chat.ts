/**
 * `dai chat`: chat with the network's language model in the terminal (issue 14, item 4). Each line
 * read from stdin (typed at the `> ` prompt, or piped: `echo "hello" | dai chat --devnet`) is a prompt;
 * the answer streams token by token from a pipeline of stage servers, paid per token through the
 * market's escrow. Before the text it says which node serves each stage at what price per token;
 * after it, how many tokens, what each cost and what was paid; at the end, what the whole chat paid.
 *
 * Where the model runs:
 *   --devnet               a throwaway network in this process (runtime/node/lm-devnet.ts): a stage-server
 *                          node per stage and a client node on 127.0.0.1, one in-memory ledger
 *   --devnet-dir DIR       a running `dai devnet --lm --dir DIR`: its node0's API, found in DIR/api.json
 *                          (node0 pays; node1.. serve the stages)
 *   --api URL / --data-dir a running node's API: POST /generate, tokens from /ws?kinds=lm.generate (the
 *                          node's LM service pays from its account; stages served by nodes registered
 *                          with `dai provider start --lm-blocks`)
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { formatTokens, tokens as daiTokens } from "../runtime/core/units.ts"
import { API_FLAGS, apiFlagsHelp, apiTarget, ApiUnreachable, postApi } from "./api-client.ts"
import { defineCommand, InputError, intFlag, type Io, processIo, UsageError } from "./command.ts"
import { DEFAULT_DATA_DIR } from "./node.ts"

/** One `lm.generate.*` event of a generation. */
export interface ChatEvent {
  readonly kind: string
  readonly data: Readonly<Record<string, unknown>>
}

/** Where generations run: each yields its events, ending with lm.generate.done or lm.generate.failed. */
export interface ChatBackend {
  readonly describe: string
  generate(prompt: string): AsyncIterable<ChatEvent>
  close(): Promise<void>
}

export interface ChatOptions {
  readonly maxTokens: number
  readonly maxPricePerToken: bigint
  readonly stop: boolean
}

const dai = (v: unknown): string => `${formatTokens(BigInt(String(v ?? "0")), 6)} DAI`
const FINAL = new Set(["lm.generate.done", "lm.generate.failed"])

/** A queue of one generation's events, fed by a listener, read as an async iterable. */
const eventQueue = () => {
  const items: ChatEvent[] = []
  let wake: (() => void) | undefined
  return {
    push: (e: ChatEvent) => {
      items.push(e)
      wake?.()
    },
    async *read(): AsyncIterable<ChatEvent> {
      for (;;) {
        while (items.length > 0) {
          const e = items.shift()!
          yield e
          if (FINAL.has(e.kind)) return
        }
        await new Promise<void>((r) => (wake = r))
        wake = undefined
      }
    },
  }
}

/** The in-process network of `--devnet`. */
export const devnetBackend = async (o: ChatOptions & { readonly stages: number }): Promise<ChatBackend> => {
  const { startLmDevnet } = await import("../runtime/node/lm-devnet.ts")
  const queues = new Map<string, ReturnType<typeof eventQueue>>()
  const early = new Map<string, ChatEvent[]>()
  const net = await startLmDevnet({
    stages: o.stages,
    emit: (kind, data) => {
      if (!kind.startsWith("lm.generate.")) return
      const id = String(data["id"])
      const q = queues.get(id)
      if (q !== undefined) q.push({ kind, data })
      else early.set(id, [...(early.get(id) ?? []), { kind, data }])
    },
  })
  return {
    describe: `a devnet in this process: ${net.servers.map((s) => `blocks ${s.from}-${s.to} at ${s.account} (${dai(s.pricePerToken)}/token)`).join(", ")}; the client ${net.account} holds ${dai(net.balance())}`,
    generate: (prompt) => {
      const q = eventQueue()
      const { id } = net.client.generate({ prompt, maxTokens: o.maxTokens, maxPricePerToken: o.maxPricePerToken, stop: o.stop })
      queues.set(id, q)
      for (const e of early.get(id) ?? []) q.push(e)
      early.delete(id)
      return q.read()
    },
    close: () => net.close(),
  }
}

/** A running node's API: POST /generate, its events from the WebSocket. */
export const apiBackend = async (target: { readonly url: string; readonly token: string }, o: ChatOptions): Promise<ChatBackend> => {
  const { WebSocket } = await import("ws")
  const { GENERATE_STREAM } = await import("../runtime/api/generate.ts")
  const { WS_PROTOCOL, WS_TOKEN_PROTOCOL } = await import("../runtime/api/request-guard.ts")
  const ws = new WebSocket(`${target.url.replace(/^http/, "ws")}${GENERATE_STREAM}`, [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL}${target.token}`])
  const queues = new Map<string, ReturnType<typeof eventQueue>>()
  const early = new Map<string, ChatEvent[]>()
  ws.on("message", (m) => {
    const e = JSON.parse(String(m)) as ChatEvent
    const id = String(e.data["id"])
    const q = queues.get(id)
    if (q !== undefined) q.push(e)
    else early.set(id, [...(early.get(id) ?? []), e])
  })
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve())
    ws.once("unexpected-response", (_req, res) => reject(new InputError({ reason: `the node's WebSocket refused the connection (HTTP ${res.statusCode}): check --api and the token` })))
    ws.once("error", (e) => reject(new InputError({ reason: `cannot reach the node's WebSocket at ${target.url}: ${e.message}` })))
  })
  return {
    describe: `the node at ${target.url}`,
    generate: (prompt) => (async function*() {
      let answer
      try {
        answer = await postApi(target, "/generate", { prompt, maxTokens: o.maxTokens, maxPricePerToken: o.maxPricePerToken.toString(), stop: o.stop })
      } catch (e) {
        yield { kind: "lm.generate.failed", data: { reason: e instanceof ApiUnreachable ? e.message : String(e) } }
        return
      }
      if (answer.status !== 202) {
        yield { kind: "lm.generate.failed", data: { reason: `HTTP ${answer.status}: ${String(answer.body["error"] ?? "")}` } }
        return
      }
      const id = String(answer.body["id"])
      const q = eventQueue()
      queues.set(id, q)
      for (const e of early.get(id) ?? []) q.push(e)
      early.delete(id)
      yield* q.read()
    })(),
    close: async () => void ws.terminate(),
  }
}

/** runtime/node/devnet.ts's DEVNET_API_FILE (not imported from there: that module loads the node runtime). */
export const DEVNET_API_FILE = "api.json"

/** The API of node0 of the devnet running in `dir` (what `dai devnet` wrote in its api.json while it runs). */
export const devnetApiTarget = async (dir: string): Promise<{ readonly url: string; readonly token: string }> => {
  const path = join(dir, DEVNET_API_FILE)
  let file: { url?: unknown; tokenFile?: unknown }
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as typeof file
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new InputError({ reason: code === "ENOENT" ? `${path} does not exist: no devnet runs in ${dir} (start one with dai devnet --lm --dir ${dir})` : `cannot read ${path}: ${code ?? (e as Error).message}` })
  }
  if (typeof file.url !== "string" || typeof file.tokenFile !== "string") throw new InputError({ reason: `${path}: not a devnet's API file (url, tokenFile)` })
  return apiTarget({ api: file.url, "token-file": file.tokenFile }, dir)
}

/** The chat loop over `lines`: prints each answer as it streams (`write`), its route and cost (`io.err`); returns the exit code. */
export const runChat = async (backend: ChatBackend, lines: AsyncIterable<string>, io: Io, write: (text: string) => void, prompt?: () => void): Promise<number> => {
  let paid = 0n, tokens = 0, answers = 0, failed = 0
  prompt?.()
  for await (const raw of lines) {
    const line = raw.trim()
    if (line === "") {
      prompt?.()
      continue
    }
    let cost = ""
    for await (const e of backend.generate(line)) {
      const d = e.data
      switch (e.kind) {
        case "lm.generate.route":
          io.err(`route: ${(d["stages"] as Array<{ from: number; to: number; peer: string }>).map((s) => `blocks ${s.from}-${s.to} at ${s.peer}`).join(" → ")}`)
          break
        case "lm.generate.job":
          io.err(`stage blocks ${String(d["from"])}-${String(d["to"])}: ${String(d["peer"])}, job ${String(d["job"])} (${String(d["units"])} tokens in escrow), ${dai(d["price"])} per token`)
          break
        case "lm.generate.failover":
          io.err(`failover: blocks ${String(d["from"])}-${String(d["to"])} moved from ${String(d["failed"])} to ${String(d["replacement"])} (${String(d["reason"])}); replayed ${String(d["replayed"])} inputs`)
          break
        case "lm.generate.restart":
          // The text so far came through a stage a referee refuted: said, and written again from the start.
          io.err(`\nrestart: blocks ${String(d["from"])}-${String(d["to"])} at ${String(d["refuted"])} refuted; its ${String(d["discarded"])} tokens discarded, generating again without it`)
          cost = ""
          break
        case "lm.generate.token":
          if (cost === "") write(line)
          cost = String(d["cost"])
          write(String(d["text"]))
          break
        case "lm.generate.done": {
          const text = String(d["text"])
          write(`${String(d["rest"] ?? "")}${text.endsWith("\n") ? "" : "\n"}`)
          answers++
          tokens += Number(d["tokens"])
          paid += BigInt(String(d["paid"]))
          io.err(`${String(d["tokens"])} tokens at ${dai(cost === "" ? "0" : cost)} each: paid ${dai(d["paid"])} (escrowed ${dai(d["escrowed"])}, returned ${dai(d["returned"])}${BigInt(String(d["held"])) > 0n ? `, ${dai(d["held"])} refunded at the jobs' deadline` : ""})`)
          break
        }
        case "lm.generate.failed":
          if (cost !== "") write("\n")
          failed++
          if (d["paid"] !== undefined) paid += BigInt(String(d["paid"]))
          io.err(`dai chat: ${String(d["reason"])}`)
          break
      }
    }
    prompt?.()
  }
  io.err(`paid ${dai(paid)} in all for ${tokens} tokens in ${answers} answer${answers === 1 ? "" : "s"}${failed > 0 ? ` (${failed} failed)` : ""}`)
  return failed > 0 && answers === 0 ? 1 : 0
}

export const chatCommand = defineCommand({
  name: "chat",
  summary: "Chat with the network's language model: each line you type (or pipe in) is a prompt; the answer streams from a pipeline of stage servers, paid per token through the market's escrow, with the node and price of every stage and what was paid.",
  exits: "0 when the input ends (every answer streamed, or some); 1 when no answer could be generated or the node cannot be reached; 2 a bad command line",
  options: {
    ...API_FLAGS, devnet: { type: "boolean" }, "devnet-dir": { type: "string" }, stages: { type: "string" }, "max-tokens": { type: "string" }, "max-price": { type: "string" }, "no-stop": { type: "boolean" },
  },
  help: {
    "--devnet": "run a throwaway network in this process: a stage-server node per stage and a client node on 127.0.0.1, one in-memory ledger (nothing is kept)",
    "--devnet-dir DIR": "chat with the devnet running in DIR (`dai devnet --lm --dir DIR`): node0 generates and pays, node1.. serve the stages",
    "--stages N": "with --devnet: stages the model's blocks are cut into, one server node each (default 2)",
    "--max-tokens N": "most tokens (bytes) per answer, escrowed at every stage (default 200)",
    "--max-price DAI": "the most paid per token at one stage (default 0.01)",
    "--no-stop": "keep going past the end of the fortune (the corpus's % line)",
    ...apiFlagsHelp(DEFAULT_DATA_DIR),
  },
  examples: ['echo "hello" | dai chat --devnet', "dai chat --devnet --stages 3", "dai chat --devnet-dir .dai/devnet   # with dai devnet --lm --dir .dai/devnet running", "dai chat --api http://127.0.0.1:8645 --token-file ~/.dai/node/api-token"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}" (type the prompt, or pipe it in)` })
    const maxTokens = intFlag("max-tokens", values["max-tokens"], 200, 1, 2_000)
    const stages = intFlag("stages", values.stages, 2, 1, 64)
    const rawPrice = values["max-price"] ?? "0.01"
    if (!/^\d+(\.\d{1,18})?$/.test(rawPrice) || daiTokens(rawPrice) === 0n) throw new InputError({ reason: `--max-price must be DAI above 0 such as 0.01, got "${rawPrice}"` })
    const options: ChatOptions = { maxTokens, maxPricePerToken: daiTokens(rawPrice), stop: values["no-stop"] !== true }
    if (values.devnet === true && (values.api !== undefined || values["data-dir"] !== undefined || values["devnet-dir"] !== undefined)) throw new UsageError({ reason: "--devnet runs its own network: not with --api, --data-dir or --devnet-dir" })
    if (values["devnet-dir"] !== undefined && (values.api !== undefined || values["data-dir"] !== undefined)) throw new UsageError({ reason: "--devnet-dir finds node0's API itself: not with --api or --data-dir" })
    const interactive = io === processIo && process.stdin.isTTY === true
    if (values.devnet === true) io.err("starting a devnet for the language model in this process…")
    const target = values["devnet-dir"] !== undefined ? await devnetApiTarget(values["devnet-dir"]) : values.devnet === true ? undefined : await apiTarget(values, DEFAULT_DATA_DIR)
    const backend = target === undefined ? await devnetBackend({ ...options, stages }) : await apiBackend(target, options)
    io.err(`chatting with ${backend.describe}${interactive ? " (Ctrl-D ends)" : ""}`)
    const rl = createInterface({ input: process.stdin, terminal: false })
    const write = io === processIo ? (t: string) => void process.stdout.write(t) : (() => {
      let buffer = ""
      return (t: string) => {
        buffer += t
        const cut = buffer.lastIndexOf("\n")
        if (cut >= 0) {
          io.out(buffer.slice(0, cut))
          buffer = buffer.slice(cut + 1)
        }
      }
    })()
    try {
      return await runChat(backend, rl, io, write, interactive ? () => void process.stdout.write("> ") : undefined)
    } finally {
      rl.close()
      await backend.close()
    }
  },
})
