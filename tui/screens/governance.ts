/** Governance: proposals with their tallies; the selected one is what `v` votes on and `x` executes. */
import { esc, fit, votesText } from "../format.ts"
import type { ProposalRow, ViewModel } from "../model.ts"
import type { ScreenView } from "./view.ts"

/** Share of `part` in `whole` as "66.7%" (— when nobody voted). */
const share = (part: bigint, whole: bigint): string => (whole === 0n ? "—" : `${(Number((part * 1000n) / whole) / 10).toFixed(1)}%`)

/** The proposal the selection points at (clamped), if any. */
export const selectedProposal = (m: ViewModel, selected: number): ProposalRow | undefined =>
  m.proposals.length === 0 ? undefined : m.proposals[Math.max(0, Math.min(selected, m.proposals.length - 1))]

/** Governance screen content. */
export const governanceScreen = (m: ViewModel, view: ScreenView): string => {
  if (m.proposals.length === 0) return "{bold}Proposals{/bold}\n{gray-fg}no proposals yet (p: propose a parameter change){/gray-fg}"
  const sel = Math.max(0, Math.min(view.selected, m.proposals.length - 1))
  // Abstentions have their column: they count toward quorum, never toward yes% (for of for + against).
  const titleW = Math.max(10, view.width - 52)
  const header = `  ${fit("id", 3)} ${fit("title", titleW)} ${fit("state", 9)} ${fit("for", 7, "right")} ${fit("against", 7, "right")} ${fit("abstain", 7, "right")} ${fit("yes%", 6, "right")} ${fit("mine", 7)}`
  // Keep the selection in view: show a window of rows around it.
  const rows = Math.max(1, view.height - 5)
  const start = Math.max(0, Math.min(sel - Math.floor(rows / 2), m.proposals.length - rows))
  const lines = m.proposals.slice(start, start + rows).map((p, k) => {
    const i = start + k
    const cast = p.forVotes + p.againstVotes
    const text = `${i === sel ? "> " : "  "}${fit(String(p.id), 3)} ${fit(p.title, titleW)} ${fit(p.state, 9)} ${fit(votesText(p.forVotes), 7, "right")} ${fit(votesText(p.againstVotes), 7, "right")} ${fit(votesText(p.abstainVotes), 7, "right")} ${fit(share(p.forVotes, cast), 6, "right")} ${fit(p.myVote ?? "", 7)}`
    return i === sel ? `{inverse}${esc(text)}{/inverse}` : esc(text)
  })
  const chosen = m.proposals[sel]!
  return [
    `{bold}${header}{/bold}`,
    ...lines,
    "",
    esc(fit(`selected: ${chosen.id} ${chosen.title}`, view.width)),
    "{gray-fg}tallies: DAI of stake (linear votes) or √DAI (quadratic); ↑/↓ select, v vote, p propose, x execute{/gray-fg}",
  ].join("\n")
}
