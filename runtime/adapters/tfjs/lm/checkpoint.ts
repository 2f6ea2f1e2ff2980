/**
 * A language-model checkpoint on disk: a directory with `config.json` (format, tokenizer, the
 * model's shape, the weights' digest, and how it was trained and measured) and `weights.bin` (the
 * flat float32 weights, little-endian, in core/lm/config.ts's section order). A node that serves a
 * range of blocks reads only those sections' bytes (`readSections`).
 */
import { createHash } from "node:crypto"
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Result, Schema, SchemaIssue } from "effect"
import { LmConfig, paramCount, section, sections } from "../../../core/lm/config.ts"
import { Data } from "effect"

export const CHECKPOINT_FORMAT = "dai-lm-checkpoint/1"
export const CONFIG_FILE = "config.json"
export const WEIGHTS_FILE = "weights.bin"

/** The committed checkpoint (trained on Debian's fortunes; see docs/lm.md). */
export const DEFAULT_CHECKPOINT_DIR = new URL("./checkpoint/", import.meta.url).pathname

/** A model's cross-entropy on the validation split. */
const Measure = Schema.Struct({ natsPerToken: Schema.Number, bitsPerToken: Schema.Number, bitsPerCharacter: Schema.Number })

/** What `config.json` holds. */
export const CheckpointFile = Schema.Struct({
  format: Schema.Literal(CHECKPOINT_FORMAT),
  tokenizer: Schema.Literal("byte"),
  model: LmConfig,
  weights: Schema.Struct({ file: Schema.String, dtype: Schema.Literal("float32"), parameters: Schema.Int, bytes: Schema.Int, sha256: Schema.String }),
  training: Schema.optional(
    Schema.Struct({
      corpus: Schema.String,
      seed: Schema.Union([Schema.Number, Schema.String]),
      steps: Schema.Int,
      batchSize: Schema.Int,
      window: Schema.Int,
      learningRate: Schema.Number,
      backend: Schema.String,
      seconds: Schema.Number,
      command: Schema.String,
    }),
  ),
  evaluation: Schema.optional(
    Schema.Struct({
      split: Schema.String,
      tokens: Schema.Int,
      characters: Schema.Int,
      model: Measure,
      unigram: Measure,
      bigram: Measure,
    }),
  ),
})
export type CheckpointFile = typeof CheckpointFile.Type

/** A checkpoint that cannot be read or does not describe its weights. */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{ readonly file: string; readonly reason: string }> {
  override get message(): string {
    return `language-model checkpoint ${this.file}: ${this.reason}`
  }
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const asBytes = (w: Float32Array): Uint8Array => new Uint8Array(w.buffer, w.byteOffset, w.byteLength)

/** Writes `weights` and the description to `dir` (created if needed; each file replaced whole). */
export function saveCheckpoint(dir: string, model: LmConfig, weights: Float32Array, extra: Pick<CheckpointFile, "training" | "evaluation"> = {}): CheckpointFile {
  const n = paramCount(model)
  if (weights.length !== n) throw new RangeError(`the model has ${n} weights, got ${weights.length}`)
  mkdirSync(dir, { recursive: true })
  const bytes = asBytes(weights)
  const file: CheckpointFile = {
    format: CHECKPOINT_FORMAT,
    tokenizer: "byte",
    model,
    weights: { file: WEIGHTS_FILE, dtype: "float32", parameters: n, bytes: bytes.length, sha256: sha256(bytes) },
    ...extra,
  }
  const put = (name: string, data: string | Uint8Array): void => {
    writeFileSync(join(dir, `${name}.tmp`), data)
    renameSync(join(dir, `${name}.tmp`), join(dir, name))
  }
  put(WEIGHTS_FILE, bytes)
  put(CONFIG_FILE, `${JSON.stringify(file, null, 2)}\n`)
  return file
}

/** Reads and checks `dir/config.json`; CheckpointError names what is wrong. */
export function readCheckpointConfig(dir: string): CheckpointFile {
  const path = join(dir, CONFIG_FILE)
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, "utf8"))
  } catch (e) {
    throw new CheckpointError({ file: path, reason: `${e instanceof Error ? e.message : String(e)} (train one with \`dai lm train --out ${dir}\`)` })
  }
  const r = Schema.decodeUnknownResult(CheckpointFile)(json, { errors: "first", onExcessProperty: "error" })
  if (Result.isFailure(r)) {
    const issue = SchemaIssue.makeFormatterStandardSchemaV1()(r.failure.issue).issues[0]
    const field = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
    throw new CheckpointError({ file: path, reason: `${field || "file"}: ${issue?.message ?? "invalid"}` })
  }
  const c = r.success
  try {
    sections(c.model)
  } catch (e) {
    throw new CheckpointError({ file: path, reason: e instanceof Error ? e.message : String(e) })
  }
  if (c.weights.parameters !== paramCount(c.model) || c.weights.bytes !== 4 * c.weights.parameters) {
    throw new CheckpointError({ file: path, reason: `weights.parameters ${c.weights.parameters} / bytes ${c.weights.bytes} do not match the model's ${paramCount(c.model)} float32 parameters` })
  }
  return c
}

/** The checkpoint's description and all its weights, checked against the digest. */
export function loadCheckpoint(dir: string): { readonly file: CheckpointFile; readonly weights: Float32Array } {
  const file = readCheckpointConfig(dir)
  const path = join(dir, file.weights.file)
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (e) {
    throw new CheckpointError({ file: path, reason: e instanceof Error ? e.message : String(e) })
  }
  if (bytes.length !== file.weights.bytes) throw new CheckpointError({ file: path, reason: `${bytes.length} bytes, config.json says ${file.weights.bytes}` })
  if (sha256(bytes) !== file.weights.sha256) throw new CheckpointError({ file: path, reason: "sha256 differs from config.json's: the file is damaged or belongs to another checkpoint" })
  const weights = new Float32Array(bytes.length / 4)
  asBytes(weights).set(bytes)
  return { file, weights }
}

/**
 * The weights of the named sections only (e.g. `block/2`, `block/3` for a node serving blocks 2–3),
 * read from their byte ranges. The digest covers the whole file, so it is not checked here.
 */
export function readSections(dir: string, names: readonly string[]): { readonly file: CheckpointFile; readonly weights: ReadonlyMap<string, Float32Array> } {
  const file = readCheckpointConfig(dir)
  const path = join(dir, file.weights.file)
  const out = new Map<string, Float32Array>()
  const fd = openSync(path, "r")
  try {
    for (const name of names) {
      let s
      try {
        s = section(file.model, name)
      } catch (e) {
        throw new CheckpointError({ file: path, reason: e instanceof Error ? e.message : String(e) })
      }
      const w = new Float32Array(s.size)
      const got = readSync(fd, asBytes(w), 0, 4 * s.size, 4 * s.offset)
      if (got !== 4 * s.size) throw new CheckpointError({ file: path, reason: `section ${name} is cut short (${got} of ${4 * s.size} bytes)` })
      out.set(name, w)
    }
  } finally {
    closeSync(fd)
  }
  return { file, weights: out }
}
