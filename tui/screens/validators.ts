/** Validators: one row each, by voting power. */
import { compact, esc, fit, fixed, int, tokensText } from "../format.ts"
import type { ViewModel } from "../model.ts"
import type { ScreenView } from "./view.ts"

/** Validators screen content. */
export const validatorsScreen = (m: ViewModel, view: ScreenView): string => {
  const total = m.validators.reduce((s, v) => s + (v.power ?? 0), 0)
  const nameW = Math.max(8, view.width - 63)
  const header = `${fit("validator", nameW)} ${fit("power", 7, "right")} ${fit("share", 6, "right")} ${fit("stake", 13, "right")} ${fit("contrib", 7, "right")} ${fit("missed", 6, "right")} ${fit("prop", 4, "right")} ${fit("status", 13)}`
  if (m.validators.length === 0) return `{bold}${header}{/bold}\n{gray-fg}no validators reported yet{/gray-fg}`
  const rows = m.validators.slice(0, Math.max(0, view.height - 2)).map((v) => {
    const status = v.jailed ? "{red-fg}jailed{/red-fg}" : "{green-fg}active{/green-fg}"
    const slashed = v.slashed > 0n ? ` -${compact(v.slashed / 10n ** 18n)}` : ""
    const line = `${fit(v.name ?? v.id, nameW)} ${fit(v.power === undefined ? "—" : compactNumber(v.power), 7, "right")} ${fit(v.power === undefined || total === 0 ? "—" : `${((v.power / total) * 100).toFixed(1)}%`, 6, "right")} ${fit(tokensText(v.stake, 0), 13, "right")} ${fit(fixed(v.contribution, 3), 7, "right")} ${fit(int(v.missed), 6, "right")} ${fit(String(v.proposed), 4, "right")} `
    return `${esc(line)}${status}${esc(slashed)}`
  })
  const more = m.validators.length > rows.length ? [`{gray-fg}… ${m.validators.length - rows.length} more{/gray-fg}`] : []
  // Scores are committed in one epoch, revealed in the next and counted in the set two epochs on
  // (runtime/core/app/training-ledger.ts): say so while every row still reads 0.
  const noContribution = m.validators.every((v) => (v.contribution ?? 0) === 0)
  const hint = noContribution && view.height >= rows.length + more.length + 4
    ? ["", `{gray-fg}${esc(fit("contrib: training scores count in voting power two epochs after they are", view.width).trimEnd())}`,
      `${esc(fit("committed, so it reads 0.000 for a new network's first two epochs", view.width).trimEnd())}{/gray-fg}`]
    : []
  return [`{bold}${header}{/bold}`, ...rows, ...more, ...hint].join("\n")
}

const compactNumber = (n: number): string => (Number.isInteger(n) ? compact(BigInt(n)) : n.toFixed(2))
