import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } from "../runtime/adapters/tfjs/lm/checkpoint.ts"
import { runCaptured } from "./dai.ts"
import { formatSeconds, trainingBar } from "./lm.ts"

describe("dai lm", () => {
  const dir = mkdtempSync(join(tmpdir(), "dai-lm-cli-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("the training bar shows steps, loss in nats and bits, speed and time left", () => {
    expect(trainingBar({ step: 5, steps: 20, loss: Math.LN2 * 3, tokensPerSecond: 812.4, elapsedSeconds: 10, width: 8 })).toBe(
      "train [##......] 5/20 loss 2.079 (3.00 bits/token) 812 tok/s ~30s left",
    )
    expect(trainingBar({ step: 20, steps: 20, loss: 1, tokensPerSecond: 1, elapsedSeconds: 75, width: 4 })).toMatch(/\[####\] 20\/20 .* done in 1m15s$/)
    expect(formatSeconds(Infinity)).toBe("?")
  })

  it("train: a tiny model on a tiny corpus writes a checkpoint with the model's and the baselines' validation figures", async () => {
    const corpus = join(dir, "corpus")
    const out = join(dir, "ckpt")
    const { mkdirSync } = await import("node:fs")
    mkdirSync(corpus)
    const entries = Array.from({ length: 30 }, (_, i) => `Fortune number ${i}: the quick brown fox jumps over the lazy dog.`)
    writeFileSync(join(corpus, "tiny"), entries.join("\n%\n"))
    const r = await runCaptured("lm", "train", "--corpus", corpus, "--out", out, "--steps", "3", "--batch", "2", "--context", "16", "--dim", "8", "--blocks", "2", "--heads", "2", "--backend", "cpu")
    expect(r.err).toMatch(/27 training and 3 validation entries/)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/gpt .* bits\/char\n\s+bigram .* bits\/char\n\s+unigram .* bits\/char/)
    const { file } = loadCheckpoint(out)
    expect(file.model).toEqual({ vocabSize: 256, contextLength: 16, dim: 8, heads: 2, blocks: 2, hidden: 32 })
    expect(file.evaluation!.tokens).toBe(new TextEncoder().encode(entries.filter((_, i) => i % 10 === 9).map((e) => `${e}\n%\n`).join("")).length - 1)
    expect(file.training!.command).toContain("--steps 3 --batch 2 --context 16")
  })

  it("train: refuses a missing corpus with how to install it, and a bad flag", async () => {
    const r = await runCaptured("lm", "train", "--corpus", join(dir, "none"), "--out", join(dir, "x"))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/apt-get install fortunes/)
    expect((await runCaptured("lm", "train", "--dim", "10", "--heads", "4")).err).toMatch(/multiple of --heads/)
  })

  it("generate: the committed checkpoint prints the same text for the same seed, greedy or sampled", async () => {
    for (const args of [["--temperature", "0"], ["--seed", "42", "--temperature", "0.8"]]) {
      const a = await runCaptured("lm", "generate", "--prompt", "The ", "--max-tokens", "40", ...args)
      const b = await runCaptured("lm", "generate", "--prompt", "The ", "--max-tokens", "40", ...args)
      expect(a.code).toBe(0)
      expect(a.out.startsWith("The ")).toBe(true)
      expect(a.out.length).toBeGreaterThan(4)
      expect(b.out).toBe(a.out)
    }
  })

  it("generate: names a checkpoint it cannot read", async () => {
    const r = await runCaptured("lm", "generate", "--checkpoint", join(dir, "missing"))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/config\.json/)
  })

  it("the committed checkpoint is described by its config.json (digest, figures, reproduction command)", () => {
    const { file, weights } = loadCheckpoint(DEFAULT_CHECKPOINT_DIR)
    expect(weights.length).toBe(file.weights.parameters)
    expect(file.training!.command).toMatch(/^dai lm train /)
    const e = file.evaluation!
    // The figures recorded when it was trained, in the same run on the same split.
    expect(e.model.bitsPerCharacter).toBeLessThan(e.bigram.bitsPerCharacter)
    expect(e.bigram.bitsPerCharacter).toBeLessThan(e.unigram.bitsPerCharacter)
    expect(JSON.parse(readFileSync(join(DEFAULT_CHECKPOINT_DIR, "config.json"), "utf8")).format).toBe("dai-lm-checkpoint/1")
  })
})
