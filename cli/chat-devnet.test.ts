/**
 * `dai chat --devnet-dir` against a running `dai devnet --lm` (issue 14, item 4): three validators on
 * Hardhat's in-process chain, no training; node1 and node2 serve the checkpoint's blocks 0-1 and 2-3 as
 * paid stage servers registered on ComputeMarket (not infer:mnist: an account registers once), and
 * node0's API generates. The answer is the whole model's greedy text, and node0's account pays, on the
 * chain, exactly tokens × the sum of the stages' prices; every note is re-executed first by a validator's
 * lm referee (verificationRate 1) and found right.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { DEFAULT_CHECKPOINT_DIR } from "../runtime/adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../runtime/adapters/tfjs/lm/generate.ts"
import { wholeModelTokens } from "../runtime/actors/lm/testkit.ts"
import { decode } from "../runtime/core/lm/tokenizer.ts"
import { formatTokens } from "../runtime/core/units.ts"
import { DEVNET_API_FILE as DEVNET_FILE_OF_NODE, DEVNET_PARAMS, startDevnet, type Devnet } from "../runtime/node/devnet.ts"
import { apiBackend, DEVNET_API_FILE, devnetApiTarget, runChat } from "./chat.ts"

const N = 12
const root = mkdtempSync(join(tmpdir(), "dai-chat-devnet-"))
let devnet: Devnet | undefined
const lines: string[] = []

beforeAll(async () => {
  devnet = await startDevnet({
    // Every debit note re-executed by a validator's lm referee before it is paid (node/lm.ts verifies by default, at this rate).
    dir: join(root, "net"), nodes: 3, params: { ...DEVNET_PARAMS, "market.verificationRate": "1" }, chain: { kind: "in-process" }, training: { enabled: false }, market: true, lm: {}, log: (l) => lines.push(l),
  })
}, 240_000)
afterAll(async () => {
  await devnet?.close()
  rmSync(root, { recursive: true, force: true })
}, 60_000)

describe("dai devnet --lm, chatted with through node0's API", () => {
  it("serves the blocks from node1 and node2, and a chat gets the whole model's greedy text, paid per token from node0's account", async () => {
    const d = devnet!
    expect(DEVNET_API_FILE).toBe(DEVNET_FILE_OF_NODE)
    expect(d.lm?.map((s) => [s.node, s.from, s.to])).toEqual([["node1", 0, 1], ["node2", 2, 3]])
    expect(lines).toContain("language model ready: blocks 0-1 on node1, blocks 2-3 on node2")
    // node1 and node2 serve the language model, so no node provides infer:mnist and node0 posts no job.
    expect(lines).toContain("market: no infer provider (every node but node0 serves the language model); node0 posts no job")
    expect(d.nodes.map((n) => n.lm?.served().map((r) => `${r.from}-${r.to}`))).toEqual([[], ["0-1"], ["2-3"]])

    const node0 = d.nodes[0]!
    // What the client's audit and the referees did, for a failure's message.
    const audit: string[] = []
    for (const n of d.nodes) n.telemetry.subscribe((e) => void (e.kind.startsWith("lm.verify") || e.kind.startsWith("lm.referee") ? audit.push(`${e.node} ${e.kind} ${JSON.stringify(e.data)}`) : undefined))
    const account = node0.node.app.accountOf(node0.address)
    const balance = () => Effect.runPromise(node0.node.ledger.balanceOf(account))
    const before = await balance()
    const backend = await apiBackend(await devnetApiTarget(d.dir), { maxTokens: N, maxPricePerToken: 10n ** 16n, stop: false })
    const out: string[] = []
    const err: string[] = []
    async function* prompts() {
      yield "hello"
    }
    let code: number
    try {
      code = await runChat(backend, prompts(), { out: (t) => out.push(t), err: (t) => err.push(t) }, (t) => out.push(t))
    } finally {
      await backend.close()
    }
    expect(code, err.join("\n")).toBe(0)
    const want = `hello${decode((await wholeModelTokens(DEFAULT_CHECKPOINT_DIR, promptTokens("hello"), N)).tokens)}`
    expect(out.join("").split("\n").filter((l) => l !== "")).toEqual(want.split("\n").filter((l) => l !== ""))
    const perToken = d.lm!.reduce((a, s) => a + s.pricePerToken, 0n)
    const paid = BigInt(N) * perToken
    expect(err.filter((l) => l.startsWith(`${N} tokens at ${formatTokens(perToken, 6)} DAI each: paid ${formatTokens(paid, 6)} DAI`))).toHaveLength(1)
    // What left node0's account on the chain: the stages' pay (whatever is left of the escrow came back).
    expect(before - (await balance())).toBe(paid)
    // The validators (every node) referee the stages: each note was re-executed on one stage's blocks and found right.
    expect(d.nodes.every((n) => n.market?.lmReferee !== undefined)).toBe(true)
    const runs = () => d.nodes.flatMap((n) => n.market?.lmReferee?.reexecutions() ?? [])
    await vi.waitFor(() => expect([...new Set(runs().map((r) => `${r.from}-${r.to}`))].sort(), audit.join("\n")).toEqual(["0-1", "2-3"]), { timeout: 30_000, interval: 250 })
    expect(runs().every((r) => r.outcome === "right")).toBe(true)
  }, 240_000)
})

describe("dai devnet's headless line of a generation", () => {
  it("says its tokens, tokens per second from its start, what it paid and its route; a failure says why", async () => {
    const { generationProgress } = await import("./devnet.ts")
    const g = generationProgress()
    expect(g.line({ kind: "lm.generate.started", at: 1_000, data: { id: "a" } })).toBeUndefined()
    expect(g.line({ kind: "lm.generate.token", at: 1_500, data: { id: "a" } })).toBeUndefined()
    const stages = [{ from: 0, to: 1, peer: "node1" }, { from: 2, to: 3, peer: "node2" }]
    expect(g.line({ kind: "lm.generate.done", at: 5_000, data: { id: "a", tokens: 40, paid: "120000000000000000", stages } }))
      .toBe("lm: generation a: 40 tokens in 4.0s (10.0 tokens/s), paid 0.12 DAI through 0-1@node1 → 2-3@node2")
    expect(g.line({ kind: "lm.generate.failed", at: 6_000, data: { id: "b", reason: "no server for blocks 2-3" } })).toBe("lm: generation b failed: no server for blocks 2-3")
  })
})

describe("dai devnet --lm and dai chat --devnet-dir on the command line", () => {
  it("refuses what cannot work, saying why", async () => {
    const { runDai } = await import("./test-harness.ts")
    const noChain = await runDai("devnet", "--lm", "--no-chain", "--headless")
    expect(noChain.code).toBe(2)
    expect(noChain.err).toMatch(/--lm needs a chain/)
    expect((await runDai("devnet", "--lm-stages", "3", "--headless")).err).toMatch(/--lm-stages goes with --lm/)
    expect((await runDai("chat", "--devnet", "--devnet-dir", root)).err).toMatch(/--devnet runs its own network: not with --api, --data-dir or --devnet-dir/)
    const absent = await runDai("chat", "--devnet-dir", join(root, "none"))
    expect(absent.code).toBe(2)
    expect(absent.err).toMatch(/api\.json does not exist: no devnet runs in .*none \(start one with dai devnet --lm --dir/)
  })
})
