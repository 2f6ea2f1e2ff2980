/** Overview: where the chain is, our node's position in it, and the latest log lines. */
import { items } from "../ring.ts"
import { clock, esc, fit, int, pct, short, tokensText } from "../format.ts"
import { nameOf, type ViewModel } from "../model.ts"
import { logLine } from "./log.ts"
import type { ScreenView } from "./view.ts"

const row = (label: string, value: string): string => `{bold}${label.padEnd(12)}{/bold}${value}`

/** Overview screen content. */
export const overviewScreen = (m: ViewModel, view: ScreenView): string => {
  const jailed = m.validators.filter((v) => v.jailed).length
  const active = m.proposals.filter((p) => p.state.toLowerCase() === "active").length
  const t = m.training
  const lastBlock = m.lastBlock === undefined
    ? "—"
    : `${short(m.lastBlock.hash)} by ${m.lastBlock.proposer === undefined ? "?" : esc(nameOf(m, m.lastBlock.proposer))}, ${int(m.lastBlock.txs)} txs`
  const lastRound = items(t.history, 1)[0]
  const lines = [
    row("Node", `${esc(m.self ?? "—")} ${m.address === undefined ? "" : short(m.address, 12)}`.trimEnd() + `   {gray-fg}t=${clock(m.now)}, ${m.events} events{/gray-fg}`),
    ...(view.info ?? []).map(([label, value]) => row(esc(label), esc(value))),
    row("Height", `{bold}${m.height}{/bold}   round ${int(m.round)}   step ${esc(m.step ?? "—")}`),
    row("Peers", int(m.peers)),
    row("Last block", lastBlock),
    row("My stake", `${tokensText(m.myStake)} DAI   rewards ${tokensText(m.rewards)} DAI   APR ${pct(m.apr)}`),
    row("Positions", m.positions.length === 0 ? "—" : esc(m.positions.map((p) => `#${p.id} ${p.state}`).join("; "))),
    row("Validators", `${m.validators.length}${jailed > 0 ? ` ({red-fg}${jailed} jailed{/red-fg})` : ""}   proposals ${m.proposals.length} (${active} active)`),
    row("Training", t.round === undefined
      ? "no round yet"
      : `round ${t.round} ${t.state}, ${t.cohort === undefined ? int(t.received) : `${int(t.received)}/${t.cohort}`} updates${lastRound?.accuracy !== undefined ? `, accuracy ${pct(lastRound.accuracy)}` : ""}`),
  ]
  const room = view.height - lines.length - 2
  if (room > 0) {
    lines.push("", "{bold}Recent{/bold}")
    for (const l of items(m.log, room)) lines.push(logLine(l, view.width))
  }
  return lines.map((l) => (l.includes("{") ? l : fit(l, view.width))).join("\n")
}
