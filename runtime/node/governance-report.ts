/**
 * Governance as telemetry (docs/telemetry.md): after each block this node commits, it reads the
 * proposals from the chain (through the same port the API uses) and reports each one whose state or
 * tallies changed as `governance.proposal`. Proposals live on the chain every node agrees on, so a
 * read per block, not per message, is enough; one read runs at a time, and a failed read is retried
 * at the next block.
 */
import type { GovernancePort } from "../api/governance-port.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import type { Emit } from "./block-report.ts"

/** Start reporting; returns the function that stops it. */
export const reportGovernance = (
  governance: GovernancePort,
  subscribe: (listener: (e: TelemetryEvent) => void) => () => void,
  emit: Emit,
): (() => void) => {
  const seen = new Map<number, string>()
  let reading = false
  let stopped = false
  const read = async () => {
    reading = true
    try {
      for (const p of await governance.proposals()) {
        if (stopped) return
        const a = p.action
        const title = a.kind === "param" ? `${a.name} = ${String(a.value)}` : a.kind === "amendment" ? `bounds of ${a.name}: [${a.min}, ${a.max}]` : `spend ${a.amount} to ${a.to}`
        const data = {
          id: p.id, title, state: p.state, proposer: p.proposer, forVotes: p.forVotes, againstVotes: p.againstVotes, abstainVotes: "0",
          endsAt: p.votingEnds,
        }
        const key = JSON.stringify(data)
        if (seen.get(p.id) === key) continue
        seen.set(p.id, key)
        emit("governance.proposal", data)
      }
    } catch (e) {
      emit("log", { level: "warn", message: `governance: cannot read the proposals: ${e instanceof Error ? e.message : String(e)}` })
    } finally {
      reading = false
    }
  }
  const unsubscribe = subscribe((e) => {
    if (e.kind === "block.committed" && !reading && !stopped) void read()
  })
  return () => {
    stopped = true
    unsubscribe()
  }
}
