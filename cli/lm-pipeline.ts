/**
 * `dai lm serve` and `dai lm pipeline`: pipeline inference across nodes (issue 14, items 2-3).
 * `serve` starts a libp2p node that holds blocks FROM..TO of the checkpoint, announces them in the
 * DHT (`lm/blocks/FROM-TO`) and serves sessions until SIGINT/SIGTERM. `pipeline` starts a client node,
 * finds servers for every block, routes over them by measured latency and load, and streams greedy
 * tokens, failing over to another server of a range when a stage dies.
 *
 * (`dai provider start --lm-blocks` would run the same server inside a full node through its API;
 * these commands run it on a bare libp2p node, with no chain.)
 */
import { defineCommand, InputError, intFlag, type Io, processIo, UsageError } from "./command.ts"

const LOOPBACK = "/ip4/127.0.0.1/tcp/0"
const list = (v: readonly string[] | undefined): string[] => (v ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "")

/** A libp2p node in its own scope, a runner for the actors, and their LmContext. */
const startNode = async (name: string, listen: readonly string[], bootstrap: readonly string[]) => {
  const { Effect, Exit, Scope } = await import("effect")
  const { makeLibp2pNetwork } = await import("../runtime/adapters/libp2p/network.ts")
  const { makeFiberRunner, wallClock, wallNow } = await import("../runtime/adapters/clock.ts")
  const { cryptoRandom } = await import("../runtime/adapters/random.ts")
  const { lmContext } = await import("../runtime/actors/lm/context.ts")
  const scope = Effect.runSync(Scope.make())
  const r = await Effect.runPromise(Effect.result(Scope.provide(scope)(makeLibp2pNetwork({ listen, bootstrap }))))
  if (r._tag === "Failure") {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw new InputError({ reason: r.failure.reason })
  }
  const transport = r.success
  const runner = makeFiberRunner()
  const ctx = lmContext({ name, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network: transport.network })
  return {
    transport,
    ctx,
    stop: async () => {
      await Effect.runPromise(runner.interruptAll)
      await Effect.runPromise(Scope.close(scope, Exit.void))
    },
  }
}

const backendOf = async (name: string | undefined) => {
  const { selectBackend } = await import("../runtime/adapters/tfjs/backend.ts")
  try {
    await selectBackend(name ?? "cpu")
  } catch (e) {
    throw new InputError({ reason: (e as { reason?: string }).reason ?? String(e) })
  }
}

const configOf = async (dir: string | undefined) => {
  const { DEFAULT_CHECKPOINT_DIR, readCheckpointConfig } = await import("../runtime/adapters/tfjs/lm/checkpoint.ts")
  const checkpoint = dir ?? DEFAULT_CHECKPOINT_DIR
  try {
    return { checkpoint, config: readCheckpointConfig(checkpoint).model }
  } catch (e) {
    throw new InputError({ reason: e instanceof Error ? e.message : String(e) })
  }
}

const serveCommand = defineCommand({
  name: "serve",
  summary: "Serve a range of the language model's blocks to pipeline clients, announced in the DHT (until Ctrl-C).",
  options: {
    blocks: { type: "string" },
    checkpoint: { type: "string" },
    listen: { type: "string", multiple: true },
    bootstrap: { type: "string", multiple: true },
    "max-sessions": { type: "string" },
    "idle-seconds": { type: "string" },
    backend: { type: "string" },
  },
  help: {
    "--blocks FROM-TO": "the blocks to hold, e.g. 0-1 (required); the first stage also holds the embedding, the last the head",
    "--checkpoint DIR": "checkpoint directory (default: the committed one)",
    "--listen ADDR": `multiaddr to listen on, repeatable (default ${LOOPBACK})`,
    "--bootstrap ADDR": "multiaddr (with /p2p/<id>) of a node of the network, repeatable or comma-separated",
    "--max-sessions N": "most sessions open at once, the announced capacity (default 16)",
    "--idle-seconds N": "close a session after this long without a message (default 60)",
    "--backend NAME": "TensorFlow.js backend (default cpu)",
  },
  examples: ["dai lm serve --blocks 0-1 --listen /ip4/0.0.0.0/tcp/4101", "dai lm serve --blocks 2-3 --bootstrap /ip4/10.0.0.5/tcp/4101/p2p/12D3KooW..."],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    if (values.blocks === undefined) throw new UsageError({ reason: "--blocks FROM-TO is required" })
    const maxSessions = intFlag("max-sessions", values["max-sessions"], 16, 1, 10_000)
    const idleSeconds = intFlag("idle-seconds", values["idle-seconds"], 60, 1, 86_400)
    const { checkpoint, config } = await configOf(values.checkpoint)
    const { parseBlockRange } = await import("../runtime/core/lm/pipeline.ts")
    const range = parseBlockRange(values.blocks, config.blocks)
    if (typeof range === "string") throw new InputError({ reason: `--blocks: ${range}` })
    await backendOf(values.backend)
    const { loadPipelineStage } = await import("../runtime/adapters/tfjs/lm/pipeline-stage.ts")
    const { startStageServer } = await import("../runtime/actors/lm/stage-server.ts")
    const stage = loadPipelineStage(checkpoint, range.from, range.to)
    const listen = list(values.listen)
    const node = await startNode(`lm-${range.from}-${range.to}`, listen.length > 0 ? listen : [LOOPBACK], list(values.bootstrap))
    const { Effect } = await import("effect")
    const server = startStageServer(node.ctx, { stage, maxSessions, idleMs: idleSeconds * 1000 })
    const addrs = await Effect.runPromise(node.transport.multiaddrs)
    io.out(`serving blocks ${range.from}-${range.to} of ${config.blocks} (${server.key}) as ${node.transport.network.self}`)
    for (const a of addrs) io.out(`listening on ${a}`)
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"))
      process.once("SIGTERM", () => resolve("SIGTERM"))
    })
    server.stop()
    await node.stop()
    stage.dispose()
    io.out(`stopped on ${signal} after ${server.served} forward passes`)
    return 0
  },
})

const pipelineCommand = defineCommand({
  name: "pipeline",
  summary: "Generate text through a pipeline of `dai lm serve` nodes found in the DHT (greedy), failing over when a stage dies.",
  options: {
    bootstrap: { type: "string", multiple: true },
    prompt: { type: "string" },
    checkpoint: { type: "string" },
    "max-tokens": { type: "string" },
    "timeout-seconds": { type: "string" },
    listen: { type: "string", multiple: true },
    "no-stop": { type: "boolean" },
  },
  help: {
    "--bootstrap ADDR": "multiaddr (with /p2p/<id>) of a node of the network, repeatable or comma-separated (required)",
    "--prompt TEXT": "the text to continue (default: empty, a new fortune)",
    "--checkpoint DIR": "the model's config.json is read from here, for its shape (default: the committed one; no weights are loaded)",
    "--max-tokens N": "most tokens (bytes) to generate (default 200)",
    "--timeout-seconds N": "fail over from a stage that has not answered in this long (default 10)",
    "--listen ADDR": `multiaddr of this client's node (default ${LOOPBACK})`,
    "--no-stop": "keep going past the end of the fortune (the corpus's `%` line)",
  },
  examples: ['dai lm pipeline --bootstrap /ip4/127.0.0.1/tcp/4101/p2p/12D3KooW... --prompt "The meaning of life"'],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}" (the prompt goes in --prompt)` })
    const bootstrap = list(values.bootstrap)
    if (bootstrap.length === 0) throw new UsageError({ reason: "--bootstrap ADDR is required (the address a `dai lm serve` printed)" })
    const maxTokens = intFlag("max-tokens", values["max-tokens"], 200, 0, 1_000_000)
    const timeoutSeconds = intFlag("timeout-seconds", values["timeout-seconds"], 10, 1, 3_600)
    const { config } = await configOf(values.checkpoint)
    const { Effect } = await import("effect")
    const { generateThroughPipeline } = await import("../runtime/actors/lm/client.ts")
    const { ENTRY_END } = await import("../runtime/core/lm/corpus.ts")
    const { encode, streamDecoder } = await import("../runtime/core/lm/tokenizer.ts")
    const prompt = values.prompt ?? ""
    // As `dai lm generate` (promptTokens): the entry separator first, so the model starts a fresh fortune.
    const context = encode(ENTRY_END + prompt)
    const listen = list(values.listen)
    const node = await startNode("lm-client", listen.length > 0 ? listen : [LOOPBACK], bootstrap)
    const decoder = streamDecoder()
    const streaming = io === processIo
    let text = prompt
    let started = false
    try {
      await Effect.runPromise(node.transport.awaitPeers(1, timeoutSeconds * 1000)).catch(() => {
        throw new InputError({ reason: `could not reach any bootstrap peer (${bootstrap.join(", ")}) within ${timeoutSeconds} s` })
      })
      if (streaming) process.stdout.write(prompt)
      const r = await Effect.runPromise(Effect.result(generateThroughPipeline(node.ctx, {
        blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context, maxTokens,
        stopAtEntryEnd: values["no-stop"] !== true, timeoutMs: timeoutSeconds * 1000,
        onEvent: (e) => io.err(e.kind === "route"
          ? `route: ${e.stages.map((s) => `blocks ${s.from}-${s.to} at ${s.peer}`).join(" → ")}`
          : e.kind === "failover" ? `failover: blocks ${e.from}-${e.to} moved from ${e.failed} to ${e.replacement} (${e.reason}); replayed ${e.replayed} inputs`
          : e.kind === "restart" ? `restart: blocks ${e.from}-${e.to} at ${e.refuted} refuted; ${e.discarded} tokens discarded`
          : `job ${e.job} pays blocks ${e.from}-${e.to} at ${e.peer}`),
        onToken: (t) => {
          const piece = decoder.push(t)
          started = true
          text += piece
          if (streaming) process.stdout.write(piece)
        },
      })))
      if (r._tag === "Failure") {
        if (streaming && (started || prompt !== "")) process.stdout.write("\n")
        io.err(`dai lm pipeline: ${r.failure.reason}`)
        return 1
      }
      const rest = decoder.end()
      if (streaming) process.stdout.write(`${rest}${(text + rest).endsWith("\n") ? "" : "\n"}`)
      else io.out(text + rest)
      io.err(`${r.success.tokens.length} tokens through ${r.success.route.length} stages, ${r.success.failovers} failover${r.success.failovers === 1 ? "" : "s"}`)
      return 0
    } finally {
      await node.stop()
    }
  },
})

/** The `dai lm` commands of pipeline inference. */
export const lmPipelineCommands = [serveCommand, pipelineCommand]
