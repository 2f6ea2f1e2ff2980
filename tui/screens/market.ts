/** The compute market: totals, providers (price, queue, bond, earnings) and the newest jobs. */
import { esc, fit, tokensText } from "../format.ts"
import { MARKET_JOB_STATES } from "../market-model.ts"
import type { ViewModel } from "../model.ts"
import type { ScreenView } from "./view.ts"

const dai = (v: bigint | undefined, decimals = 2): string => (v === undefined ? "—" : `${tokensText(v, decimals)}`)

/** Market screen content. */
export const marketScreen = (m: ViewModel, view: ScreenView): string => {
  const k = m.market
  if (k === undefined) return "{bold}Market{/bold}\n{gray-fg}no market report yet (the node reports its ledger's market after each block that changes it){/gray-fg}"
  const jobs = MARKET_JOB_STATES.map((s) => `${s} ${k.jobs[s] ?? 0}`).join(" · ")
  const lines = [
    `{bold}Market{/bold}   ${esc(`providers ${k.activeProviders ?? "—"} · escrow ${dai(k.escrow)} · bonds ${dai(k.bonds, 0)} DAI`)}`,
    `{bold}Jobs{/bold}     ${esc(jobs)}`,
    `{bold}Fees{/bold}     ${esc(`burnt ${dai(k.feeBurnt, 4)} · to stakers ${dai(k.feeToStakers, 4)} · paid to providers ${dai(k.paid)} DAI`)}`,
    "",
  ]
  const nameW = Math.max(8, view.width - 58)
  lines.push(`{bold}${esc(`${fit("provider", nameW)} ${fit("kinds", 14)} ${fit("price", 9, "right")} ${fit("queue", 7, "right")} ${fit("bond", 9, "right")} ${fit("earned", 10, "right")}`)}{/bold}`)
  // Half the rows left for providers, the rest for jobs.
  const room = Math.max(2, view.height - lines.length - 3)
  const providerRows = Math.max(1, Math.min(k.providers.length, Math.ceil(room / 2)))
  if (k.providers.length === 0) lines.push("{gray-fg}no providers (dai provider start registers one){/gray-fg}")
  for (const p of k.providers.slice(0, providerRows)) {
    const me = p.address === m.self
    const text = `${fit(`${me ? "*" : ""}${p.address}`, nameW)} ${fit(p.kinds.join(","), 14)} ${fit(dai(p.pricePerUnit, 4), 9, "right")} ${fit(`${p.openJobs ?? "—"}/${p.capacity ?? "—"}`, 7, "right")} ${fit(dai(p.bond, 0), 9, "right")} ${fit(dai(p.earned), 10, "right")}`
    lines.push(p.retired ? `{gray-fg}${esc(text)}{/gray-fg}` : me ? `{green-fg}${esc(text)}{/green-fg}` : esc(text))
  }
  if (k.providers.length > providerRows) lines.push(`{gray-fg}… ${k.providers.length - providerRows} more{/gray-fg}`)
  lines.push("", `{bold}${esc(`${fit("job", 5, "right")} ${fit("kind", 14)} ${fit("state", 9)} ${fit("done/units", 12, "right")} ${fit("price", 9, "right")} ${fit("provider", Math.max(8, view.width - 55))}`)}{/bold}`)
  const jobRows = Math.max(1, view.height - lines.length)
  const recent = k.recent.slice(-jobRows).reverse()
  if (recent.length === 0) lines.push("{gray-fg}no jobs yet (dai job submit posts one){/gray-fg}")
  for (const j of recent) {
    const price = j.provider === undefined || j.pricePerUnit === 0n ? `≤${dai(j.maxPricePerUnit, 4)}` : dai(j.pricePerUnit, 4)
    const text = `${fit(String(j.id), 5, "right")} ${fit(j.kind, 14)} ${fit(j.state, 9)} ${fit(`${j.delivered ?? "—"}/${j.units ?? "—"}`, 12, "right")} ${fit(price, 9, "right")} ${fit(j.provider ?? "—", Math.max(8, view.width - 55))}`
    lines.push(j.state === "disputed" ? `{yellow-fg}${esc(text)}{/yellow-fg}` : j.state === "expired" ? `{gray-fg}${esc(text)}{/gray-fg}` : esc(text))
  }
  return lines.slice(0, Math.max(1, view.height)).join("\n")
}
