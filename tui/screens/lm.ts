/** The language model: the block ranges this node serves (sessions, tokens, tokens per second, billed) and its paid generations. */
import { esc, fit, tokensText } from "../format.ts"
import { generationRate } from "../lm-model.ts"
import type { ViewModel } from "../model.ts"
import type { ScreenView } from "./view.ts"

const dai = (v: bigint | undefined): string => (v === undefined ? "—" : tokensText(v, 4))
const rate = (r: number | undefined): string => (r === undefined ? "—" : r.toFixed(1))

/** Language-model screen content. */
export const lmScreen = (m: ViewModel, view: ScreenView): string => {
  const { ranges, generations } = m.lm
  const lines = [`{bold}Language model{/bold}   ${esc(`serving ${ranges.length === 0 ? "no blocks (dai provider start --lm-blocks 0-1 registers a range)" : ranges.map((r) => `blocks ${r.from}-${r.to}${r.server === undefined ? "" : ` on ${r.server}`}`).join(", ")}`)}`, ""]
  lines.push(`{bold}${esc(`${fit("blocks", 8)} ${fit("server", 8)} ${fit("sessions", 8, "right")} ${fit("tokens", 8, "right")} ${fit("tok/s", 7, "right")} ${fit("billed", 8, "right")} ${fit("in notes", 9, "right")}`)}{/bold}`)
  if (ranges.length === 0) lines.push("{gray-fg}—{/gray-fg}")
  for (const r of ranges) {
    lines.push(esc(`${fit(`${r.from}-${r.to}`, 8)} ${fit(r.server ?? "this", 8)} ${fit(String(r.sessions), 8, "right")} ${fit(String(r.served), 8, "right")} ${fit(rate(r.perSecond), 7, "right")} ${fit(String(r.billed), 8, "right")} ${fit(String(r.delivered), 9, "right")}`))
  }
  lines.push("", `{bold}${esc(`${fit("generation", 16)} ${fit("state", 8)} ${fit("tokens", 7, "right")} ${fit("tok/s", 7, "right")} ${fit("DAI/token", 10, "right")} ${fit("paid", 9, "right")} ${fit("route", Math.max(8, view.width - 64))}`)}{/bold}`)
  const room = Math.max(1, view.height - lines.length - 2)
  const recent = generations.slice(-room).reverse()
  if (recent.length === 0) lines.push("{gray-fg}no generation yet (POST /generate, dai chat){/gray-fg}")
  for (const g of recent) {
    const text = `${fit(g.id, 16)} ${fit(g.state, 8)} ${fit(String(g.tokens), 7, "right")} ${fit(rate(generationRate(g)), 7, "right")} ${fit(dai(g.cost), 10, "right")} ${fit(dai(g.paid), 9, "right")} ${fit(g.route.join(" → "), Math.max(8, view.width - 64))}`
    lines.push(g.state === "failed" ? `{red-fg}${esc(text)}{/red-fg}` : g.state === "running" ? `{green-fg}${esc(text)}{/green-fg}` : esc(text))
  }
  const last = generations.at(-1)
  if (last !== undefined && last.text !== "") lines.push("", `{gray-fg}${esc(last.text.replace(/\s+/g, " ").slice(-Math.max(10, view.width - 2)))}{/gray-fg}`)
  return lines.slice(0, Math.max(1, view.height)).join("\n")
}
