/**
 * Pipeline inference, the pure parts: what a stage server computes with (a `PipelineStage`, which the
 * tfjs adapter implements), and how a client chains servers into a route covering every block.
 *
 * Route: among the servers found for each announced block range, one per range is chosen by the
 * market's policy (`chooseProvider`: power of two choices by measured latency and load, never a
 * server excluded for failing); then the cheapest chain of ranges from block 0 to the last is taken
 * (a shortest path over block boundaries, each hop costing its chosen server's expected time per
 * step). Fewer, faster hops win: each hop is a round trip per token, as in Petals.
 */
import { type Candidate, chooseProvider, type LatencyEstimator, type RandomSource } from "../market/routing.ts"

/** Activations of consecutive positions of one sequence: `length` rows of `dim` floats, row-major. */
export interface Activations {
  readonly start: number
  readonly length: number
  readonly dim: number
  readonly data: Float32Array
}

/** One session with a stage: its blocks' attention caches for one sequence. */
export interface PipelineSession {
  /** Positions seen (the next `start` accepted). */
  readonly position: number
  /** Runs the stage's blocks on the next positions; throws a RangeError on activations out of order or of the wrong shape. */
  forward(x: Activations): Activations
  /**
   * As `forward`, returning every block's output in order (the last is `forward`'s): what a paid
   * stage's note commits to block by block (core/lm/trace.ts). Absent: the stage cannot trace.
   */
  forwardTrace?(x: Activations): Activations[]
  close(): void
}

/** What a stage server holds: blocks `from..to`, plus the embedding on the first stage and the head on the last. */
export interface PipelineStage {
  readonly from: number
  readonly to: number
  /** Blocks of the whole model. */
  readonly blocks: number
  readonly dim: number
  readonly vocabSize: number
  readonly contextLength: number
  /** Holds the token embedding (from = 0): takes tokens. */
  readonly embeds: boolean
  /** Holds the head (to = blocks - 1): returns logits. */
  readonly heads: boolean
  /** The TensorFlow.js backend it computes on (its notes commit to it: core/lm/backend.ts); default `cpu`. */
  readonly backend?: string
  openSession(): PipelineSession
  embed(tokens: readonly number[], start: number): Activations
  /** Logits of every row of `x`, row-major [length × vocabSize]. */
  head(x: Activations): Float32Array
}

/** The servers found for one announced range. */
export interface RangeCandidates {
  readonly from: number
  readonly to: number
  readonly candidates: readonly Candidate[]
}

/** One hop of a route. */
export interface RouteStage {
  readonly from: number
  readonly to: number
  readonly provider: Candidate
  readonly expectedMs: number
}

export type Route = { readonly ok: true; readonly stages: readonly RouteStage[] } | { readonly ok: false; readonly reason: string }

/** Every block range of a model of `blocks` blocks (the keys a client looks up). */
export const blockRanges = (blocks: number): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  for (let from = 0; from < blocks; from++) for (let to = from; to < blocks; to++) out.push([from, to])
  return out
}

/** Parses `0-1` (or `2`) into a block range within a model of `blocks` blocks, or says why not. */
export const parseBlockRange = (text: string, blocks: number): { readonly from: number; readonly to: number } | string => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim())
  if (m === null) return `a block range is FROM-TO (e.g. 0-1), got "${text}"`
  const from = Number(m[1])
  const to = Number(m[2] ?? m[1])
  if (to < from) return `block range ${from}-${to} is empty (FROM must be <= TO)`
  if (to >= blocks) return `block range ${from}-${to} is not within the model's blocks 0-${blocks - 1}`
  return { from, to }
}

/**
 * A route over blocks 0..blocks-1: one server per hop chosen by `chooseProvider` among each range's
 * candidates (excluding `exclude`), then the chain of hops with the least expected time per step.
 */
export function planRoute(blocks: number, ranges: readonly RangeCandidates[], latency: LatencyEstimator, random: RandomSource, exclude: ReadonlySet<string> = new Set()): Route {
  const hops: RouteStage[] = []
  for (const r of [...ranges].sort((a, b) => a.from - b.from || a.to - b.to)) {
    if (r.from < 0 || r.to < r.from || r.to >= blocks) continue
    const choice = chooseProvider(r.candidates, { units: 1, maxPricePerUnit: maxPrice(r.candidates), exclude }, latency, random, { priceWeight: 0 })
    if (choice.ok) hops.push({ from: r.from, to: r.to, provider: choice.provider, expectedMs: choice.expectedMs })
  }
  // best[b]: the cheapest chain covering blocks 0..b-1.
  const best: Array<{ readonly cost: number; readonly hops: readonly RouteStage[] } | undefined> = [{ cost: 0, hops: [] }]
  for (let b = 1; b <= blocks; b++) {
    for (const h of hops) {
      const before = best[h.from]
      if (h.to + 1 !== b || before === undefined) continue
      const cost = before.cost + h.expectedMs
      if (best[b] === undefined || cost < best[b]!.cost) best[b] = { cost, hops: [...before.hops, h] }
    }
  }
  const done = best[blocks]
  if (done !== undefined) return { ok: true, stages: done.hops }
  const covered = new Set(hops.flatMap((h) => Array.from({ length: h.to - h.from + 1 }, (_, i) => h.from + i)))
  const missing = Array.from({ length: blocks }, (_, i) => i).filter((i) => !covered.has(i))
  return { ok: false, reason: missing.length > 0 ? `no reachable server holds block${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (servers announce lm/blocks/<from>-<to>)` : "the servers found do not chain from block 0 to the last" }
}

// Price plays no part in the route yet (inference is not paid per token until dai chat): the cap is
// the highest price offered, so no server is left out for its price.
const maxPrice = (cs: readonly Candidate[]): bigint => cs.reduce((m, c) => (c.record.pricePerUnit > m ? c.record.pricePerUnit : m), 0n)
