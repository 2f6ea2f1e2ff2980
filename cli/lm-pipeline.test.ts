/**
 * Failover mid-generation with real processes (issue 14, item 3): two `dai lm serve --blocks 2-3`
 * children on 127.0.0.1, a stage 0-1 and the client in this process; the child on the client's route
 * is killed with SIGKILL mid-generation, the client fails over to the other one by replaying the
 * session's inputs, and the text equals the whole model's greedy text in one process.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { Effect } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import { generateThroughPipeline, type PipelineEvent } from "../runtime/actors/lm/client.ts"
import { lmContext } from "../runtime/actors/lm/context.ts"
import { startStageServer } from "../runtime/actors/lm/stage-server.ts"
import { makeFiberRunner, wallClock, wallNow } from "../runtime/adapters/clock.ts"
import { startLibp2pNetworks } from "../runtime/adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../runtime/adapters/random.ts"
import { selectBackend } from "../runtime/adapters/tfjs/backend.ts"
import { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } from "../runtime/adapters/tfjs/lm/checkpoint.ts"
import { generateTokens, promptTokens } from "../runtime/adapters/tfjs/lm/generate.ts"
import { makeGpt } from "../runtime/adapters/tfjs/lm/gpt.ts"
import { loadPipelineStage } from "../runtime/adapters/tfjs/lm/pipeline-stage.ts"
import { lmBlocksKey } from "../runtime/core/lm/wire.ts"

const BIN = new URL("../bin/dai.ts", import.meta.url).pathname
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
})

/** `dai lm serve` in a child process; resolves with its peer id once it serves. */
const serveChild = (blocks: string, bootstrap: string) => {
  const p = spawn(process.execPath, [BIN, "lm", "serve", "--blocks", blocks, "--bootstrap", bootstrap, "--listen", "/ip4/127.0.0.1/tcp/0"], { stdio: ["ignore", "pipe", "pipe"] })
  children.add(p)
  let text = ""
  p.stderr!.on("data", (c: Buffer) => void (text += c.toString()))
  const exit = new Promise<NodeJS.Signals | null>((resolve) => p.once("exit", (_code, signal) => resolve(signal)))
  const peer = new Promise<string>((resolve, reject) => {
    p.stdout!.on("data", (c: Buffer) => {
      text += c.toString()
      const m = /serving blocks \S+ of \d+ \(\S+\) as (\S+)/.exec(text)
      if (m !== null) resolve(m[1]!)
    })
    p.once("exit", (code) => reject(new Error(`dai lm serve exited with ${code} before serving:\n${text}`)))
  })
  return { process: p, peer, exit, output: () => text }
}

describe("dai lm serve: a stage process killed mid-generation", () => {
  it("the client fails over to another server of that range and the text is the same as without the failure", async () => {
    await selectBackend("cpu")
    const { file, weights } = loadCheckpoint(DEFAULT_CHECKPOINT_DIR)
    const context = promptTokens("The ")
    const n = 30
    const whole = makeGpt(file.model, weights)
    const want = generateTokens(whole, context, { maxTokens: n, temperature: 0, seed: 0 })
    whole.dispose()

    const h = await startLibp2pNetworks(2)
    const runner = makeFiberRunner()
    const ctxOf = (name: string, i: number) => lmContext({ name, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network: h.networks[i]! })
    const first = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, 0, 1)
    const server = startStageServer(ctxOf("s0", 1), { stage: first })
    try {
      const bootstrap = (await Effect.runPromise(h.transports[1]!.multiaddrs))[0]!
      const kids = [serveChild("2-3", bootstrap), serveChild("2-3", bootstrap)]
      const peers = await Promise.all(kids.map((k) => k.peer))
      // Both children's announcements reached the DHT the client asks.
      await vi.waitFor(async () => {
        const found = await Effect.runPromise(h.networks[0]!.findProviders(lmBlocksKey(2, 3)))
        expect(found.map((f) => f.peer).sort()).toEqual([...peers].sort())
      }, { timeout: 60_000, interval: 250 })

      const events: PipelineEvent[] = []
      let killed: string | undefined
      let seen = 0
      const got = await Effect.runPromise(generateThroughPipeline(ctxOf("client", 0), {
        blocks: file.model.blocks, contextLength: file.model.contextLength, vocabSize: file.model.vocabSize, context, maxTokens: n, timeoutMs: 30_000,
        onEvent: (e) => events.push(e),
        onToken: async () => {
          // Six tokens first (the stage has taken the prompt and five tokens: six inputs to replay).
          const route = events[0]
          if (++seen < 6 || killed !== undefined || route?.kind !== "route") return
          killed = route.stages[1]!.peer
          const victim = kids[peers.indexOf(killed)]!
          victim.process.kill("SIGKILL")
          expect(await victim.exit).toBe("SIGKILL")
        },
      }))
      expect(killed).toBeDefined()
      expect(got.tokens).toEqual(want)
      expect(got.failovers).toBe(1)
      expect(events.find((e) => e.kind === "failover")).toMatchObject({ from: 2, to: 3, failed: killed, replacement: peers.find((p) => p !== killed), replayed: 6 })
    } finally {
      server.stop()
      first.dispose()
      await Effect.runPromise(runner.interruptAll)
      await h.close()
    }
  }, 180_000)
})
