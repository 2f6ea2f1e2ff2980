/** Training: the current round, our score, ε, and accuracy and loss over rounds as charts. */
import { fractionRange, lineChart } from "../chart.ts"
import { bar, fixed, int, pct } from "../format.ts"
import type { ViewModel } from "../model.ts"
import { items } from "../ring.ts"
import type { ScreenView } from "./view.ts"

/** Training screen content. */
export const trainingScreen = (m: ViewModel, view: ScreenView): string => {
  const t = m.training
  const history = items(t.history)
  const latest = history.at(-1)
  const head = [
    `{bold}Round{/bold} ${int(t.round)} ${t.state}   ${t.cohort === undefined ? "" : `${bar(t.received ?? 0, t.cohort, 20)} ${int(t.received)}/${t.cohort} updates`}`.trimEnd(),
    `{bold}My score{/bold} ${fixed(t.myScore, 3)}   {bold}ε{/bold} ${t.epsilon === undefined ? "— (DP off)" : `${t.epsilon.toFixed(2)}${t.delta === undefined ? "" : ` (δ=${t.delta.toExponential(0)})`}`}`,
    `{bold}Last round{/bold} accuracy ${pct(latest?.accuracy)}   loss ${fixed(latest?.loss, 4)}   rounds ${history.length}`,
    "",
  ]
  if (history.length === 0) return [...head, "{gray-fg}no completed round yet{/gray-fg}"].join("\n")
  const chartH = Math.max(3, view.height - head.length - 4)
  const half = Math.floor((view.width - 1) / 2)
  const accuracy = history.map((p) => p.accuracy)
  // The x axis is the round; accuracy's y axis is its own range (a model at 0.90–0.92 is not a flat line at the top).
  const xLabels = history.map((p) => `round ${p.round}`)
  const acc = lineChart(accuracy, { width: half, height: chartH, glyph: "*", ...fractionRange(accuracy), digits: 2, xLabels, stretch: true })
  const loss = lineChart(history.map((p) => p.loss), { width: half, height: chartH, glyph: "o", digits: 3, xLabels, stretch: true })
  const titles = `${"{bold}accuracy{/bold}".padEnd(half + 13)} {bold}loss{/bold}`
  const body = acc.map((l, i) => `${l.padEnd(half)} ${loss[i] ?? ""}`)
  return [...head, titles, ...body].join("\n")
}
