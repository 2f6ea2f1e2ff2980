/**
 * The shape of the GPT (decoder-only transformer, Radford et al. 2019) and the layout of its weights.
 *
 * The weights are cut into sections that a node can hold separately: `embed` (token and position
 * embeddings), `block/0` … `block/N-1` (each: layer norm, causal self-attention, layer norm, MLP,
 * with its own weights), and `head` (final layer norm and the projection to token logits). The flat
 * weight vector (and the checkpoint's weights file) is the sections in that order, each tensor
 * row-major, so the weights of a range of blocks are one contiguous slice.
 */
import { Schema } from "effect"

/** The hyper-parameters that fix the model's shape. */
export const LmConfig = Schema.Struct({
  /** Number of token ids (256 for the byte-level tokenizer). */
  vocabSize: Schema.Int,
  /** Longest sequence (prompt + generated tokens) the position embedding covers. */
  contextLength: Schema.Int,
  /** Width of the residual stream (the activations between blocks). */
  dim: Schema.Int,
  /** Attention heads per block (dim must be a multiple). */
  heads: Schema.Int,
  /** Number of transformer blocks. */
  blocks: Schema.Int,
  /** Width of each block's MLP hidden layer (4 × dim in GPT-2). */
  hidden: Schema.Int,
})
export type LmConfig = typeof LmConfig.Type

/** One parameter tensor of a section. */
export interface LmParam {
  /** Name inside its section, e.g. `attn.qkv.w`. */
  readonly name: string
  readonly shape: readonly number[]
  readonly size: number
  /** How it starts: N(0, std²), ones (layer-norm gains) or zeros (biases). */
  readonly init: { readonly kind: "normal"; readonly std: number } | { readonly kind: "ones" } | { readonly kind: "zeros" }
}

/** A section of the weights: `embed`, `block/<i>` or `head`. */
export interface LmSection {
  readonly name: string
  readonly params: readonly LmParam[]
  /** Offset of its first float in the flat weight vector. */
  readonly offset: number
  /** Number of floats. */
  readonly size: number
}

/** Why a config cannot describe a model. */
export const configProblem = (c: LmConfig): string | undefined => {
  for (const k of ["vocabSize", "contextLength", "dim", "heads", "blocks", "hidden"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) return `${k} must be a positive integer, got ${c[k]}`
  }
  if (c.dim % c.heads !== 0) return `dim (${c.dim}) must be a multiple of heads (${c.heads})`
  return undefined
}

const STD = 0.02

const param = (name: string, shape: number[], init: LmParam["init"]): LmParam => ({ name, shape, size: shape.reduce((a, b) => a * b, 1), init })

/**
 * The sections in flat-weight order. Initialization follows GPT-2: N(0, 0.02²) weights, the two
 * projections that write into the residual stream scaled by 1/√(2·blocks), unit layer-norm gains.
 */
export function sections(c: LmConfig): readonly LmSection[] {
  const problem = configProblem(c)
  if (problem !== undefined) throw new RangeError(`invalid language-model config: ${problem}`)
  const { vocabSize: V, contextLength: T, dim: C, hidden: H } = c
  const residual = { kind: "normal", std: STD / Math.sqrt(2 * c.blocks) } as const
  const normal = { kind: "normal", std: STD } as const
  const ones = { kind: "ones" } as const
  const zeros = { kind: "zeros" } as const
  const block = [
    param("ln1.g", [C], ones),
    param("ln1.b", [C], zeros),
    param("attn.qkv.w", [C, 3 * C], normal),
    param("attn.qkv.b", [3 * C], zeros),
    param("attn.proj.w", [C, C], residual),
    param("attn.proj.b", [C], zeros),
    param("ln2.g", [C], ones),
    param("ln2.b", [C], zeros),
    param("mlp.fc.w", [C, H], normal),
    param("mlp.fc.b", [H], zeros),
    param("mlp.proj.w", [H, C], residual),
    param("mlp.proj.b", [C], zeros),
  ]
  const parts: [string, LmParam[]][] = [
    ["embed", [param("wte", [V, C], normal), param("wpe", [T, C], normal)]],
    ...Array.from({ length: c.blocks }, (_, i): [string, LmParam[]] => [blockSection(i), block]),
    ["head", [param("lnf.g", [C], ones), param("lnf.b", [C], zeros), param("out.w", [C, V], normal), param("out.b", [V], zeros)]],
  ]
  let offset = 0
  return parts.map(([name, params]) => {
    const size = params.reduce((t, p) => t + p.size, 0)
    const s = { name, params, offset, size }
    offset += size
    return s
  })
}

/** The name of block `i`'s section. */
export const blockSection = (i: number): string => `block/${i}`

/** Number of parameters (the flat weight vector's length). */
export const paramCount = (c: LmConfig): number => sections(c).reduce((t, s) => t + s.size, 0)

/** The section called `name`; RangeError if the model has none. */
export const section = (c: LmConfig, name: string): LmSection => {
  const s = sections(c).find((x) => x.name === name)
  if (s === undefined) throw new RangeError(`the model has no weight section ${JSON.stringify(name)} (it has embed, block/0..block/${c.blocks - 1}, head)`)
  return s
}

/**
 * The seeded initial weights, flat. `normal` draws standard normals (Box–Muller over a uniform
 * stream) so the weights are a pure function of the seed, the same on every backend.
 */
export function initialWeights(c: LmConfig, uniform: () => number): Float32Array {
  const out = new Float32Array(paramCount(c))
  let spare: number | undefined
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare
      spare = undefined
      return s
    }
    const u = 1 - uniform() // (0, 1]: log is finite
    const r = Math.sqrt(-2 * Math.log(u))
    const a = 2 * Math.PI * uniform()
    spare = r * Math.sin(a)
    return r * Math.cos(a)
  }
  for (const s of sections(c)) {
    let at = s.offset
    for (const p of s.params) {
      const init = p.init
      if (init.kind === "ones") out.fill(1, at, at + p.size)
      else if (init.kind === "normal") for (let i = 0; i < p.size; i++) out[at + i] = normal() * init.std
      at += p.size
    }
  }
  return out
}
