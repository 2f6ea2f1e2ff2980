/**
 * A pipeline stage of the language model over plain floats (what travels between nodes): a node
 * holding a range of blocks opens one session per client generation; each session keeps its own
 * attention cache per block, so the client sends only the new positions' activations each step.
 * The first stage also holds `embed` (it takes tokens), the last also `head` (it returns logits).
 */
import * as tf from "@tensorflow/tfjs"
import { blockSection } from "../../../core/lm/config.ts"
import { readSections } from "./checkpoint.ts"
import { disposeCache, emptyCache, type GptPart, type KvCache, makeGptPart } from "./gpt.ts"

/** Activations of consecutive positions of one sequence: `length` rows of `dim` floats, row-major. */
export interface Activations {
  /** Position of the first row in the sequence (the session's position when sent). */
  readonly start: number
  readonly length: number
  readonly dim: number
  readonly data: Float32Array
}

/** A session with one stage: its blocks' caches for one sequence. */
export interface StageSession {
  /** Number of positions this session has seen (the next `start` it accepts). */
  readonly position: number
  /** Runs the stage's blocks on the next positions' activations; returns theirs. */
  forward(x: Activations): Activations
  /** As `forward`, with every block's output in order (the last is `forward`'s). */
  forwardTrace(x: Activations): Activations[]
  /** Frees the caches. */
  close(): void
}

/** The blocks `from..to` (inclusive) of a part, as a session factory. */
export interface Stage {
  readonly from: number
  readonly to: number
  readonly part: GptPart
  openSession(): StageSession
  /** Activations of `tokens` at positions start.. (the part must hold `embed`). */
  embed(tokens: readonly number[], start: number): Activations
  /** Logits [length × vocab] of the last block's activations (the part must hold `head`). */
  head(x: Activations): Float32Array
}

const toTensor = (x: Activations): tf.Tensor3D => tf.tensor3d(x.data, [1, x.length, x.dim])

/** A stage serving blocks `from..to` of `part` (which must hold them). */
export function makeStage(part: GptPart, from: number, to: number): Stage {
  const { blocks, dim } = part.config
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to >= blocks) throw new RangeError(`block range ${from}-${to} is not within 0-${blocks - 1}`)
  const fns = Array.from({ length: to - from + 1 }, (_, i) => part.block(from + i)) // throws when a block is not held
  return {
    from,
    to,
    part,
    openSession: () => {
      const caches: KvCache[] = fns.map(emptyCache)
      let position = 0
      // Each block's output, read back as float32 (what one block run alone from the previous one's gives, bit for bit).
      const run = (x: Activations, every: boolean): Activations[] => {
        if (x.dim !== dim || x.data.length !== x.length * dim) throw new RangeError(`activations must be ${x.length} × ${dim} floats, got dim ${x.dim} and ${x.data.length} floats`)
        if (x.start !== position) throw new RangeError(`this session is at position ${position}, got activations from position ${x.start} (replay the session's inputs in order)`)
        const outs = tf.tidy(() => {
          let t = toTensor(x)
          const got: Float32Array[] = []
          fns.forEach((f, i) => {
            t = f(t, caches[i])
            if (every || i === fns.length - 1) got.push(Float32Array.from(t.dataSync() as Float32Array))
          })
          return got
        })
        position += x.length
        return outs.map((data) => ({ start: x.start, length: x.length, dim, data }))
      }
      return {
        get position() {
          return position
        },
        forward: (x) => run(x, false)[0]!,
        forwardTrace: (x) => run(x, true),
        close: () => caches.forEach(disposeCache),
      }
    },
    embed: (tokens, start) => {
      const data = tf.tidy(() => part.embed(tf.tensor2d(Int32Array.from(tokens), [1, tokens.length], "int32"), start).dataSync() as Float32Array)
      return { start, length: tokens.length, dim, data: Float32Array.from(data) }
    },
    head: (x) => tf.tidy(() => Float32Array.from(part.head(toTensor(x)).dataSync() as Float32Array)),
  }
}

/**
 * Loads blocks `from..to` of the checkpoint in `dir` (and `embed` when from = 0, `head` when to is the
 * last block), reading only those sections' bytes: what a node serving that range holds.
 */
export function loadStage(dir: string, from: number, to: number): Stage {
  const names = [
    ...(from === 0 ? ["embed"] : []),
    ...Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => blockSection(from + i)),
  ]
  if (to === readSections(dir, []).file.model.blocks - 1) names.push("head")
  const { file, weights } = readSections(dir, names)
  return makeStage(makeGptPart(file.model, weights), from, to)
}
