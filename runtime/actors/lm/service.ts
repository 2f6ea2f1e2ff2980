/**
 * A node's language-model service (issue 14, items 2 and 4 on a real node): it serves the block ranges
 * its account is registered for on the market (`infer:lm/<from>-<to>` kinds: `dai provider start
 * --lm-blocks`), each as a paid stage server, and runs paid generations for the node's API
 * (`POST /generate`), streaming each step as an `lm.generate.*` event through the node's telemetry
 * (runtime/api/generate.ts lists them).
 *
 * Registration: with `serve`, the account registers for that range itself when it is no provider yet
 * (as the devnet's market providers do); otherwise it waits for the ledger to show a registration made
 * through the API, read every `watchMs`. An account registers once: its kinds are fixed then.
 */
import { Effect, Result } from "effect"
import type { PipelineStage } from "../../core/lm/pipeline.ts"
import { ENTRY_END } from "../../core/lm/corpus.ts"
import { encode, streamDecoder } from "../../core/lm/tokenizer.ts"
import { call, reasonOf, type MarketContext } from "../market/context.ts"
import type { LmAuditOptions } from "./audit.ts"
import { generateThroughPipeline } from "./client.ts"
import { randomHex } from "./context.ts"
import { lmJobKind, parseLmJobKind } from "./paid.ts"
import { makeLmPayer, type LmPayer, type PaymentSummary } from "./payment.ts"
import { startStageServer, type StageServer } from "./stage-server.ts"

const MAX_REFUTED = 1_024

export interface LmServiceOptions {
  /** The node's ledger account (pays generations, is paid for stages). */
  readonly account: string
  /** The model's shape (the checkpoint's config). */
  readonly model: { readonly blocks: number; readonly contextLength: number; readonly vocabSize: number }
  /** Loads blocks from..to of the checkpoint (tfjs); freed with `dispose`. */
  readonly loadStage: (from: number, to: number) => PipelineStage & { dispose(): void }
  /** Register for and serve this range when the account is no provider yet. */
  readonly serve?: { readonly from: number; readonly to: number; readonly bond: bigint; readonly pricePerToken: bigint; readonly capacity: number }
  /** How often the ledger is read for this account's registration (ms, default 5000). */
  readonly watchMs?: number
  /** Tokens per debit note (default 8). */
  readonly chunk?: number
  /** A stage's reply time before failing over (ms, default 20 s: a loaded node on a chain is slow). */
  readonly timeoutMs?: number
  /** Paid jobs' deadline (ms, default 120 s) and how often their notes are confirmed (ms, default 2000). */
  readonly deadlineMs?: number
  readonly pollMs?: number
  /** Have a share of the stages' notes re-executed by a referee before paying them (audit.ts; validators must run referee.ts). Default off. */
  readonly verify?: Omit<LmAuditOptions, "account">
}

export interface GenerateParams {
  readonly prompt: string
  readonly maxTokens: number
  readonly maxPricePerToken: bigint
  readonly stop: boolean
}

/** One block range served here. */
export interface ServedRange {
  readonly from: number
  readonly to: number
  readonly sessions: number
  readonly served: number
  readonly billed: number
  readonly delivered: number
}

export interface LmService {
  /** Start a paid generation; its events are `lm.generate.*` with this id; `done` when it has paid. */
  generate(p: GenerateParams): { readonly id: string; readonly done: Promise<{ readonly text: string; readonly tokens: number; readonly summary: PaymentSummary } | { readonly error: string }> }
  readonly served: () => readonly ServedRange[]
  stop(): void
}

/** Start the service on a market context (the node's accounts network and ledger). */
export const startLmService = (ctx: MarketContext, o: LmServiceOptions): LmService => {
  const servers = new Map<string, { readonly server: StageServer; readonly stage: PipelineStage & { dispose(): void } }>()
  const payers = new Set<LmPayer>()
  /** Stage servers a referee refuted in any generation of this node: never routed to again (the newest MAX_REFUTED). */
  const refuted = new Set<string>()
  let stopped = false
  let timer: unknown
  let looking = false

  const serveRange = (from: number, to: number, pricePerToken: bigint, capacity: number) => {
    const key = `${from}-${to}`
    if (servers.has(key) || stopped || to >= o.model.blocks) return
    try {
      const stage = o.loadStage(from, to)
      const server = startStageServer(ctx, { stage, pricePerUnit: pricePerToken, maxSessions: capacity, market: { ctx, account: o.account, ...(o.chunk === undefined ? {} : { chunk: o.chunk }) } })
      servers.set(key, { server, stage })
    } catch (e) {
      ctx.emit("lm.stage.failed", { from, to, reason: e instanceof Error ? e.message : String(e) })
    }
  }

  const look = () => {
    if (looking || stopped) return
    looking = true
    ctx.run(Effect.ensuring(Effect.ignore(Effect.flatMap(ctx.ledger.marketProvider(o.account), (r) => Effect.sync(() => {
      if (r === undefined && o.serve !== undefined) {
        const s = o.serve
        return call(ctx, ctx.ledger.marketOp({ type: "registerProvider", provider: o.account, bond: s.bond, kinds: [lmJobKind(s.from, s.to)], pricePerUnit: s.pricePerToken, capacity: s.capacity }),
          () => serveRange(s.from, s.to, s.pricePerToken, s.capacity), (e) => ctx.emit("lm.stage.register-refused", { reason: reasonOf(e) }))
      }
      if (r === undefined || r.retired) return
      for (const k of r.kinds) {
        const range = parseLmJobKind(k)
        if (range !== undefined) serveRange(range.from, range.to, r.pricePerUnit, r.capacity)
      }
    }))), Effect.sync(() => void (looking = false))))
  }
  const tick = () => {
    if (stopped) return
    look()
    // What this node serves, for the TUI (tokens per second from two of these).
    for (const { server, stage } of servers.values()) {
      ctx.emit("lm.stage.stats", { from: stage.from, to: stage.to, sessions: server.sessions, served: server.served, billed: server.billed, delivered: server.delivered })
    }
    timer = ctx.clock.setTimeout(tick, o.watchMs ?? 5_000)
  }
  tick()

  return {
    generate: (p) => {
      const id = randomHex(ctx, 8)
      const emit = (kind: string, data: Record<string, unknown>) => ctx.emit(`lm.generate.${kind}`, { id, ...data })
      const payer = makeLmPayer(ctx, {
        account: o.account, maxPricePerToken: p.maxPricePerToken, deadlineMs: o.deadlineMs ?? 120_000, pollMs: o.pollMs ?? 2_000, ...(o.verify === undefined ? {} : { verify: o.verify }),
        onRefuted: (peer) => {
          refuted.add(peer)
          if (refuted.size > MAX_REFUTED) refuted.delete(refuted.values().next().value!)
        },
      })
      payers.add(payer)
      const prices = new Map<string, bigint>()
      let decoder = streamDecoder()
      let text = ""
      let index = 0
      const done = new Promise<{ text: string; tokens: number; summary: PaymentSummary } | { error: string }>((resolve) => {
        ctx.run(Effect.gen(function*() {
          emit("started", { prompt: p.prompt, maxTokens: p.maxTokens, maxPricePerToken: String(p.maxPricePerToken) })
          const r = yield* Effect.result(generateThroughPipeline(ctx, {
            ...o.model, context: encode(ENTRY_END + p.prompt), maxTokens: p.maxTokens, stopAtEntryEnd: p.stop, timeoutMs: o.timeoutMs ?? 20_000, payment: payer, exclude: refuted,
            onEvent: (e) => {
              if (e.kind === "route") return emit("route", { stages: e.stages })
              if (e.kind === "restart") {
                // The text so far came through a refuted stage: it is discarded, and the tokens streamed again from the first.
                text = ""
                index = 0
                decoder = streamDecoder()
                return emit("restart", { from: e.from, to: e.to, refuted: e.refuted, discarded: e.discarded })
              }
              if (e.kind === "failover") return emit("failover", { from: e.from, to: e.to, failed: e.failed, replacement: e.replacement, replayed: e.replayed, reason: e.reason })
              const price = payer.jobs().find((j) => j.job === e.job)?.pricePerUnit ?? 0n
              prices.set(`${e.from}-${e.to}`, price)
              emit("job", { from: e.from, to: e.to, peer: e.peer, job: e.job, units: e.units, price: String(price) })
            },
            onToken: (t) => {
              const piece = decoder.push(t)
              text += piece
              emit("token", { index: index++, token: t, text: piece, cost: String([...prices.values()].reduce((a, b) => a + b, 0n)) })
            },
          }))
          const rest = decoder.end()
          text += rest
          const summary = yield* Effect.promise(() => payer.finish())
          const money = { escrowed: String(summary.escrowed), paid: String(summary.paid), returned: String(summary.returned), held: String(summary.held) }
          const stages = summary.jobs.map((j) => ({ from: j.from, to: j.to, peer: j.peer, job: j.job, price: String(j.pricePerUnit), served: j.served, paidUnits: String(j.view?.paidUnits ?? 0n) }))
          if (Result.isFailure(r)) {
            emit("failed", { reason: r.failure.reason, text, ...money, stages })
            return resolve({ error: r.failure.reason })
          }
          emit("done", { tokens: r.success.tokens.length, text, rest, failovers: r.success.failovers, ...money, stages })
          resolve({ text, tokens: r.success.tokens.length, summary })
        }))
      })
      return { id, done }
    },
    served: () => [...servers.values()].map(({ server, stage }) => ({ from: stage.from, to: stage.to, sessions: server.sessions, served: server.served, billed: server.billed, delivered: server.delivered })),
    stop: () => {
      stopped = true
      ctx.clock.clearTimeout(timer)
      for (const { server, stage } of servers.values()) {
        server.stop()
        stage.dispose()
      }
      servers.clear()
      for (const p of payers) p.stop()
    },
  }
}
