/**
 * Progress lines of a running node, from its telemetry: one line per committed block, and a
 * warning line for what an operator must look at (evidence, slashes, refused signatures, errors).
 */
import type { TelemetryEvent } from "../services/telemetry.ts"
import type { RunningNode } from "./run-node.ts"

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
}

/** The progress line of a committed block. */
export const committedLine = (e: TelemetryEvent, peers: number): string =>
  `${e.node} height ${String(e.data["height"])} round ${String(e.data["round"])} peers ${peers} txs ${String(e.data["txs"])} hash ${String(e.data["hash"])}`

/** Print `node`'s progress on `sink` until the returned function is called. */
export const attachProgress = (node: RunningNode, sink: LineSink): (() => void) =>
  node.telemetry.subscribe((e) => {
    if (e.kind === "block.committed") return sink.out(committedLine(e, node.transport.node.getPeers().length))
    const warn = WARNINGS[e.kind]
    if (warn !== undefined) sink.err(`${e.node} ${warn(e.data)}`)
  })
