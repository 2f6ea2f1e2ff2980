/**
 * Progress lines of a running node, from its telemetry: one line per committed block, per
 * committed training round, per change of a stake position or a proposal, per change of the market's
 * settled jobs, and a warning line for what an operator must look at (evidence,
 * slashes, refused signatures, aborted rounds, errors).
 */
import { formatTokens } from "../runtime/core/units.ts"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import type { RunningNode } from "../runtime/node/run-node.ts"

/** Where lines go (the CLI's Io). */
export interface LineSink {
  out(text: string): void
  err(text: string): void
}

export const WARNINGS: Readonly<Record<string, (d: Readonly<Record<string, unknown>>) => string>> = {
  "evidence.found": (d) => `evidence: ${String(d["validator"])} signed two votes at ${String(d["height"])}/${String(d["round"])}`,
  "stake.slashed": (d) => `slashed: ${String(d["pool"])} for ${String(d["infraction"])} (${String(d["amount"])} base units${d["tombstoned"] === true ? ", tombstoned" : ""})`,
  "protect.refused": (d) => `slashing protection refused to sign: ${String(d["reason"])}`,
  "node.error": (d) => `error in ${String(d["action"])}: ${String(d["error"])}`,
  "training.round.aborted": (d) => `training round ${String(d["round"])} aborted: ${String(d["reason"])}`,
}

/** The progress line of a training round the chain committed (undefined for any other event, and for the later reveal of its scores). */
export const trainingLine = (e: TelemetryEvent): string | undefined => {
  if (e.kind !== "training.round.completed" || e.data["revealed"] === true) return undefined
  const accuracy = typeof e.data["accuracy"] === "number" ? e.data["accuracy"].toFixed(4) : "?"
  if (e.data["model"] === "gpt") {
    // The language model's fine-tuning: its measure is the validation loss the validators re-measured.
    const loss = typeof e.data["loss"] === "number" ? `${e.data["loss"].toFixed(4)} nats/byte` : "?"
    return `${e.node} training round ${String(e.data["round"])} committed at height ${String(e.data["height"])} by ${String(e.data["coordinator"])}: validation loss ${loss}, next-byte accuracy ${accuracy}, ${String(e.data["received"])} trainers`
  }
  return `${e.node} training round ${String(e.data["round"])} committed at height ${String(e.data["height"])} by ${String(e.data["coordinator"])}: accuracy ${accuracy}, ${String(e.data["received"])} trainers`
}

/**
 * The progress line of a change the node's machines report: one of the operator's stake positions
 * (`stake.position` of a position) or a governance proposal; undefined for anything else.
 */
export const stateLine = (e: TelemetryEvent): string | undefined => {
  const d = e.data
  if (e.kind === "stake.position" && d["position"] !== undefined) return `${e.node} stake position ${String(d["position"])} in ${String(d["pool"])}: ${String(d["state"])}`
  if (e.kind === "governance.proposal") {
    return `${e.node} proposal ${String(d["id"])} ${String(d["state"])}: ${String(d["title"])} (for ${String(d["forVotes"])}, against ${String(d["againstVotes"])})`
  }
  if (e.kind === "governance.vote") return `${e.node} voted ${String(d["choice"])} on proposal ${String(d["id"])} with ${String(d["votes"])} votes`
  return undefined
}

/** What a market line says: jobs settled, units paid, fees burnt and to stakers (base units as decimal strings). */
export interface MarketSummary {
  readonly settled: number
  readonly units: string
  readonly feeBurnt: string
  readonly feeToStakers: string
}

/** The market summary in a `market` telemetry snapshot (runtime/api/market-api.ts), undefined for any other event. */
export const marketSummary = (e: TelemetryEvent): MarketSummary | undefined => {
  if (e.kind !== "market") return undefined
  const t = e.data["totals"] as { jobs?: { settled?: unknown }; paidUnits?: unknown; feeBurnt?: unknown; feeToStakers?: unknown } | undefined
  if (t === undefined || typeof t !== "object") return undefined
  const amount = (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) ? v : "0")
  return { settled: Number(t.jobs?.settled ?? 0), units: amount(t.paidUnits), feeBurnt: amount(t.feeBurnt), feeToStakers: amount(t.feeToStakers) }
}

const dai = (baseUnits: string): string => `${formatTokens(BigInt(baseUnits), 4)} DAI`

/** `market: 5 jobs settled, 120 units, burnt 0.6 DAI, to stakers 1.4 DAI`. */
export const marketLine = (m: MarketSummary): string =>
  `market: ${m.settled} job${m.settled === 1 ? "" : "s"} settled, ${m.units} units, burnt ${dai(m.feeBurnt)}, to stakers ${dai(m.feeToStakers)}`

/**
 * The market's progress lines from a node's telemetry: a line when the jobs settled change (not at
 * every snapshot: a busy market changes every block); `last()` is the newest summary seen.
 */
export const marketProgress = () => {
  let last: MarketSummary | undefined
  return {
    line: (e: TelemetryEvent): string | undefined => {
      const m = marketSummary(e)
      if (m === undefined) return undefined
      const changed = last === undefined || m.settled !== last.settled
      last = m
      return changed && m.settled > 0 ? marketLine(m) : undefined
    },
    last: () => last,
  }
}

/** The progress line of a committed block. */
export const committedLine = (e: TelemetryEvent, peers: number): string =>
  `${e.node} height ${String(e.data["height"])} round ${String(e.data["round"])} peers ${peers} txs ${String(e.data["txs"])} hash ${String(e.data["hash"])}`

/** How often a node that commits no block says what it waits for. */
export const STALL_REPORT_MS = 15_000

/** The line of a node that has committed nothing for `forMs`: what consensus waits for, and the peers it reaches of those it expects. */
export const stallLine = (name: string, forMs: number, status: { readonly peers: number; readonly waiting: { readonly line: string; readonly expectedPeers: number } | null }): string =>
  `${name} no block for ${Math.round(forMs / 1000)}s: ${status.waiting?.line ?? "consensus has not started"}; peers ${status.peers} of ${status.waiting?.expectedPeers ?? "?"} validators`

/**
 * Watch `node` for stalls: while no block commits for `everyMs`, `onStall` gets the line saying what
 * consensus waits for (every `everyMs`), and `undefined` once a block commits again. Returns the stop.
 */
export const watchStalls = (node: RunningNode, onStall: (line: string | undefined) => void, everyMs = STALL_REPORT_MS): (() => void) => {
  let lastBlockAt = Date.now()
  let stalled = false
  const off = node.telemetry.subscribe((e) => {
    if (e.kind !== "block.committed") return
    lastBlockAt = Date.now()
    if (stalled) {
      stalled = false
      onStall(undefined)
    }
  })
  const timer = setInterval(() => {
    const quiet = Date.now() - lastBlockAt
    if (quiet < everyMs) return
    void Promise.resolve(node.api.status()).then((s) => {
      if (Date.now() - lastBlockAt < everyMs) return // a block came in meanwhile
      stalled = true
      onStall(stallLine(node.name, quiet, s))
    }, () => undefined)
  }, everyMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    off()
  }
}

/**
 * Print `node`'s progress on `sink` until the returned function is called; while no block commits,
 * say every `stallEveryMs` what consensus waits for (a halted chain says why instead of going quiet).
 */
export const attachProgress = (node: RunningNode, sink: LineSink, stallEveryMs = STALL_REPORT_MS): (() => void) => {
  const market = marketProgress()
  const off = node.telemetry.subscribe((e) => {
    if (e.kind === "block.committed") return sink.out(committedLine(e, node.transport.node.getPeers().length))
    const line = trainingLine(e) ?? stateLine(e) ?? market.line(e)
    if (line !== undefined) return sink.out(line)
    const warn = WARNINGS[e.kind]
    if (warn !== undefined) sink.err(`${e.node} ${warn(e.data)}`)
  })
  const stopStalls = watchStalls(node, (line) => {
    if (line !== undefined) sink.err(line)
  }, stallEveryMs)
  return () => {
    stopStalls()
    off()
  }
}
