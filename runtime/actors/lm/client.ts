/**
 * The client of pipeline inference (Petals-style): it finds the servers of every block range in the
 * DHT (`lm/blocks/<from>-<to>`), builds a route over blocks 0..N-1 by measured latency and load
 * (runtime/core/lm/pipeline.ts `planRoute`, the market's `chooseProvider`), opens a session with each
 * stage and decodes greedily, one token per step: tokens to the first stage, activations from stage
 * to stage, the last stage's logits back.
 *
 * Failover: the client keeps every input it sent each stage. When a stage fails (no reply in time,
 * an error reply, the peer gone), the client excludes that server, finds another one for the same
 * range, opens a session there, replays the stage's inputs in order to rebuild its attention caches,
 * and sends the input that failed again. Every stage is deterministic on its inputs, so the text is
 * the same as without the failure.
 *
 * The context window: as in the one-process generator (runtime/adapters/tfjs/lm/generate.ts), when
 * the caches hold the whole context the sessions are restarted on the last half of the text.
 *
 * Refuted stages (paid generations with verification, audit.ts): a server a referee found returning
 * wrong outputs is never routed to again by this client (`exclude`, `payment.refuted`), and a generation
 * running through it starts again from the prompt on a route without it (a `restart` event says how many
 * tokens it discards): every token since the first came through its activations, and the client cannot
 * tell which of its outputs were wrong (only the drawn notes are checked), so none is kept.
 *
 * Paid (`payment`, payment.ts): before a session opens at a stage, a market job for that stage is
 * posted and assigned to its server (units: the tokens still to come, plus the inputs a replacement
 * replays), and the session opens on it; a restart at the context's end reopens on the same jobs.
 */
import { Effect, Result, Schema } from "effect"
import { ENTRY_END } from "../../core/lm/corpus.ts"
import { blockRanges, planRoute, type RangeCandidates, type RouteStage } from "../../core/lm/pipeline.ts"
import { argmax } from "../../core/lm/sampling.ts"
import { encode } from "../../core/lm/tokenizer.ts"
import { type ClientMessage, decodeClientMessage, encodeServerMessage, LM_CLIENT_TOPIC, LM_SERVER_TOPIC, lmBlocksKey, type LmInput, MAX_LM_MESSAGE_BYTES } from "../../core/lm/wire.ts"
import { chooseProvider, LatencyEstimator } from "../../core/market/routing.ts"
import { randomInt } from "../market/context.ts"
import { type LmContext, randomHex, sendQuietly } from "./context.ts"
import type { ForwardShape } from "./audit.ts"

export class LmPipelineError extends Schema.TaggedError<LmPipelineError>()("LmPipelineError", {
  reason: Schema.String,
}) {}

/** One stage failing a request: why (the client then fails over). */
class StageFailure extends Schema.TaggedError<StageFailure>()("StageFailure", {
  peer: Schema.String,
  reason: Schema.String,
}) {}

/** How a paid generation pays its stages (payment.ts `makeLmPayer`). */
export interface LmPayment {
  /** A job paying `units` tokens of blocks from..to at `peer`, posted and assigned to it. `stage`: the fault is that server's (try another). */
  readonly job: (stage: { readonly from: number; readonly to: number; readonly peer: string }, units: number) => Effect.Effect<number, LmPaymentError>
  /** One forward of job `job` answered (what its server bills), in session `session`: its input, the output returned and the result's shape and trace leaves (what a note commits to). */
  readonly served?: (job: number, session: string, input: LmInput, output: Float32Array, result?: ForwardShape) => void
  /** Servers a referee found returning wrong outputs (audit.ts): the generation stops using them and restarts without them. */
  readonly refuted?: () => ReadonlySet<string>
}

/** A job that could not be placed; `stage` says the server refused it (another may take it), else the payer cannot pay. */
export class LmPaymentError extends Schema.TaggedError<LmPaymentError>()("LmPaymentError", {
  reason: Schema.String,
  stage: Schema.Boolean,
}) {}

/** What the client reports as it goes (for a CLI, a TUI, a test). */
export type PipelineEvent =
  | { readonly kind: "job"; readonly from: number; readonly to: number; readonly peer: string; readonly job: number; readonly units: number }
  | { readonly kind: "route"; readonly stages: ReadonlyArray<{ readonly from: number; readonly to: number; readonly peer: string }> }
  | { readonly kind: "failover"; readonly from: number; readonly to: number; readonly failed: string; readonly replacement: string; readonly reason: string; readonly replayed: number }
  /** A stage of the route was refuted: the tokens so far are discarded and the generation starts again from the prompt on a route without it. */
  | { readonly kind: "restart"; readonly from: number; readonly to: number; readonly refuted: string; readonly discarded: number }

export interface PipelineGenerateOptions {
  /** The model's shape (from the checkpoint's config; the client holds no weights). */
  readonly blocks: number
  readonly contextLength: number
  readonly vocabSize: number
  /** Token ids to continue (at least one). */
  readonly context: readonly number[]
  readonly maxTokens: number
  /** Stop after the model ends the entry it writes (the corpus's `\n%\n`). */
  readonly stopAtEntryEnd?: boolean
  /** Give up on one request to a stage after this long and fail over. Default 10 s. */
  readonly timeoutMs?: number
  /** Most failovers in one generation before giving up. Default 8. */
  readonly maxFailovers?: number
  /** Measured latency of servers (shared across generations to learn). Default: a fresh one. */
  readonly latency?: LatencyEstimator
  /** Hears each token; a returned promise holds the next step until it settles (a slow consumer sets the pace). */
  readonly onToken?: (token: number) => void | Promise<void>
  readonly onEvent?: (event: PipelineEvent) => void
  /** Pay every stage per token through the market (default: unpaid sessions). */
  readonly payment?: LmPayment
  /** Servers never to route to (read at every step: refuted in an earlier generation of this client). */
  readonly exclude?: ReadonlySet<string>
}

export interface PipelineGeneration {
  readonly tokens: readonly number[]
  /** The route at the end (after any failover). */
  readonly route: ReadonlyArray<{ readonly from: number; readonly to: number; readonly peer: string }>
  readonly failovers: number
  /** Times the generation started again from the prompt because a stage of its route was refuted. */
  readonly restarts: number
}

/** What a stage is sent: tokens (first stage) or activations. */
type Input = LmInput

interface Hop {
  readonly from: number
  readonly to: number
  peer: string
  load: number
  session: string
  seq: number
  /** Inputs this session has taken, in order (what a replacement replays). */
  inputs: Input[]
  /** The market job paying this hop's sessions (paid generations). */
  job: number | undefined
}

const END = encode(`\n${ENTRY_END}`)
const endsWith = (a: readonly number[], b: readonly number[]): boolean => a.length >= b.length && b.every((t, i) => a[a.length - b.length + i] === t)
const loadOf = (r: RouteStage["provider"]["record"]): number => r.queue / r.capacity

/** Greedy generation through a pipeline of stage servers found on the network. */
export const generateThroughPipeline = (ctx: LmContext, o: PipelineGenerateOptions): Effect.Effect<PipelineGeneration, LmPipelineError> => Effect.gen(function*() {
  if (o.context.length === 0) return yield* new LmPipelineError({ reason: "generation needs at least one context token" })
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 0) return yield* new LmPipelineError({ reason: `maxTokens must be a whole number >= 0, got ${o.maxTokens}` })
  const timeoutMs = o.timeoutMs ?? 10_000
  const maxFailovers = o.maxFailovers ?? 8
  const latency = o.latency ?? new LatencyEstimator()
  const random = { int: (n: number) => randomInt(ctx, n) }
  const emit = (e: PipelineEvent) => o.onEvent?.(e)

  // Replies, by `<peer>/<session>/<seq|open>`: a reply nobody waits for (a stale one after failover) is dropped.
  const pending = new Map<string, (m: ClientMessage) => void>()
  const unsubscribe = yield* ctx.network.subscribe(LM_CLIENT_TOPIC, (env) => {
    const d = decodeClientMessage(env.data)
    if (Result.isFailure(d)) return ctx.fault(env.from, d.failure)
    const m = d.success
    const tail = m.t === "opened" || (m.t === "error" && m.seq === undefined) ? "open" : String(m.seq)
    pending.get(`${env.from}/${m.session}/${tail}`)?.(m)
  }, { maxBytes: MAX_LM_MESSAGE_BYTES })

  /** Send `data` to `peer` and wait for the reply under `key` (an error reply, a failed send or the deadline fail). */
  const request = (peer: string, key: string, data: Uint8Array): Effect.Effect<ClientMessage, StageFailure> =>
    Effect.callback<ClientMessage, StageFailure>((resume) => {
      const done = (e: Effect.Effect<ClientMessage, StageFailure>) => {
        ctx.clock.clearTimeout(timer)
        pending.delete(key)
        resume(e)
      }
      const timer = ctx.clock.setTimeout(() => done(Effect.fail(new StageFailure({ peer, reason: `no reply within ${timeoutMs} ms` }))), timeoutMs)
      pending.set(key, (m) => done(m.t === "error" ? Effect.fail(new StageFailure({ peer, reason: m.message })) : Effect.succeed(m)))
      ctx.run(Effect.catch(ctx.network.send(peer, LM_SERVER_TOPIC, data), (e) => Effect.sync(() => done(Effect.fail(new StageFailure({ peer, reason: `cannot reach it: ${e.reason}` }))))))
      return Effect.sync(() => {
        ctx.clock.clearTimeout(timer)
        pending.delete(key)
      })
    })

  /** A new job for `hop` at its current server (paid generations), paying `units` tokens. */
  const pay = (hop: Hop, units: number): Effect.Effect<void, StageFailure | LmPipelineError> => Effect.gen(function*() {
    if (o.payment === undefined) return
    const r = yield* Effect.result(o.payment.job({ from: hop.from, to: hop.to, peer: hop.peer }, units))
    if (Result.isFailure(r)) {
      return yield* (r.failure.stage ? new StageFailure({ peer: hop.peer, reason: `payment: ${r.failure.reason}` }) : new LmPipelineError({ reason: `cannot pay blocks ${hop.from}-${hop.to}: ${r.failure.reason}` }))
    }
    hop.job = r.success
    emit({ kind: "job", from: hop.from, to: hop.to, peer: hop.peer, job: r.success, units })
  })

  const openSession = (hop: Hop): Effect.Effect<void, StageFailure> => Effect.gen(function*() {
    hop.session = randomHex(ctx, 8)
    hop.seq = 0
    hop.inputs = []
    const m = yield* request(hop.peer, `${hop.peer}/${hop.session}/open`, encodeServerMessage({ v: 1, t: "open", session: hop.session, from: hop.from, to: hop.to, ...(hop.job === undefined ? {} : { job: hop.job }) }))
    if (m.t !== "opened") return yield* new StageFailure({ peer: hop.peer, reason: `answered ${m.t} to open` })
  })

  /** One forward through `hop`; checks the reply is what this stage must return. */
  const forward = (hop: Hop, x: Input, last: boolean): Effect.Effect<Extract<ClientMessage, { t: "result" }>, StageFailure> => Effect.gen(function*() {
    const seq = hop.seq++
    const started = ctx.now()
    const m = yield* request(hop.peer, `${hop.peer}/${hop.session}/${seq}`, encodeServerMessage({ v: 1, t: "forward", session: hop.session, seq, ...x }))
    if (m.t !== "result") return yield* new StageFailure({ peer: hop.peer, reason: `answered ${m.t} to forward` })
    const shapeOk = last
      ? m.output === "logits" && m.length === 1 && m.dim === o.vocabSize && m.start === x.start + x.length - 1
      : m.output === "activations" && m.length === x.length && m.start === x.start
    if (!shapeOk) {
      ctx.fault(hop.peer, `lm result of the wrong shape: ${m.output} ${m.length} × ${m.dim} from ${m.start}`)
      return yield* new StageFailure({ peer: hop.peer, reason: `returned ${m.output} ${m.length} × ${m.dim} from position ${m.start}` })
    }
    latency.observe(hop.peer, ctx.now() - started, 1, hop.load)
    hop.inputs.push(x)
    if (hop.job !== undefined) o.payment?.served?.(hop.job, hop.session, x, m.data, { start: m.start, length: m.length, dim: m.dim, output: m.output, ...(m.trace === undefined ? {} : { trace: m.trace }) })
    return m
  })

  const failed = new Set<string>()
  /** A server refuted by a referee (this generation's payer, or an earlier one of this client). */
  const refuted = (peer: string) => (o.exclude?.has(peer) ?? false) || (o.payment?.refuted?.().has(peer) ?? false)
  let failovers = 0
  let restarts = 0
  // Tokens generated so far (a replacement's job pays for the tokens still to come).
  let produced = 0

  /** Replace `hop`'s server by another of its range and replay its inputs there. */
  const failOver = (hop: Hop, why: StageFailure): Effect.Effect<void, LmPipelineError> => Effect.gen(function*() {
    for (;;) {
      failed.add(hop.peer)
      for (const p of o.exclude ?? []) failed.add(p)
      for (const p of o.payment?.refuted?.() ?? []) failed.add(p)
      if (++failovers > maxFailovers) return yield* new LmPipelineError({ reason: `gave up after ${maxFailovers} failovers; last: blocks ${hop.from}-${hop.to} at ${hop.peer}: ${why.reason}` })
      const found = yield* Effect.orElseSucceed(ctx.network.findProviders(lmBlocksKey(hop.from, hop.to)), () => [])
      const choice = chooseProvider(found, { units: 1, maxPricePerUnit: found.reduce((m, c) => (c.record.pricePerUnit > m ? c.record.pricePerUnit : m), 0n), exclude: failed }, latency, random, { priceWeight: 0 })
      if (!choice.ok) return yield* new LmPipelineError({ reason: `blocks ${hop.from}-${hop.to} failed at ${hop.peer} (${why.reason}) and no other server holds them: ${choice.reason}` })
      const replay = hop.inputs
      const failedPeer = hop.peer
      hop.peer = choice.provider.peer
      hop.load = loadOf(choice.provider.record)
      const rebuilt = yield* Effect.result(Effect.gen(function*() {
        yield* pay(hop, o.maxTokens - produced + replay.length)
        yield* openSession(hop)
        for (const x of replay) yield* forward(hop, x, hop.to === o.blocks - 1)
      }))
      if (Result.isSuccess(rebuilt)) {
        emit({ kind: "failover", from: hop.from, to: hop.to, failed: failedPeer, replacement: hop.peer, reason: why.reason, replayed: replay.length })
        ctx.emit("lm.client.failover", { from: hop.from, to: hop.to, failed: failedPeer, replacement: hop.peer, reason: why.reason, replayed: replay.length })
        return
      }
      hop.inputs = replay // the next replacement replays the same inputs
      if (rebuilt.failure._tag === "LmPipelineError") return yield* rebuilt.failure
      why = rebuilt.failure
    }
  })

  /** `x` through every hop, failing over where a stage fails; the last stage's logits. */
  const through = (hops: readonly Hop[], x: Input): Effect.Effect<Float32Array, LmPipelineError> => Effect.gen(function*() {
    let cur = x
    for (const [i, hop] of hops.entries()) {
      const last = i === hops.length - 1
      for (;;) {
        const r = yield* Effect.result(forward(hop, cur, last))
        if (Result.isSuccess(r)) {
          cur = { start: r.success.start, length: r.success.length, dim: r.success.dim, input: "activations", data: r.success.data }
          break
        }
        yield* failOver(hop, r.failure)
      }
    }
    return cur.data as Float32Array
  })

  /** Open a session at every hop (failing over where one cannot be opened); `fresh`: each on a new job (paid). */
  const openAll = (hops: readonly Hop[], fresh: boolean): Effect.Effect<void, LmPipelineError> => Effect.gen(function*() {
    for (const hop of hops) {
      const r = yield* Effect.result(Effect.andThen(fresh ? pay(hop, o.maxTokens - produced) : Effect.void, openSession(hop)))
      if (Result.isFailure(r)) {
        if (r.failure._tag === "LmPipelineError") return yield* r.failure
        yield* failOver(hop, r.failure)
      }
    }
  })
  const closeAll = (hops: readonly Hop[]) => {
    for (const hop of hops) if (hop.session !== "") sendQuietly(ctx, hop.peer, LM_SERVER_TOPIC, encodeServerMessage({ v: 1, t: "close", session: hop.session }))
  }

  const hops: Hop[] = []
  return yield* Effect.gen(function*() {
    // Discovery: every range's servers, then the route.
    const ranges: RangeCandidates[] = yield* Effect.forEach(blockRanges(o.blocks), ([from, to]) =>
      Effect.map(Effect.orElseSucceed(ctx.network.findProviders(lmBlocksKey(from, to)), () => []), (found) => ({ from, to, candidates: found.filter((c) => !refuted(c.peer)) })), { concurrency: "unbounded" })
    const route = planRoute(o.blocks, ranges, latency, random)
    if (!route.ok) return yield* new LmPipelineError({ reason: route.reason })
    for (const s of route.stages) hops.push({ from: s.from, to: s.to, peer: s.provider.peer, load: loadOf(s.provider.record), session: "", seq: 0, inputs: [], job: undefined })
    emit({ kind: "route", stages: hops.map((h) => ({ from: h.from, to: h.to, peer: h.peer })) })
    yield* openAll(hops, true)

    const n = o.contextLength
    const text = o.context.slice(-n)
    const out: number[] = []
    let input: number[] = [...text]
    let position = 0
    for (let i = 0; i < o.maxTokens; i++) {
      const bad = hops.filter((h) => refuted(h.peer))
      if (bad.length > 0) {
        // Wrong activations went into every token so far (and into the later stages' caches): start again from the prompt without the refuted servers.
        const discarded = out.length
        closeAll(hops)
        restarts++
        out.length = 0
        produced = 0
        text.length = 0
        text.push(...o.context.slice(-n))
        input = [...text]
        position = 0
        i = 0
        for (const hop of bad) {
          emit({ kind: "restart", from: hop.from, to: hop.to, refuted: hop.peer, discarded })
          ctx.emit("lm.client.restart", { from: hop.from, to: hop.to, refuted: hop.peer, discarded })
          hop.inputs = [] // nothing to replay: the replacement starts on the prompt with the others
          yield* failOver(hop, new StageFailure({ peer: hop.peer, reason: "a referee refuted its note" }))
        }
        yield* openAll(hops.filter((h) => !bad.includes(h)), true)
      }
      const logits = yield* through(hops, { start: position, length: input.length, dim: 1, input: "tokens", data: Int32Array.from(input) })
      const t = argmax(logits)
      out.push(t)
      produced = out.length
      text.push(t)
      const held = o.onToken?.(t)
      if (held instanceof Promise) yield* Effect.promise(() => held)
      if (o.stopAtEntryEnd === true && endsWith(text, END)) break
      if (i + 1 === o.maxTokens) break
      position += input.length
      if (position >= n) {
        // The caches hold the whole context: start again on the last half of the text.
        closeAll(hops)
        yield* openAll(hops, false)
        input = text.slice(-Math.floor(n / 2))
        position = 0
      } else {
        input = [t]
      }
    }
    return { tokens: out, route: hops.map((h) => ({ from: h.from, to: h.to, peer: h.peer })), failovers, restarts }
  }).pipe(Effect.ensuring(Effect.andThen(Effect.sync(() => closeAll(hops)), unsubscribe)))
})
