/**
 * POST /generate on the node API: a node whose API runs the LM service starts a paid generation and
 * its tokens stream over the WebSocket (/ws?kinds=lm.generate, the token as a subprotocol). Two LM
 * services on libp2p loopback serve blocks 0-1 and 2-3, each registering its account as the provider of
 * its range (`serve`); the text streamed equals the whole model's greedy text, each token's cost is the
 * sum of the stages' prices, and what it paid is tokens × that sum. A node without the service answers 503.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import { DEFAULT_CHECKPOINT_DIR } from "../adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../adapters/tfjs/lm/generate.ts"
import { loadPipelineStage } from "../adapters/tfjs/lm/pipeline-stage.ts"
import { startLmService, type LmService } from "../actors/lm/service.ts"
import { startPaidNetwork, wholeModelTokens, type PaidNetwork } from "../actors/lm/testkit.ts"
import { decode } from "../core/lm/tokenizer.ts"
import { TOKEN } from "../core/units.ts"
import { GENERATE_STREAM } from "./generate.ts"
import { withGenerate } from "./generate-api.ts"
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL } from "./request-guard.ts"
import { startApiServer, type ApiServer } from "./server.ts"
import { httpRequest, startTestNode, TEST_TOKEN, type TestNode } from "./test-node.ts"

const N = 12
const MILLI = TOKEN / 1000n
const PRICES = [1n * MILLI, 4n * MILLI] as const
let t: TestNode
let net: PaidNetwork
let services: LmService[] = []
let server: ApiServer
let want: number[]

beforeAll(async () => {
  const whole = await wholeModelTokens(DEFAULT_CHECKPOINT_DIR, promptTokens("A "), N)
  want = whole.tokens
  t = await startTestNode()
  // Node 0 is the client: its telemetry goes to the test node's hub, which the API's WebSocket streams.
  net = await startPaidNetwork(3, [(kind, data) => Effect.runSync(t.hub.telemetry.emit({ at: Date.now(), node: "v0", kind, data }))])
  const model = { blocks: whole.config.blocks, contextLength: whole.config.contextLength, vocabSize: whole.config.vocabSize }
  const loadStage = (from: number, to: number) => loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)
  services = net.ctxs.map((ctx, i) => startLmService(ctx, {
    account: ctx.network.self, model, loadStage, watchMs: 500, pollMs: 300,
    ...(i === 0 ? {} : { serve: { from: (i - 1) * 2, to: (i - 1) * 2 + 1, bond: 200n * TOKEN, pricePerToken: PRICES[i - 1]!, capacity: 4 } }),
  }))
  server = await startApiServer({ api: withGenerate(t.api, services[0]!, net.ctxs[0]!.network.self), token: TEST_TOKEN })
  // Both servers registered and announced: the client finds them.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const found = await Promise.all(["lm/blocks/0-1", "lm/blocks/2-3"].map((k) => Effect.runPromise(Effect.orElseSucceed(net.ctxs[0]!.network.findProviders(k), () => []))))
    if (services.slice(1).every((s) => s.served().length === 1) && found.every((f) => f.length > 0)) break
    await new Promise((r) => setTimeout(r, 200))
  }
}, 120_000)

afterAll(async () => {
  await server?.close()
  services.forEach((s) => s.stop())
  await net?.close()
  await t?.close()
})

type Event = { kind: string; data: Record<string, unknown> }

describe("POST /generate", () => {
  it("starts a paid generation whose tokens, route and cost stream over the WebSocket; the text is the whole model's", async () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}${GENERATE_STREAM}`, [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL}${TEST_TOKEN}`])
    const events: Event[] = []
    ws.on("message", (m) => events.push(JSON.parse(String(m)) as Event))
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject))
    try {
      const r = await httpRequest(server.url, {
        method: "POST", path: "/generate", headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "A ", maxTokens: N, maxPricePerToken: String(5n * MILLI), stop: false }),
      })
      expect(r.status).toBe(202)
      const started = r.json as { id: string; account: string; stream: string }
      expect(started).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), account: net.ctxs[0]!.network.self, stream: GENERATE_STREAM })
      const mine = () => events.filter((e) => e.data["id"] === started.id)
      const deadline = Date.now() + 60_000
      while (!mine().some((e) => e.kind === "lm.generate.done" || e.kind === "lm.generate.failed") && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100))
      const done = mine().find((e) => e.kind === "lm.generate.done")
      expect(done, JSON.stringify(mine().find((e) => e.kind === "lm.generate.failed"))).toBeDefined()
      const tokens = mine().filter((e) => e.kind === "lm.generate.token")
      expect(tokens.map((e) => e.data["token"])).toEqual(want)
      expect(tokens.map((e) => e.data["text"]).join("") + String(done!.data["rest"])).toBe(decode(want))
      expect(done!.data["text"]).toBe(decode(want))
      const perToken = PRICES[0] + PRICES[1]
      expect(new Set(tokens.map((e) => e.data["cost"]))).toEqual(new Set([String(perToken)]))
      const route = mine().find((e) => e.kind === "lm.generate.route")!.data["stages"] as Array<{ from: number; to: number; peer: string }>
      expect(route).toEqual([{ from: 0, to: 1, peer: net.ctxs[1]!.network.self }, { from: 2, to: 3, peer: net.ctxs[2]!.network.self }])
      expect(done!.data["paid"]).toBe(String(BigInt(N) * perToken))
      expect(done!.data["held"]).toBe("0")
      expect(done!.data["escrowed"]).toBe(String(2n * BigInt(N) * 5n * MILLI))
    } finally {
      ws.terminate()
    }
  }, 90_000)

  it("is refused with 503 by a node that runs no language-model client, and with 400 naming a bad field", async () => {
    const post = (base: string, body: unknown) => httpRequest(base, { method: "POST", path: "/generate", headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) })
    const r = await post(t.server.url, { prompt: "A", maxPricePerToken: "1" })
    expect(r.status).toBe(503)
    expect((r.json as { error: string }).error).toMatch(/no language-model client/)
    const bad = await post(server.url, { prompt: "A", maxPricePerToken: "0" })
    expect(bad.status).toBe(400)
    expect((bad.json as { field: string }).field).toBe("maxPricePerToken")
  })
})
