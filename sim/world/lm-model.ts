/**
 * The simulator's statistical model of pipeline inference (no tensors): how long a stage server takes
 * for a request, and what it returns, as a digest instead of activations.
 *
 * Time: the per-stage figures of bench/lm-stage.ts, measured on the committed checkpoint
 * (bench/RESULTS.md, "Language model: per-stage time"): for every block range, a prefill of 16 positions
 * in one request and a decode step (one position) as a stage server computes them (embed on the first
 * stage, the blocks with their caches, the head's last row on the last), on the cpu backend `dai lm
 * serve` uses. A request of n positions takes the prefill's time × n / 16 (n > 1) or one decode step
 * (n = 1). A server computes one request at a time (one JavaScript thread): requests queue, so its
 * throughput is 1 / (its time per request) and load shows as waiting. The network between stages is
 * the simulated network's latency (the bench's loopback round trip is not part of a stage's time).
 *
 * Values: a request's input and output are 32-byte digests. The first stage's input digest binds the
 * generation's tokens at those positions; an honest stage's output is `stageOutput(range, input)`,
 * which anyone holding the input recomputes (a referee re-executes that stage alone); a `wrong-stage`
 * server returns something else. The next token is read off the last stage's output digest, so a wrong
 * stage changes the text after it, as wrong activations would.
 */
import { keccak256, toHex } from "../../runtime/core/crypto.ts"

/** One block range's bench figures (ms, the means of bench/lm-stage.ts: a constant service time must carry the mean for the throughput to be right). */
export interface StageFigures {
  /** A prefill of PREFILL_POSITIONS positions in one request. */
  readonly prefillMs: number
  /** One decode step (one position). */
  readonly decodeMs: number
}

/** Positions of the bench's prefill. */
export const PREFILL_POSITIONS = 16

/**
 * bench/lm-stage.ts on this machine (cpu backend, 15 sessions per range, means; the machine was shared,
 * which the long tail of its decode times shows), recorded in bench/RESULTS.md: keyed by block range
 * `from-to` of the committed 4-block checkpoint. The simulator takes each as a constant.
 */
export const LM_STAGE_BENCH: Readonly<Record<string, StageFigures>> = {
  "0-0": { prefillMs: 30.16, decodeMs: 4.58 },
  "0-1": { prefillMs: 51.18, decodeMs: 7.44 },
  "0-2": { prefillMs: 66.01, decodeMs: 9.75 },
  "0-3": { prefillMs: 148.00, decodeMs: 13.29 },
  "1-1": { prefillMs: 18.30, decodeMs: 2.86 },
  "1-2": { prefillMs: 36.73, decodeMs: 5.83 },
  "1-3": { prefillMs: 72.97, decodeMs: 10.95 },
  "2-2": { prefillMs: 21.77, decodeMs: 2.93 },
  "2-3": { prefillMs: 55.51, decodeMs: 7.62 },
  "3-3": { prefillMs: 33.38, decodeMs: 3.58 },
}

/** The bench's figures of blocks `from..to` (a range the bench did not measure is refused). */
export const stageFigures = (from: number, to: number): StageFigures => {
  const f = LM_STAGE_BENCH[`${from}-${to}`]
  if (f === undefined) throw new RangeError(`no bench figure for blocks ${from}-${to} (bench/lm-stage.ts measures the ranges of the 4-block checkpoint)`)
  return f
}

/** Compute time (ms, fractional) of one request of `positions` positions at blocks `from..to`, `factor` times the bench's. */
export const serviceMs = (from: number, to: number, positions: number, factor = 1): number => {
  const f = stageFigures(from, to)
  return factor * (positions === 1 ? f.decodeMs : (f.prefillMs * positions) / PREFILL_POSITIONS)
}

const utf8 = new TextEncoder()
const digest = (s: string): string => toHex(keccak256(utf8.encode(s)))

/** The first stage's input: the generation's tokens at positions start.. (what the embedding reads). */
export const tokensDigest = (generation: string, start: number, tokens: readonly number[]): string => digest(`dai/lm/sim/tokens/v1|${generation}|${start}|${tokens.join(",")}`)

/** What an honest stage holding blocks `from..to` returns for `input`. */
export const stageOutput = (from: number, to: number, input: string): string => digest(`dai/lm/sim/stage/v1|${from}-${to}|${input}`)

/** What a `wrong-stage` server returns instead (no honest execution gives it). */
export const wrongOutput = (from: number, to: number, input: string): string => digest(`dai/lm/sim/wrong/v1|${from}-${to}|${input}`)

/** The token the client reads off the last stage's output (the argmax of the logits it stands for). */
export const tokenOf = (output: string): number => Number.parseInt(output.slice(2, 4), 16)

/** A debit note's result hash: the outputs of the units it bills, in order. */
export const noteHash = (outputs: readonly string[]): string => digest(`dai/lm/sim/note/v1|${outputs.join(",")}`)

/** The job kind of a block range on the ledger (a provider registers the kind of the range it serves). */
export const lmKind = (from: number, to: number): string => `infer:lm/${from}-${to}`

/** The block range of an lm job kind, or undefined. */
export const rangeOfKind = (kind: string): { readonly from: number; readonly to: number } | undefined => {
  const m = /^infer:lm\/(\d+)-(\d+)$/.exec(kind)
  return m === null ? undefined : { from: Number(m[1]), to: Number(m[2]) }
}
