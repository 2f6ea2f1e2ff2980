/**
 * Pipeline inference over real libp2p nodes on 127.0.0.1 (started and stopped here): stage servers
 * announce their block ranges in the DHT, a client finds them, routes over them and decodes greedily;
 * the text equals the whole model's in one process, through 2 and 3 stages and across a stage lost
 * mid-generation.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { makeFiberRunner, wallClock, wallNow } from "../../adapters/clock.ts"
import { startLibp2pNetworks } from "../../adapters/libp2p/test-harness.ts"
import { cryptoRandom } from "../../adapters/random.ts"
import { selectBackend } from "../../adapters/tfjs/backend.ts"
import { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } from "../../adapters/tfjs/lm/checkpoint.ts"
import { generateTokens, promptTokens } from "../../adapters/tfjs/lm/generate.ts"
import { makeGpt } from "../../adapters/tfjs/lm/gpt.ts"
import { loadPipelineStage } from "../../adapters/tfjs/lm/pipeline-stage.ts"
import type { LmConfig } from "../../core/lm/config.ts"
import { LM_SERVER_TOPIC, lmBlocksKey } from "../../core/lm/wire.ts"
import type { Network } from "../../services/network.ts"
import { generateThroughPipeline, type PipelineEvent } from "./client.ts"
import { type LmContext, lmContext } from "./context.ts"
import { startStageServer } from "./stage-server.ts"

const N = 30
const context = promptTokens("The ")
let config: LmConfig
let want: number[]

beforeAll(async () => {
  await selectBackend("cpu")
  const { file, weights } = loadCheckpoint(DEFAULT_CHECKPOINT_DIR)
  config = file.model
  const whole = makeGpt(file.model, weights)
  try {
    want = generateTokens(whole, context, { maxTokens: N, temperature: 0, seed: 0 })
  } finally {
    whole.dispose()
  }
})

const runners: Array<ReturnType<typeof makeFiberRunner>> = []
afterAll(async () => {
  for (const r of runners) await Effect.runPromise(r.interruptAll)
})

const ctxOf = (name: string, network: Network["Service"], emit?: LmContext["emit"]): LmContext => {
  const runner = makeFiberRunner()
  runners.push(runner)
  return lmContext({ name, clock: wallClock, now: wallNow, run: runner.run, random: cryptoRandom, network, ...(emit === undefined ? {} : { emit }) })
}

/**
 * Until the client's node finds every server of every range in the DHT: a server's announcement is
 * put there after it starts, and under load that can take seconds (a client asking before it is there
 * is told that no server holds the range, which is right, and not what these tests are about).
 */
const announced = (client: Network["Service"], servers: ReadonlyArray<readonly [from: number, to: number, peer: string]>) =>
  vi.waitFor(async () => {
    for (const [from, to, peer] of servers) {
      const found = await Effect.runPromise(Effect.orElseSucceed(client.findProviders(lmBlocksKey(from, to)), () => []))
      expect(found.map((p) => p.peer)).toContain(peer)
    }
  }, { timeout: 60_000, interval: 100 })

const generate = (ctx: LmContext, extra: { onToken?: (t: number) => void | Promise<void>; events?: PipelineEvent[] } = {}) =>
  Effect.runPromise(generateThroughPipeline(ctx, {
    blocks: config.blocks, contextLength: config.contextLength, vocabSize: config.vocabSize, context, maxTokens: N, timeoutMs: 30_000,
    ...(extra.onToken === undefined ? {} : { onToken: extra.onToken }), onEvent: (e) => extra.events?.push(e),
  }))

describe("pipeline inference over libp2p on loopback", () => {
  it("greedy decoding through a 2- and a 3-stage pipeline gives exactly the whole model's text", async () => {
    const h = await startLibp2pNetworks(4)
    try {
      const client = ctxOf("client", h.networks[0]!)
      for (const ranges of [[[0, 1], [2, 3]], [[0, 0], [1, 2], [3, 3]]] as const) {
        const stages = ranges.map(([a, b]) => loadPipelineStage(DEFAULT_CHECKPOINT_DIR, a, b))
        const servers = stages.map((stage, i) => startStageServer(ctxOf(`s${i}`, h.networks[i + 1]!), { stage }))
        try {
          await announced(h.networks[0]!, ranges.map(([from, to], i) => [from, to, h.networks[i + 1]!.self] as const))
          const events: PipelineEvent[] = []
          const got = await generate(client, { events })
          expect(got.tokens).toEqual(want)
          expect(got.failovers).toBe(0)
          expect(got.route).toEqual(ranges.map(([from, to], i) => ({ from, to, peer: h.networks[i + 1]!.self })))
          expect(events[0]).toEqual({ kind: "route", stages: got.route })
        } finally {
          servers.forEach((s) => s.stop())
          stages.forEach((s) => s.dispose())
        }
      }
    } finally {
      await h.close()
    }
  }, 120_000)

  it("a stage whose node stops mid-generation is replaced by another server of its range, and the text is the same", async () => {
    const h = await startLibp2pNetworks(4)
    const stages = [loadPipelineStage(DEFAULT_CHECKPOINT_DIR, 0, 1), loadPipelineStage(DEFAULT_CHECKPOINT_DIR, 2, 3), loadPipelineStage(DEFAULT_CHECKPOINT_DIR, 2, 3)]
    const servers = stages.map((stage, i) => startStageServer(ctxOf(`s${i}`, h.networks[i + 1]!), { stage }))
    try {
      await announced(h.networks[0]!, [[0, 1, h.networks[1]!.self], [2, 3, h.networks[2]!.self], [2, 3, h.networks[3]!.self]])
      const events: PipelineEvent[] = []
      let victim: string | undefined
      const got = await generate(ctxOf("client", h.networks[0]!), {
        events,
        onToken: async () => {
          if (victim !== undefined || events.length === 0 || events[0]!.kind !== "route") return
          victim = events[0]!.stages[1]!.peer
          await h.stop(h.networks.findIndex((n) => n.self === victim))
        },
      })
      expect(got.tokens).toEqual(want)
      expect(got.failovers).toBe(1)
      const failover = events.find((e) => e.kind === "failover")
      expect(failover).toMatchObject({ kind: "failover", from: 2, to: 3, failed: victim, replayed: 1 })
      expect(got.route[1]!.peer).not.toBe(victim)
    } finally {
      servers.forEach((s) => s.stop())
      stages.forEach((s) => s.dispose())
      await h.close()
    }
  }, 120_000)

  it("a malformed request is refused unread, named, and counted as a fault of its sender", async () => {
    const h = await startLibp2pNetworks(2)
    const stage = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, 0, 1)
    const events: Array<{ kind: string; data: Record<string, unknown> }> = []
    const server = startStageServer(ctxOf("s", h.networks[1]!, (kind, data) => events.push({ kind, data })), { stage })
    try {
      await h.settle()
      await Effect.runPromise(h.networks[0]!.send(h.networks[1]!.self, LM_SERVER_TOPIC, new Uint8Array([0, 2, 123, 125, 9])))
      await vi.waitFor(() => expect(events.filter((e) => e.kind === "net.invalid")).toHaveLength(1), { timeout: 10_000, interval: 20 })
      expect(events.find((e) => e.kind === "net.invalid")!.data).toMatchObject({ from: h.networks[0]!.self, reason: expect.stringMatching(/^malformed lm request: /) })
      expect(server.sessions).toBe(0)
    } finally {
      server.stop()
      stage.dispose()
      await h.close()
    }
  }, 60_000)
})
