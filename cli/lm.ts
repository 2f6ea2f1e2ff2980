/**
 * `dai lm`: the network's language model. `train` trains the GPT on Debian's fortunes and writes a
 * checkpoint with its validation loss against unigram and bigram baselines measured in the same
 * run; `generate` prints text from a checkpoint (the committed one by default). tfjs is imported
 * only when a command runs, so `--help` stays instant.
 */
import { defineCommand, InputError, intFlag, type Io, processIo, UsageError } from "./command.ts"

/** Parse a flag as a finite number in [min, max]. */
const numberFlag = (flag: string, value: string | undefined, fallback: number, min: number, max: number): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) throw new InputError({ reason: `--${flag} must be a number from ${min} to ${max}, got "${value}"` })
  return n
}

/** `75` → `1m15s`. */
export const formatSeconds = (s: number): string => {
  if (!Number.isFinite(s)) return "?"
  const r = Math.max(0, Math.round(s))
  return r < 60 ? `${r}s` : `${Math.floor(r / 60)}m${String(r % 60).padStart(2, "0")}s`
}

/** One line of the training bar: steps done, loss, speed and time left. */
export const trainingBar = (p: { step: number; steps: number; loss: number; tokensPerSecond: number; elapsedSeconds: number; width?: number }): string => {
  const width = p.width ?? 28
  const frac = p.steps === 0 ? 1 : p.step / p.steps
  const filled = Math.round(frac * width)
  const left = p.step === 0 ? Infinity : (p.elapsedSeconds / p.step) * (p.steps - p.step)
  return `train [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} (${(p.loss / Math.LN2).toFixed(2)} bits/token) ${Math.round(p.tokensPerSecond)} tok/s ${p.step >= p.steps ? `done in ${formatSeconds(p.elapsedSeconds)}` : `~${formatSeconds(left)} left`}`
}

/** A redrawn bar on a terminal, a line every tenth otherwise. */
const progressWriter = (io: Io): { show(line: string, step: number, steps: number): void; end(): void } => {
  const tty = io === processIo && process.stderr.isTTY === true
  let lastTenth = -1
  let last = ""
  return {
    show: (line, step, steps) => {
      last = line
      if (tty) process.stderr.write(`\r${line}\x1b[K`)
      else {
        const tenth = Math.floor((step * 10) / Math.max(1, steps))
        if (tenth !== lastTenth) {
          lastTenth = tenth
          io.err(line)
        }
      }
    },
    end: () => {
      if (tty && last !== "") process.stderr.write(`\r${last}\x1b[K\n`)
    },
  }
}

const seedOf = (v: string | undefined): number | string => (v === undefined ? 1 : /^\d+$/.test(v) ? Number(v) : v)

const trainCommand = defineCommand({
  name: "train",
  summary: "Train the GPT on Debian's fortunes and write a checkpoint with its validation loss against unigram and bigram baselines.",
  options: {
    corpus: { type: "string" },
    out: { type: "string" },
    steps: { type: "string" },
    batch: { type: "string" },
    context: { type: "string" },
    dim: { type: "string" },
    blocks: { type: "string" },
    heads: { type: "string" },
    lr: { type: "string" },
    seed: { type: "string" },
    backend: { type: "string" },
  },
  help: {
    "--corpus DIR": "directory of fortune files (default /usr/share/games/fortunes, from `apt-get install fortunes`)",
    "--out DIR": "where to write config.json and weights.bin (default lm-checkpoint)",
    "--steps N": "optimizer steps (default 600)",
    "--batch N": "windows per step (default 16)",
    "--context N": "context length = training window, in tokens (bytes) (default 64)",
    "--dim N": "width of the residual stream (default 64)",
    "--blocks N": "transformer blocks (default 4)",
    "--heads N": "attention heads per block (default 4)",
    "--lr X": "peak learning rate (default 0.003)",
    "--seed S": "seed of the initial weights and the batches (default 1)",
    "--backend NAME": "TensorFlow.js backend: auto, tensorflow, wasm or cpu (default: $DAI_TF_BACKEND, else the best available)",
  },
  examples: ["dai lm train --out /tmp/lm", "dai lm train --steps 50 --out /tmp/lm-quick"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const steps = intFlag("steps", values.steps, 600, 1, 1_000_000)
    const batchSize = intFlag("batch", values.batch, 16, 1, 4096)
    const context = intFlag("context", values.context, 64, 2, 4096)
    const dim = intFlag("dim", values.dim, 64, 1, 4096)
    const blocks = intFlag("blocks", values.blocks, 4, 1, 64)
    const heads = intFlag("heads", values.heads, 4, 1, 64)
    if (dim % heads !== 0) throw new InputError({ reason: `--dim (${dim}) must be a multiple of --heads (${heads})` })
    const learningRate = numberFlag("lr", values.lr, 0.003, 1e-6, 1)
    const seed = seedOf(values.seed)
    const out = values.out ?? "lm-checkpoint"
    const { loadFortunes, FORTUNES_DIR } = await import("../runtime/adapters/data/fortunes.ts")
    const corpusDir = values.corpus ?? FORTUNES_DIR
    let corpus
    try {
      corpus = loadFortunes(corpusDir)
    } catch (e) {
      throw new InputError({ reason: e instanceof Error ? e.message : String(e) })
    }
    const { selectBackend, describeBackend } = await import("../runtime/adapters/tfjs/backend.ts")
    try {
      await selectBackend(values.backend)
    } catch (e) {
      throw new InputError({ reason: (e as { reason?: string }).reason ?? String(e) })
    }
    const { BYTE_VOCAB_SIZE, characterCount, encode } = await import("../runtime/core/lm/tokenizer.ts")
    const { bigramCrossEntropy, countNgrams, unigramCrossEntropy } = await import("../runtime/core/lm/baseline.ts")
    const { paramCount } = await import("../runtime/core/lm/config.ts")
    const { evaluateLm, trainLm } = await import("../runtime/adapters/tfjs/lm/train.ts")
    const { saveCheckpoint } = await import("../runtime/adapters/tfjs/lm/checkpoint.ts")
    const train = Uint8Array.from(encode(corpus.train))
    const validation = Uint8Array.from(encode(corpus.validation))
    const config = { vocabSize: BYTE_VOCAB_SIZE, contextLength: context, dim, heads, blocks, hidden: 4 * dim }
    io.err(`corpus: ${corpus.source}; ${train.length} training and ${validation.length} validation tokens (bytes)`)
    io.err(`model: ${blocks} blocks, dim ${dim}, ${heads} heads, context ${context}, ${paramCount(config)} parameters; backend ${describeBackend()}; seed ${seed}`)
    const bar = progressWriter(io)
    const started = performance.now()
    let smoothed = NaN
    const model = await trainLm(train, { config, seed, steps, batchSize, window: context, learningRate }, (r) => {
      smoothed = Number.isNaN(smoothed) ? r.loss : 0.9 * smoothed + 0.1 * r.loss
      const elapsedSeconds = (performance.now() - started) / 1000
      bar.show(trainingBar({ step: r.step, steps: r.steps, loss: smoothed, tokensPerSecond: (r.step * batchSize * context) / elapsedSeconds, elapsedSeconds }), r.step, r.steps)
    })
    bar.end()
    const seconds = (performance.now() - started) / 1000
    try {
      const evalBar = progressWriter(io)
      const measured = await evaluateLm(model, validation, context, 32, (done, total) => evalBar.show(`validation ${done}/${total} windows`, done, total))
      evalBar.end()
      const counts = countNgrams(train, BYTE_VOCAB_SIZE)
      const unigram = unigramCrossEntropy(counts, validation)
      const bigram = bigramCrossEntropy(counts, validation)
      const characters = characterCount(validation.subarray(1))
      const measure = (natsPerToken: number, tokens: number) => ({ natsPerToken, bitsPerToken: natsPerToken / Math.LN2, bitsPerCharacter: (natsPerToken * tokens) / Math.LN2 / characters })
      const evaluation = {
        split: "validation: every 10th fortune (core/lm/corpus.ts)",
        tokens: measured.tokens,
        characters,
        model: measure(measured.nats / measured.tokens, measured.tokens),
        unigram: measure(unigram.nats, unigram.tokens),
        bigram: measure(bigram.nats, bigram.tokens),
      }
      const command = ["dai lm train", ...(values.corpus === undefined ? [] : ["--corpus", corpusDir]), "--out", out, "--steps", steps, "--batch", batchSize, "--context", context, "--dim", dim, "--blocks", blocks, "--heads", heads, "--lr", learningRate, "--seed", seed, "--backend", describeBackend().split(" ")[0]!].join(" ")
      saveCheckpoint(out, config, model.getWeights(), {
        training: { corpus: corpus.source, seed, steps, batchSize, window: context, learningRate, backend: describeBackend(), seconds: Math.round(seconds), command },
        evaluation,
      })
      const row = (name: string, m: { natsPerToken: number; bitsPerToken: number; bitsPerCharacter: number }) => `  ${name.padEnd(8)} ${m.natsPerToken.toFixed(4)} nats/token  ${m.bitsPerToken.toFixed(4)} bits/byte  ${m.bitsPerCharacter.toFixed(4)} bits/char`
      io.out(`validation (${evaluation.tokens} tokens, ${characters} characters):`)
      io.out(row("gpt", evaluation.model))
      io.out(row("bigram", evaluation.bigram))
      io.out(row("unigram", evaluation.unigram))
      io.out(`checkpoint written to ${out} (${4 * paramCount(config)} bytes of weights); trained in ${formatSeconds(seconds)}`)
    } finally {
      model.dispose()
    }
    return 0
  },
})

const generateCommand = defineCommand({
  name: "generate",
  summary: "Print text from a language-model checkpoint (the committed one by default), greedy or sampled.",
  options: {
    prompt: { type: "string" },
    checkpoint: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    seed: { type: "string" },
    backend: { type: "string" },
    "no-stop": { type: "boolean" },
  },
  help: {
    "--prompt TEXT": "the text to continue (default: empty, a new fortune)",
    "--checkpoint DIR": "checkpoint directory (default: the committed one, runtime/adapters/tfjs/lm/checkpoint)",
    "--max-tokens N": "most tokens (bytes) to generate (default 200)",
    "--temperature T": "0 = greedy (default 0.8)",
    "--top-k K": "sample among the K most likely tokens only",
    "--seed S": "seed of the sampling (default 1): the same seed gives the same text",
    "--backend NAME": "TensorFlow.js backend (default cpu: plain JavaScript kernels, the same text on every machine)",
    "--no-stop": "keep going past the end of the fortune (the corpus's `%` line)",
  },
  examples: ['dai lm generate --prompt "The meaning of life"', 'dai lm generate --prompt "A" --temperature 0', "dai lm generate --seed 7 --max-tokens 400 --no-stop"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}" (the prompt goes in --prompt)` })
    const maxTokens = intFlag("max-tokens", values["max-tokens"], 200, 0, 1_000_000)
    const temperature = numberFlag("temperature", values.temperature, 0.8, 0, 100)
    const topK = values["top-k"] === undefined ? undefined : intFlag("top-k", values["top-k"], 0, 1, 1_000_000)
    const { selectBackend } = await import("../runtime/adapters/tfjs/backend.ts")
    try {
      await selectBackend(values.backend ?? "cpu")
    } catch (e) {
      throw new InputError({ reason: (e as { reason?: string }).reason ?? String(e) })
    }
    const { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } = await import("../runtime/adapters/tfjs/lm/checkpoint.ts")
    const { makeGpt } = await import("../runtime/adapters/tfjs/lm/gpt.ts")
    const { generateTokens, promptTokens } = await import("../runtime/adapters/tfjs/lm/generate.ts")
    const { streamDecoder } = await import("../runtime/core/lm/tokenizer.ts")
    let loaded
    try {
      loaded = loadCheckpoint(values.checkpoint ?? DEFAULT_CHECKPOINT_DIR)
    } catch (e) {
      throw new InputError({ reason: e instanceof Error ? e.message : String(e) })
    }
    const model = makeGpt(loaded.file.model, loaded.weights)
    const prompt = values.prompt ?? ""
    const decoder = streamDecoder()
    const streaming = io === processIo
    let text = prompt
    if (streaming) process.stdout.write(prompt)
    try {
      generateTokens(model, promptTokens(prompt), { maxTokens, temperature, topK, seed: seedOf(values.seed), stopAtEntryEnd: values["no-stop"] !== true }, (t) => {
        const piece = decoder.push(t)
        text += piece
        if (streaming) process.stdout.write(piece)
      })
    } finally {
      model.dispose()
    }
    const rest = decoder.end()
    if (streaming) process.stdout.write(`${rest}${(text + rest).endsWith("\n") ? "" : "\n"}`)
    else io.out(text + rest)
    return 0
  },
})

/** The `dai lm` commands. */
export const lmCommands = [trainCommand, generateCommand]
