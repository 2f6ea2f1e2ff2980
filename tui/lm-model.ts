/**
 * The language-model part of the TUI's view model, from our node's `lm.*` events: the block ranges it
 * serves (`lm.stage.stats` every few seconds: open sessions, tokens served, billed and delivered in
 * debit notes; tokens per second from two reports), and its generations (`lm.generate.*`: tokens, tokens
 * per second, cost per token, what was paid). Pure and bounded; a malformed field reads as missing.
 */
import { amount, count, str } from "./fields.ts"

export const LM_LIMITS = { ranges: 32, generations: 20, text: 400 } as const

export interface ServedRangeRow {
  readonly from: number
  readonly to: number
  /** The node serving it when the report is relayed from another (the devnet's stage nodes on node0's screen); undefined: this node. */
  readonly server: string | undefined
  readonly sessions: number
  readonly served: number
  readonly billed: number
  readonly delivered: number
  /** Tokens served per second between the last two reports (undefined after the first). */
  readonly perSecond: number | undefined
  readonly at: number
}

export interface GenerationRow {
  readonly id: string
  readonly state: "running" | "done" | "failed"
  readonly startedAt: number
  readonly lastAt: number
  readonly tokens: number
  /** Cost of one token, all stages (base units). */
  readonly cost: bigint | undefined
  readonly paid: bigint | undefined
  /** The route: `from-to@peer` per stage. */
  readonly route: readonly string[]
  /** The tail of its text. */
  readonly text: string
  readonly reason: string | undefined
}

export interface LmView {
  readonly ranges: readonly ServedRangeRow[]
  /** Newest last. */
  readonly generations: readonly GenerationRow[]
}

export const initialLm: LmView = { ranges: [], generations: [] }

type Data = Readonly<Record<string, unknown>>

/** Tokens per second of a generation: the tokens after its first over the time from its first to its last. */
export const generationRate = (g: GenerationRow): number | undefined =>
  g.tokens < 2 || g.lastAt <= g.startedAt ? undefined : ((g.tokens - 1) * 1000) / (g.lastAt - g.startedAt)

const updateGeneration = (v: LmView, id: string, at: number, f: (g: GenerationRow) => GenerationRow): LmView => {
  const i = v.generations.findIndex((g) => g.id === id)
  const base: GenerationRow = i >= 0 ? v.generations[i]! : { id, state: "running", startedAt: at, lastAt: at, tokens: 0, cost: undefined, paid: undefined, route: [], text: "", reason: undefined }
  const next = f(base)
  const rest = v.generations.filter((g) => g.id !== id)
  return { ...v, generations: i >= 0 ? v.generations.map((g) => (g.id === id ? next : g)) : [...rest, next].slice(-LM_LIMITS.generations) }
}

/** The view after one `lm.*` event of our node (others are ignored). */
export const reduceLm = (v: LmView, kind: string, at: number, d: Data): LmView => {
  if (kind === "lm.stage.stats") {
    const from = count(d, "from"), to = count(d, "to"), server = str(d, "server")
    if (from === undefined || to === undefined) return v
    const was = v.ranges.find((r) => r.from === from && r.to === to && r.server === server)
    const served = count(d, "served") ?? 0
    const row: ServedRangeRow = {
      from, to, server, sessions: count(d, "sessions") ?? 0, served, billed: count(d, "billed") ?? 0, delivered: count(d, "delivered") ?? 0, at,
      perSecond: was === undefined || at <= was.at ? undefined : (Math.max(0, served - was.served) * 1000) / (at - was.at),
    }
    const ranges = was === undefined ? [...v.ranges, row].slice(0, LM_LIMITS.ranges) : v.ranges.map((r) => (r === was ? row : r))
    return { ...v, ranges: [...ranges].sort((a, b) => a.from - b.from || (a.server ?? "").localeCompare(b.server ?? "")) }
  }
  if (!kind.startsWith("lm.generate.")) return v
  const id = str(d, "id")
  if (id === undefined) return v
  switch (kind) {
    case "lm.generate.started":
      return updateGeneration(v, id, at, (g) => ({ ...g, startedAt: at, lastAt: at }))
    case "lm.generate.route": {
      const stages = Array.isArray(d["stages"]) ? (d["stages"] as unknown[]) : []
      const route = stages.flatMap((s) => {
        const r = typeof s === "object" && s !== null ? (s as Data) : undefined
        return r === undefined ? [] : [`${count(r, "from") ?? "?"}-${count(r, "to") ?? "?"}@${str(r, "peer") ?? "?"}`]
      })
      return updateGeneration(v, id, at, (g) => ({ ...g, route: route.slice(0, 16) }))
    }
    case "lm.generate.token":
      return updateGeneration(v, id, at, (g) => ({
        ...g, tokens: g.tokens + 1, lastAt: at, cost: amount(d, "cost") ?? g.cost, text: (g.text + (str(d, "text") ?? "")).slice(-LM_LIMITS.text),
        ...(g.tokens === 0 ? { startedAt: at } : {}),
      }))
    case "lm.generate.done":
      return updateGeneration(v, id, at, (g) => ({ ...g, state: "done", paid: amount(d, "paid"), tokens: count(d, "tokens") ?? g.tokens }))
    case "lm.generate.failed":
      return updateGeneration(v, id, at, (g) => ({ ...g, state: "failed", paid: amount(d, "paid"), reason: str(d, "reason") }))
    default:
      return v
  }
}
