/**
 * A provider's answer to a referee's bisection query about one of its disputed notes (docs/market-verdicts.md):
 * the two children of a node of the note's layer-hash tree (`trace-query`), one layer's activations on the
 * trace topic (`layer-query`), or `trace-none` when it holds no trace of the note. The market's provider
 * (provider.ts) and a paid LM stage (lm/trace-work.ts) both answer with it; which notes they defend is
 * theirs to decide.
 */
import { Effect } from "effect"
import { toHex } from "../../core/crypto.ts"
import { childrenOf, traceTree, type LayerTrace } from "../../core/market/bisection.ts"
import type { MarketContext } from "./context.ts"
import { encodeLayerAnswer, encodeMarketMessage, MARKET_TOPIC, TRACE_TOPIC, type MarketMessage } from "./wire.ts"

export type TraceQuery = Extract<MarketMessage, { t: "trace-query" | "layer-query" }>

/** Answer `q` from `from` out of `trace` (undefined: the note's trace is not held). */
export const answerTraceQuery = (ctx: Pick<MarketContext, "run" | "network">, from: string, q: TraceQuery, trace: LayerTrace | undefined): void => {
  const reply = (m: MarketMessage) => ctx.run(Effect.ignore(ctx.network.send(from, MARKET_TOPIC, encodeMarketMessage(m))))
  if (trace === undefined) return reply({ v: 1, t: "trace-none", job: q.job, note: q.note, nonce: q.nonce })
  if (q.t === "layer-query") {
    if (q.layer >= trace.hashes.length) return
    const bytes = encodeLayerAnswer({ job: q.job, note: q.note, nonce: q.nonce, layer: q.layer, data: trace.activation(q.layer) })
    if (bytes !== undefined) ctx.run(Effect.ignore(ctx.network.send(from, TRACE_TOPIC, bytes)))
    return
  }
  const c = childrenOf(traceTree(trace.hashes), q.level, q.index)
  if (c !== undefined) reply({ v: 1, t: "trace-answer", job: q.job, note: q.note, nonce: q.nonce, left: toHex(c.left), right: toHex(c.right) })
}
