/**
 * The GPT of core/lm/config.ts on TensorFlow.js, cut where a pipeline cuts it: `embed(tokens)`,
 * `block(i)(activations, cache?)` and `head(activations)` each use only their own section's
 * weights, so a node can hold any range of blocks (a `GptPart`) and the whole model's forward is
 * literally embed → block 0 → … → block N-1 → head.
 *
 * Activations are [batch, time, dim] float32 tensors (the residual stream). A `KvCache` holds one
 * block's attention keys and values for one session: a block called with a cache attends to the
 * cached positions plus the new ones, then appends the new keys and values, so decoding one token at
 * a time costs one token's work per step instead of recomputing the prefix.
 *
 * No op here needs a kernel the wasm backend lacks: the embedding's gradient is a one-hot matMul
 * (tfjs's gather gradient needs UnsortedSegmentSum, which tfjs-backend-wasm does not have).
 */
import * as tf from "@tensorflow/tfjs"
import { blockSection, type LmConfig, type LmSection, sections } from "../../../core/lm/config.ts"

/** One block's attention keys and values for one session ([batch, heads, length, dim/heads] each). */
export interface KvCache {
  k: tf.Tensor4D | undefined
  v: tf.Tensor4D | undefined
  /** Number of positions cached (the position of the next token). */
  length: number
}

/** An empty cache (a new session). */
export const emptyCache = (): KvCache => ({ k: undefined, v: undefined, length: 0 })

/** Frees a cache's tensors and empties it. */
export const disposeCache = (c: KvCache): void => {
  c.k?.dispose()
  c.v?.dispose()
  c.k = undefined
  c.v = undefined
  c.length = 0
}

/** One block as a function: new activations from activations, with the session's cache when decoding incrementally. */
export type BlockFn = (x: tf.Tensor3D, cache?: KvCache) => tf.Tensor3D

/** Some sections of a GPT on the active backend. */
export interface GptPart {
  readonly config: LmConfig
  /** The sections held, in flat-weight order (`embed`, `block/<i>`, `head`). */
  readonly held: readonly string[]
  /** Activations [B, T, dim] of tokens [B, T] (int32) at positions start..start+T-1. Needs `embed`. */
  embed(tokens: tf.Tensor2D, start?: number): tf.Tensor3D
  /** Block `i` (needs `block/<i>`). */
  block(i: number): BlockFn
  /** Logits [B, T, vocab] of the last block's activations. Needs `head`. */
  head(x: tf.Tensor3D): tf.Tensor3D
  /** The trainable variables, in flat-weight order. */
  readonly variables: readonly tf.Variable[]
  /** The held sections' weights, concatenated in flat-weight order. */
  getWeights(): Float32Array
  /** Overwrites the held sections' weights (a vector as getWeights returns). */
  setWeights(flat: Float32Array): void
  dispose(): void
}

/** The whole model: every section, and the full forward. */
export interface Gpt extends GptPart {
  /** Logits [B, T, vocab] of tokens [B, T] from position `start`, through every block (with one cache per block when given). */
  forward(tokens: tf.Tensor2D, start?: number, caches?: readonly KvCache[]): tf.Tensor3D
}

const LN_EPS = 1e-5

const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const mean = tf.mean(x, -1, true)
  const xc = tf.sub(x, mean)
  const variance = tf.mean(tf.square(xc), -1, true)
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, LN_EPS))), g), b)
}

const GELU_C = Math.sqrt(2 / Math.PI)

/** GELU, tanh approximation (as GPT-2). */
const gelu = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C))))

/** Swaps the last two axes. */
const transposeLast = (t: tf.Tensor): tf.Tensor => {
  const r = t.rank
  return tf.transpose(t, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2])
}

/**
 * a · b (batched over leading axes) whose gradients multiply explicitly transposed operands: tfjs's
 * own gradient calls matMul with transposeA/transposeB, which the wasm backend runs 10–50× slower
 * than a transpose followed by a plain matMul (measured on this model's shapes).
 */
const mm = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
    save([x, y])
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sy] = saved as [tf.Tensor, tf.Tensor]
        return [tf.matMul(dy, transposeLast(sy)), tf.matMul(transposeLast(sx), dy)]
      },
    }
  })
  return op(a, b)
}

/** x [..., in] · w [in, out] + b. */
const linear = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const shape = x.shape
  const inDim = shape[shape.length - 1]!
  const y = tf.add(mm(tf.reshape(x, [-1, inDim]), w), b)
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1]!])
}

/** Rows of `table` [V, C] for `ids` [N], with a one-hot matMul gradient (see the file's doc). */
const lookup = (table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D => {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc]
    save([ids]) // kept for the backward pass: the caller's tidy disposes `ids` before it runs
    const vocab = t.shape[0]
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(tf.transpose(tf.oneHot(saved[0] as tf.Tensor1D, vocab).toFloat()), dy as tf.Tensor2D)],
    }
  })
  return op(table) as tf.Tensor2D
}

/** Additive causal mask [T, P+T]: query j (at position P+j) sees keys 0..P+j. */
const causalMask = (past: number, t: number): tf.Tensor2D => {
  const total = past + t
  const m = new Float32Array(t * total)
  for (let j = 0; j < t; j++) for (let k = past + j + 1; k < total; k++) m[j * total + k] = -1e9
  return tf.tensor2d(m, [t, total])
}

const buildBlock = (config: LmConfig, w: readonly tf.Variable[]): BlockFn => {
  const [ln1g, ln1b, qkvW, qkvB, projW, projB, ln2g, ln2b, fcW, fcB, outW, outB] = w as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable]
  const H = config.heads
  const C = config.dim
  const d = C / H
  const scale = 1 / Math.sqrt(d)
  return (x, cache) => {
    const [B, T] = x.shape
    const past = cache?.length ?? 0
    if (past + T > config.contextLength) throw new RangeError(`positions ${past}..${past + T - 1} exceed the model's context of ${config.contextLength} tokens`)
    const attended = tf.tidy(() => {
      const qkv = linear(layerNorm(x, ln1g, ln1b), qkvW, qkvB)
      const heads = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [B, T, H, d]), [0, 2, 1, 3]) as tf.Tensor4D
      const [q, kNew, vNew] = tf.split(qkv, 3, -1).map(heads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]
      let k = kNew
      let v = vNew
      if (cache !== undefined) {
        if (cache.k !== undefined && cache.v !== undefined) {
          k = tf.concat([cache.k, kNew], 2)
          v = tf.concat([cache.v, vNew], 2)
        }
        cache.k?.dispose()
        cache.v?.dispose()
        cache.k = tf.keep(k)
        cache.v = tf.keep(v)
        cache.length = past + T
      }
      const scores = tf.add(tf.mul(mm(q, transposeLast(k)), scale), causalMask(past, T))
      const y = mm(tf.softmax(scores), v) // [B, H, T, d]
      const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C])
      return tf.add(x, linear(merged, projW, projB))
    })
    return tf.tidy(() => {
      const h = gelu(linear(layerNorm(attended, ln2g, ln2b), fcW, fcB))
      const out = tf.add(attended, linear(h, outW, outB)) as tf.Tensor3D
      attended.dispose()
      return out
    })
  }
}

/**
 * Creates the sections named in `weights` (section name → its floats) on the active backend.
 * Every section named must be one of the config's; the part can run only what it holds.
 */
export function makeGptPart(config: LmConfig, weights: ReadonlyMap<string, Float32Array>): GptPart {
  const all = sections(config)
  for (const name of weights.keys()) if (!all.some((s) => s.name === name)) throw new RangeError(`the model has no weight section ${JSON.stringify(name)}`)
  const held: LmSection[] = all.filter((s) => weights.has(s.name))
  const vars = new Map<string, tf.Variable[]>()
  for (const s of held) {
    const flat = weights.get(s.name)!
    if (flat.length !== s.size) throw new RangeError(`section ${s.name} has ${s.size} weights, got ${flat.length}`)
    let at = 0
    vars.set(
      s.name,
      s.params.map((p) => {
        // A copy: on the cpu backend a tensor may keep the caller's array as its storage.
        const v = tf.tidy(() => tf.variable(tf.tensor(flat.slice(at, at + p.size), [...p.shape]), true, `${s.name}/${p.name}/${nextId++}`))
        at += p.size
        return v
      }),
    )
  }
  const need = (name: string): tf.Variable[] => {
    const v = vars.get(name)
    if (v === undefined) throw new RangeError(`this part of the model does not hold section ${name} (it holds ${held.map((s) => s.name).join(", ") || "nothing"})`)
    return v
  }
  const blocks = new Map<number, BlockFn>()
  const variables = held.flatMap((s) => vars.get(s.name)!)
  return {
    config,
    held: held.map((s) => s.name),
    embed: (tokens, start = 0) => {
      const [wte, wpe] = need("embed") as [tf.Variable, tf.Variable]
      const [B, T] = tokens.shape
      if (start < 0 || start + T > config.contextLength) throw new RangeError(`positions ${start}..${start + T - 1} exceed the model's context of ${config.contextLength} tokens`)
      return tf.tidy(() => {
        const tok = tf.reshape(lookup(wte as tf.Tensor2D, tf.reshape(tokens, [-1]).toInt() as tf.Tensor1D), [B, T, config.dim])
        const pos = tf.slice(wpe, [start, 0], [T, config.dim])
        return tf.add(tok, pos) as tf.Tensor3D
      })
    },
    block: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= config.blocks) throw new RangeError(`block ${i} does not exist (the model has blocks 0..${config.blocks - 1})`)
      let fn = blocks.get(i)
      if (fn === undefined) {
        fn = buildBlock(config, need(blockSection(i)))
        blocks.set(i, fn)
      }
      return fn
    },
    head: (x) => {
      const [g, b, w, bias] = need("head") as [tf.Variable, tf.Variable, tf.Variable, tf.Variable]
      return tf.tidy(() => linear(layerNorm(x, g, b), w, bias) as tf.Tensor3D)
    },
    variables,
    getWeights: () => {
      const out = new Float32Array(held.reduce((t, s) => t + s.size, 0))
      let o = 0
      for (const v of variables) {
        const d = v.dataSync() as Float32Array
        out.set(d, o)
        o += d.length
      }
      return out
    },
    setWeights: (flat) => {
      const size = held.reduce((t, s) => t + s.size, 0)
      if (flat.length !== size) throw new RangeError(`this part holds ${size} weights, got ${flat.length}`)
      let o = 0
      for (const v of variables) {
        const t = tf.tensor(flat.slice(o, o + v.size), v.shape)
        v.assign(t)
        t.dispose()
        o += v.size
      }
    },
    dispose: () => variables.forEach((v) => v.dispose()),
  }
}

let nextId = 0

/** The whole model from its flat weights (as core/lm/config.ts's initialWeights or a checkpoint gives them). */
export function makeGpt(config: LmConfig, flat: Float32Array): Gpt {
  const all = sections(config)
  const total = all.reduce((t, s) => t + s.size, 0)
  if (flat.length !== total) throw new RangeError(`the model has ${total} weights, got ${flat.length}`)
  const part = makeGptPart(config, new Map(all.map((s) => [s.name, flat.subarray(s.offset, s.offset + s.size)])))
  return {
    ...part,
    forward: (tokens, start = 0, caches) => {
      if (caches !== undefined && caches.length !== config.blocks) throw new RangeError(`forward needs one cache per block (${config.blocks}), got ${caches.length}`)
      let x = part.embed(tokens, start)
      for (let i = 0; i < config.blocks; i++) {
        const next = part.block(i)(x, caches?.[i])
        x.dispose()
        x = next
      }
      const logits = part.head(x)
      x.dispose()
      return logits
    },
  }
}

/** Mean cross-entropy (nats per token) of `logits` [B, T, V] against `targets` [B, T] (call inside tf.tidy). */
export const crossEntropy = (logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar => {
  const V = logits.shape[2]
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, V]) as tf.Tensor2D)
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.reshape(targets, [-1]).toInt() as tf.Tensor1D, V)), -1)
  return tf.neg(tf.mean(picked)) as tf.Scalar
}
