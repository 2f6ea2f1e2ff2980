/** Reading a trace back: filters, a one-line rendering per event, and a summary. */
import { createHash } from "node:crypto"
import { formatDuration } from "../../runtime/core/duration.ts"
import { parseTraceLine, type TraceEvent } from "../../runtime/services/trace.ts"

export interface TraceFilter {
  readonly kinds?: readonly string[]
  readonly nodes?: readonly string[]
  readonly from?: number
  readonly to?: number
}

export const matches = (e: TraceEvent, f: TraceFilter): boolean =>
  (f.kinds === undefined || f.kinds.some((k) => e.kind === k || e.kind.startsWith(`${k}.`))) &&
  (f.nodes === undefined || (e.node !== undefined && f.nodes.includes(e.node))) &&
  (f.from === undefined || e.t >= f.from) &&
  (f.to === undefined || e.t <= f.to)

const show = (v: unknown): string => {
  if (typeof v === "bigint") return v.toString()
  if (typeof v === "string") return v.length > 18 && v.startsWith("0x") ? `${v.slice(0, 10)}…` : v
  if (Array.isArray(v)) return `[${v.map(show).join(",")}]`
  if (v instanceof Uint8Array) return `${v.length}B`
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${k}:${show(x)}`).join(" ")}}`
  return String(v)
}

/** `   12.345s  v3  block.committed  height=5 hash=0x1234…` */
export const renderEvent = (e: TraceEvent): string => {
  const { t, kind, node, ...rest } = e as TraceEvent & Record<string, unknown>
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${show(v)}`).join(" ")
  return `${(t / 1000).toFixed(3).padStart(10)}s  ${(node ?? "-").padEnd(6)}  ${kind.padEnd(18)}  ${fields}`
}

export interface TraceSummary {
  readonly events: number
  readonly start: number
  readonly end: number
  readonly kinds: ReadonlyArray<readonly [string, number]>
  /** SHA-256 of the lines, each followed by "\n": the run's `traceHash`. */
  readonly hash: string
}

/** Parse every line (errors name the file and line) and summarise. */
export const readTrace = (text: string, file: string): { events: TraceEvent[]; summary: TraceSummary } => {
  const lines = text.split("\n").filter((l) => l.length > 0)
  const hash = createHash("sha256")
  const events = lines.map((l, i) => {
    hash.update(`${l}\n`)
    return parseTraceLine(l, `${file}:${i + 1}`)
  })
  const kinds = new Map<string, number>()
  for (const e of events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1)
  return {
    events,
    summary: {
      events: events.length,
      start: events[0]?.t ?? 0,
      end: events.at(-1)?.t ?? 0,
      kinds: [...kinds.entries()].sort((a, b) => b[1] - a[1]),
      hash: hash.digest("hex"),
    },
  }
}

export const formatSummary = (file: string, s: TraceSummary): string =>
  [
    `${file}: ${s.events} events from ${formatDuration(s.start)} to ${(s.end / 1000).toFixed(3)}s of virtual time`,
    `trace hash ${s.hash}`,
    `kinds: ${s.kinds.map(([k, n]) => `${k} ${n}`).join(", ")}`,
  ].join("\n")
