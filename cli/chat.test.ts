/**
 * `dai chat` over its in-process devnet (`--devnet`): two stage-server nodes and a client on libp2p
 * loopback, one ledger. Each input line is a prompt; the answer streamed is the whole model's greedy
 * continuation of it, the route names both stages, every token costs the sum of the stages' prices,
 * and what the chat says it paid is tokens × that sum, which is what left the client's account.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEFAULT_CHECKPOINT_DIR } from "../runtime/adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../runtime/adapters/tfjs/lm/generate.ts"
import { wholeModelTokens } from "../runtime/actors/lm/testkit.ts"
import { decode } from "../runtime/core/lm/tokenizer.ts"
import { devnetBackend, runChat, type ChatBackend } from "./chat.ts"

const N = 16
let backend: ChatBackend

beforeAll(async () => {
  backend = await devnetBackend({ maxTokens: N, maxPricePerToken: 10n ** 16n, stop: false, stages: 2 })
}, 120_000)
afterAll(async () => {
  await backend?.close()
})

describe("dai chat --devnet", () => {
  it("streams the whole model's greedy answer to each line, names the stages and their price, and prints what it paid", async () => {
    const prompts = ["hello", "", "The "]
    const out: string[] = []
    const err: string[] = []
    async function* lines() {
      yield* prompts
    }
    const code = await runChat(backend, lines(), { out: (t) => out.push(t), err: (t) => err.push(t) }, (t) => out.push(t))
    expect(code).toBe(0)
    const want = await Promise.all(["hello", "The"].map(async (p) => p + decode((await wholeModelTokens(DEFAULT_CHECKPOINT_DIR, promptTokens(p), N)).tokens)))
    // Each answer: the prompt, then its continuation, then a newline.
    expect(out.join("").split("\n").filter((l) => l !== "")).toEqual(want.flatMap((w) => w.split("\n")).filter((l) => l !== ""))
    expect(err.filter((l) => l.startsWith("route: "))).toHaveLength(2)
    expect(err.filter((l) => /^stage blocks (0-1|2-3): .* per token$/.test(l))).toHaveLength(4)
    expect(err.filter((l) => l === `${N} tokens at 0.003 DAI each: paid ${(N * 0.003).toFixed(3).replace(/0+$/, "")} DAI (escrowed ${(2 * N * 0.01).toFixed(2).replace(/0+$/, "").replace(/\.$/, "")} DAI, returned ${(2 * N * 0.01 - N * 0.003).toFixed(3).replace(/0+$/, "")} DAI)`)).toHaveLength(2)
    expect(err.at(-1)).toBe(`paid ${(2 * N * 0.003).toFixed(3).replace(/0+$/, "")} DAI in all for ${2 * N} tokens in 2 answers`)
  }, 120_000)
})
